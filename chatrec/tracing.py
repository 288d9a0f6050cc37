"""What a turn records about itself: the LLM calls it made and the guard's verdict on its text.

A neutral room: ``chatrec.llm`` produces ``LLMCall`` records and ``chatrec.agent`` collects them in
its ``Trace``; neither has to import the other for it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LLMCall(BaseModel):
    """One logical LLM call (retries included), as accounted for in a turn's budget."""

    purpose: str              # understand | rerank | phrase | summarize
    ok: bool
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


class GuardVerdict(BaseModel):
    """What the guard decided about a reply's text.

    Attributes:
        passed: the drafted text held no unverifiable claim.
        violations: what was wrong with it, one message each.
        claims: how many titles, people, genres, tags and years were checked.
        fallback: the text shown is a safe fallback (titles only), not the draft.
        text_source: whose wording was shown: the template's or the LLM's.
        llm_rejected: why the LLM's phrasing was not shown (empty when it was, or none was asked).
    """

    passed: bool = True
    violations: list[str] = Field(default_factory=list)
    claims: int = 0
    fallback: bool = False
    text_source: Literal["template", "llm"] = "template"
    llm_rejected: list[str] = Field(default_factory=list)
