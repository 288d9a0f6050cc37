"""``Draft``: a reply before it is verified — its text and what the text claims."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatrec.agent.models import Question, Recommendation
from chatrec.catalog.models import Item
from kg.models import Fact


@dataclass
class Draft:
    """A reply before the guard.

    Attributes:
        text: the template wording.
        recommendations, question, answer_item, facts: what the reply carries.
        decision: what the turn decided ("recommend", "answer:director", "ask", ...).
        trusted: parts of ``text`` that are our own fixed wording or catalog text quoted verbatim
            (a plot): they make no claim to verify, and their examples ("a 90s comedy") must not
            trip the guard.
        preamble: notes and acknowledgements kept above an LLM's phrasing of the list.
    """

    text: str
    recommendations: list[Recommendation] = field(default_factory=list)
    question: Question | None = None
    answer_item: Item | None = None
    facts: list[Fact] = field(default_factory=list)
    decision: str = ""
    trusted: list[str] = field(default_factory=list)
    preamble: str = ""
