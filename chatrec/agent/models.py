"""The agent's boundary types: what a turn understood (``DialogueAct``) and what it answers
(``Reply``). Every surface (CLI, Gradio, Slack, evaluation) renders the same ``Reply``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chatrec.catalog.constraints import Constraints
from chatrec.catalog.models import Item
from chatrec.tracing import GuardVerdict, LLMCall
from kg.models import Fact

Intent = Literal[
    "recommend",      # asks for recommendations (possibly with constraints)
    "refine",         # changes the current request: older/newer/lighter, "more like the second one"
    "ask_about",      # a question about an item: who directed it, what is it about, why this
    "rate",           # "what would I rate Heat?"
    "feedback",       # "I've seen it", "not that one", "I didn't like Titanic" with no request
    "greeting",
    "thanks",
    "chitchat",       # anything else conversational
    "reset",          # "start over"
]

ItemQuestion = Literal["director", "cast", "writer", "plot", "year", "genre", "why", "general"]
FeedbackKind = Literal["liked", "disliked", "seen"]


class DialogueAct(BaseModel):
    """What one user message means, in catalog terms. Produced by the rule-based understander and,
    when an LLM is configured, merged with the LLM's reading (whose titles and names are always
    re-resolved against the catalog/KG before they get here).

    Item references are catalog item ids; attribute references are KG node ids
    ("person:christopher nolan", "genre:comedy", "keyword:time travel", "decade:1990").
    """

    intent: Intent = "chitchat"
    liked_items: list[str] = Field(default_factory=list)
    disliked_items: list[str] = Field(default_factory=list)
    seen_items: list[str] = Field(default_factory=list)
    liked_attributes: list[str] = Field(default_factory=list)
    disliked_attributes: list[str] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    # "older"/"newer"/"lighter"/"darker"/"more like <item>"
    refinements: list[str] = Field(default_factory=list)
    declined: bool = False    # "No, thanks.": the user wants nothing more for now
    # item the message is about (questions, rating, "not that one"), resolved from titles,
    # ordinals ("the second one") or pronouns ("it") against what was shown
    target_item: str | None = None
    item_question: ItemQuestion | None = None
    query_text: str = ""          # free-text need for vector retrieval ("rainy Sunday with my kids")
    ambiguous: dict[str, list[str]] = Field(default_factory=dict)  # mention → alternative item ids
    unknown_titles: list[str] = Field(default_factory=list)         # title-like spans not in catalog
    # constraints of the session that a film the user now likes does not satisfy ("a comedy",
    # then "I loved Heat"): their own example shows the constraint no longer holds as a filter
    released: list[str] = Field(default_factory=list)
    # the message carries the current request on ("more", "something else", "any others?", a
    # refinement, another request): what was asked keeps filtering
    continues: bool = False
    # the message only acknowledges what was said ("Great!", "thanks", "ok cool"): it neither
    # carries the request on nor moves on from it
    acknowledges: bool = False
    # films whose exact title the message writes where no film was linked: never recommended back
    maybe_named: list[str] = Field(default_factory=list)
    # what the user said of films, as ratings: "I loved Inception" → 5.0, "Titanic was boring" → 2.0
    stated_ratings: dict[str, float] = Field(default_factory=dict)
    source: Literal["rules", "llm", "merged"] = "rules"


class Recommendation(BaseModel):
    item: Item
    score: float
    sources: dict[str, float] = Field(default_factory=dict)   # retrieval source → its score
    evidence: list[Fact] = Field(default_factory=list)         # KG edges behind the explanation
    explanation: str = ""                                      # one line, built from evidence


class Question(BaseModel):
    slot: str      # "genre", "decade", "reference_item", "mood", ...
    text: str


class Trace(BaseModel):
    timings_ms: dict[str, float] = Field(default_factory=dict)
    candidates: list[dict] = Field(default_factory=list)   # {item_id, title, sources, score}
    act: DialogueAct | None = None
    decision: str = ""
    llm_calls: list[LLMCall] = Field(default_factory=list)
    guard: GuardVerdict | None = None     # None: the turn produced no text to check
    config: dict = Field(default_factory=dict)   # the agent's policy numbers (``AgentConfig``)
    notes: list[str] = Field(default_factory=list)


__all__ = ["Constraints", "DialogueAct", "FeedbackKind", "GuardVerdict", "Intent", "ItemQuestion", "LLMCall",
           "Question", "Recommendation", "Reply", "Trace"]


class Reply(BaseModel):
    session_id: str
    text: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    question: Question | None = None
    answer_item: Item | None = None      # the item a question was answered about, if any
    facts: list[Fact] = Field(default_factory=list)  # facts stated in an answer about an item
    trace: Trace = Field(default_factory=Trace)
