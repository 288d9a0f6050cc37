"""What the LLM is asked to return, as pydantic models (LLM-facing, deliberately loose).

These are not the agent's types. Titles and names are plain strings here, because an LLM can
only say names; the agent re-resolves every one against the catalog and the KG and drops what
does not resolve. Validation is lenient where leniency is harmless (lists are cut to their
bound, over-long strings are cut, ids given as numbers become strings) and strict where it
matters (intents and question kinds must be known values), so that a weak model's near-miss
is used rather than thrown away.

Every list has ``maxItems`` and every string ``maxLength`` in the JSON schema: servers turn the
schema into a grammar, and unbounded arrays make small models loop until ``max_tokens``.

The ``Intent``/``ItemQuestion`` vocabularies mirror ``chatrec.agent.models``; they are repeated
here rather than imported because the agent imports this package (an import cycle otherwise),
and a test checks that they stay a subset of the agent's.
"""

from __future__ import annotations

import copy
import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

LLMIntent = Literal[
    "recommend", "refine", "ask_about", "rate", "feedback", "greeting", "thanks", "chitchat", "reset",
]
LLMItemQuestion = Literal["director", "cast", "writer", "plot", "year", "genre", "why", "general"]
Refinement = Literal["older", "newer", "lighter", "darker", "similar"]

_INTENT_SYNONYMS = {
    "recommendation": "recommend", "request": "recommend", "recommend_request": "recommend",
    "question": "ask_about", "ask": "ask_about", "info": "ask_about", "rating": "rate",
    "greet": "greeting", "hello": "greeting", "thank": "thanks", "chat": "chitchat",
    "small_talk": "chitchat", "other": "chitchat", "restart": "reset", "start_over": "reset",
}


