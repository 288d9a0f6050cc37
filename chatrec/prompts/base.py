"""The prompt type every template builds, and the token arithmetic used to keep prompts small.

A ``Prompt`` is plain data (role, content pairs plus a name and a template version), so prompts
can be hashed for caches, logged in traces and tested without any LLM library. The LLM client
turns it into the chat-message objects of whatever back-end it drives.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class Prompt(BaseModel):
    """A rendered prompt.

    Attributes:
        name: which template made it ("understand", "rerank", "phrase", ...).
        version: the template's version; part of every cache key, so changing a template
            invalidates what was cached under the old wording.
        messages: the chat messages, system first.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    messages: tuple[Message, ...] = Field(default_factory=tuple)

    @property
    def chars(self) -> int:
        return sum(len(m.content) for m in self.messages)

    def digest(self) -> str:
        """A stable sha256 of the template name, version and every message."""
        payload = json.dumps(
            [self.name, self.version, [[m.role, m.content] for m in self.messages]],
            ensure_ascii=False, separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TokenEstimator:
    """Estimates prompt tokens from characters, calibrated against what the server reports.

    tiktoken would need a download (impossible offline) and is the wrong tokenizer for most
    OpenAI-compatible servers anyway. So prompts are sized with a chars-per-token ratio that
    starts conservative and follows the ratio seen in the server's ``usage`` (an exponential
    moving average), plus a fixed per-message overhead for the chat template.

    Attributes:
        chars_per_token: the current ratio (3.5 before any observation: English prose on
            GPT-style tokenizers is ~4, and underestimating tokens is the costly mistake).
        per_message: tokens the chat template adds per message.
    """

    def __init__(self, chars_per_token: float = 3.5, per_message: int = 5, smoothing: float = 0.3):
        self.chars_per_token = chars_per_token
        self.per_message = per_message
        self._smoothing = smoothing
        self._lock = threading.Lock()

    def estimate(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token)

    def estimate_prompt(self, prompt: Prompt) -> int:
        return sum(self.estimate(m.content) + self.per_message for m in prompt.messages)

    def chars_for(self, tokens: int) -> int:
        """How many characters fit in ``tokens`` tokens."""
        return max(0, int(tokens * self.chars_per_token))

    def observe(self, chars: int, messages: int, prompt_tokens: int) -> None:
        """Learn from one call: ``chars`` characters in ``messages`` messages cost
        ``prompt_tokens`` according to the server. Tool schemas sent beside the messages make
        the observed ratio pessimistic, which errs on the safe side."""
        content_tokens = prompt_tokens - self.per_message * messages
        if chars < 200 or content_tokens <= 0:
            return   # too small to say anything about the ratio
        observed = min(8.0, max(1.5, chars / content_tokens))
        with self._lock:
            self.chars_per_token += self._smoothing * (observed - self.chars_per_token)
