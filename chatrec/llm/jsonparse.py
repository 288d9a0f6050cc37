"""Getting a JSON object out of what a model said, for servers and models that do not keep to
JSON mode: code fences, prose around the object, trailing commas."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _balanced_objects(text: str):
    """Yield each top-level ``{...}`` span, scanning with string and escape awareness."""
    depth, start, in_string, escaped = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"' and depth > 0:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                yield text[start: i + 1]


def _loads(candidate: str) -> Any:
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            continue
    return None


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (fenced or bare, possibly amid prose), or None.

    Truncated JSON (an object never closed) gives None: guessing the missing part would put
    words in the model's mouth.
    """
    if not text:
        return None
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        for candidate in _balanced_objects(source):
            value = _loads(candidate)
            if isinstance(value, dict):
                return value
    return None