def _cut(limit: int):
    def cut(value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        return value.strip()[:limit] if isinstance(value, str) else value
    return cut


def _trim_list(limit: int, item_chars: int):
    """None → [], a lone string → [string], and at most ``limit`` non-empty, de-duplicated
    strings of at most ``item_chars`` characters."""
    cut = _cut(item_chars)

    def trim(value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list):
            return value
        out: list[Any] = []
        for entry in value:
            if len(out) == limit:
                break   # what is past the bound is dropped unread (a looping model sends thousands)
            entry = cut(entry)
            if isinstance(entry, str) and (not entry or entry in out):
                continue
            out.append(entry)
        return out
    return trim


def _lower_choice(synonyms: dict[str, str] | None = None):
    def norm(value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower().replace(" ", "_").replace("-", "_")
            return (synonyms or {}).get(key, key)
        return value
    return norm


_LATEST_YEAR = datetime.date.today().year + 3   # announced films; later "years" are noise


def _year(value: Any) -> int | None:
    """1995, "1995", "1990s", "the 90s" → a year; anything else → None (never an error)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        year = int(value)
    else:
        match = re.search(r"\b(1[89]\d\d|20\d\d)", str(value))
        if match:
            year = int(match.group(1))
        else:
            decade = re.search(r"\b(\d0)'?s\b", str(value))
            if not decade:
                return None
            year = 1900 + int(decade.group(1))
    return year if 1870 <= year <= _LATEST_YEAR else None


def _known_refinements(value: Any) -> Any:
    """Unknown refinement words are dropped (a loose reading beats a rejected one)."""
    allowed = {"older", "newer", "lighter", "darker", "similar"}
    value = _trim_list(6, 20)(value)
    if isinstance(value, list):
        normed = [_lower_choice()(v) for v in value]
        return [v for v in normed if v in allowed][:3]
    return value


def _optional_question(value: Any) -> Any:
    if value in (None, "", "none", "null"):
        return None
    value = _lower_choice()(value)
    allowed = {"director", "cast", "writer", "plot", "year", "genre", "why", "general"}
    return value if value in allowed else "general"


Title = Annotated[str, BeforeValidator(_cut(120)), Field(max_length=120)]
Names = Annotated[list[Title], BeforeValidator(_trim_list(5, 120)), Field(max_length=5)]


class LLMReading(BaseModel):
    """One user message as the LLM understood it. Titles and names are strings as the user
    (or the LLM) spelled them; nothing here is trusted until the agent resolves it."""

    model_config = ConfigDict(extra="ignore")

    intent: Annotated[LLMIntent, BeforeValidator(_lower_choice(_INTENT_SYNONYMS))] = Field(
        description="what the user wants from this message")
    liked_titles: Names = Field(default_factory=list, description="titles the user likes")
    disliked_titles: Names = Field(default_factory=list, description="titles the user dislikes")
    seen_titles: Names = Field(default_factory=list, description="titles the user has seen")
    liked_people: Names = Field(default_factory=list,
                                description="directors/actors/writers the user wants")
    disliked_people: Names = Field(default_factory=list,
                                   description="people the user does not want")
    genres: Names = Field(default_factory=list, description="genres wanted")
    excluded_genres: Names = Field(default_factory=list, description="genres not wanted")
    keywords: Names = Field(default_factory=list, description="themes or moods wanted")
    year_min: Annotated[int | None, BeforeValidator(_year)] = Field(
        default=None, description="earliest release year wanted")
    year_max: Annotated[int | None, BeforeValidator(_year)] = Field(
        default=None, description="latest release year wanted")
    refinements: Annotated[
        list[Refinement], BeforeValidator(_known_refinements), Field(max_length=3),
    ] = Field(default_factory=list, description="older/newer/lighter/darker/similar")
    about_title: Annotated[str | None, BeforeValidator(_cut(120)), Field(max_length=120)] = Field(
        default=None, description="the title asked about or to rate, if named")
    item_question: Annotated[LLMItemQuestion | None, BeforeValidator(_optional_question)] = Field(
        default=None, description="what is asked about that title")
    query_text: Annotated[str, BeforeValidator(_cut(200)), Field(max_length=200)] = Field(
        default="", description="the need in a few words, for search")

    def mentioned_names(self) -> list[str]:
        """Every title and person string, for the agent's resolver and for logging drops."""
        return [*self.liked_titles, *self.disliked_titles, *self.seen_titles,
                *self.liked_people, *self.disliked_people,
                *([self.about_title] if self.about_title else [])]


ItemId = Annotated[str, BeforeValidator(_cut(40)), Field(max_length=40)]
Reason = Annotated[str, BeforeValidator(_cut(160)), Field(max_length=160)]


class RankedPick(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ItemId = Field(description="a candidate id, copied exactly")
    reason: Reason = Field(default="", description="why it fits, one short sentence")


class RerankResult(BaseModel):
    """The LLM's order over the candidates it was shown, best first."""

    model_config = ConfigDict(extra="ignore")

    ranking: Annotated[list[RankedPick], Field(max_length=20)] = Field(
        description="best candidates first")


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$ref``s resolved and titles dropped: smaller, and what
    grammar converters of OpenAI-compatible servers handle most reliably."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    schema.pop("description", None)   # the docstring is for developers, not worth the tokens

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            return {k: resolve(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def rerank_json_schema(candidate_ids: list[str], k: int) -> dict[str, Any]:
    """The rerank schema for one call: ids limited to the candidates shown (an ``enum``, which
    servers enforce through their grammar) and at most ``k`` picks. Validation on our side stays
    with the loose ``RerankResult``: a foreign id is discarded, not a reason to reject the rest."""
    schema = inline_schema(RerankResult)
    ranking = schema["properties"]["ranking"]
    ranking["maxItems"] = max(1, k)
    ranking["items"]["properties"]["id"]["enum"] = list(candidate_ids)
    ranking["items"]["properties"]["id"].pop("maxLength", None)
    return schema


def schema_outline(schema: dict[str, Any]) -> str:
    """A compact, human-readable outline of a JSON schema for the prompt (``name: type —
    description``), much cheaper in tokens than the schema itself."""
    lines = []
    for name, spec in schema.get("properties", {}).items():
        lines.append(f"- {name}: {_type_words(spec)}"
                     + (f" ({spec['description']})" if spec.get("description") else ""))
    return "\n".join(lines)


def _type_words(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return "one of " + "|".join(str(v) for v in spec["enum"][:12])
    if "anyOf" in spec:
        kinds = [_type_words(s) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) + " or null"
    kind = spec.get("type", "value")
    if kind == "array":
        inner = spec.get("items", {})
        inner_words = ("{" + ", ".join(inner.get("properties", {})) + "}"
                       if inner.get("type") == "object" else _type_words(inner))
        return f"list of {inner_words}, at most {spec.get('maxItems', 'a few')}"
    return str(kind)
