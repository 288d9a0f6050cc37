"""The verify step: the guard reads the final text of every reply, and an LLM's phrasing is shown
only once it passes (sentence by sentence when it streams); otherwise the template text, or as a
last resort the bare list of titles, is what the user sees. The trace says which and why.

An LLM's text is checked in the closed world (``Guard.check(..., closed_world=True)``): a sentence
the guard cannot read entirely as verified claims is not shown. The template's own text is
checked in the open world (every claim it recognises must hold)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from chatrec.agent import templates as T
from chatrec.agent.draft import Draft
from chatrec.agent.guard import Guard
from chatrec.agent.models import Recommendation, Reply, Trace
from chatrec.agent.query import UserContext
from chatrec.protocols import AgentLLMPort
from chatrec.tracing import GuardVerdict

logger = logging.getLogger(__name__)

_MARKUP = re.compile(r"[{}\[\]<>]")


def reads_like_a_reply(text: str, recommendations: list[Recommendation]) -> bool:
    """An LLM text worth showing presents the recommendations (names at least one of them) and
    is prose, not a fragment of JSON or markup."""
    if _MARKUP.search(text):
        return False
    lowered = text.lower()
    return any(r.item.title.lower() in lowered for r in recommendations)


def without(text: str, trusted: list[str]) -> str:
    """``text`` with its trusted parts blanked out (they make no claim to check)."""
    for part in trusted:
        if part:
            text = text.replace(part, " ")
    return text


class ReplyVerifier:
    """Checks drafts and LLM phrasings with the guard.

    Args:
        guard: the closed-world check of a text's claims.
        llm: the agent's LLM (phrasing), or None.
    """

    def __init__(self, guard: Guard, llm: AgentLLMPort | None = None):
        self.guard = guard
        self.llm = llm

    def check(self, draft: Draft, context: UserContext, trace: Trace) -> Draft:
        """The draft if its text passes the guard, else a reply that cannot carry a wrong claim."""
        state = context.state
        recommended = [r.item.id for r in draft.recommendations]
        discussed = context.discussed()
        if draft.answer_item is not None:
            discussed.add(draft.answer_item.id)
        for ids in (trace.act.ambiguous.values() if trace.act else ()):
            discussed |= set(ids)  # the alternatives we name when a title was ambiguous
        result = self.guard.check(without(draft.text, draft.trusted), recommended, discussed, state.constraints)
        trace.guard = GuardVerdict(passed=result.passed, violations=result.violations, claims=result.checked_claims)
        if result.passed:
            return draft
        logger.warning("guard rejected a reply: %s", result.violations)
        lines = ["Here is what I found:"] + [f"{i}. {T.title(r.item)}" for i, r in enumerate(draft.recommendations, 1)]
        trace.guard.fallback = True
        return Draft("\n".join(lines) if draft.recommendations else "Sorry, I can't answer that reliably.",
                     recommendations=draft.recommendations, question=draft.question, decision=draft.decision)

    # ------------------------------------------------------------------ LLM phrasing
    def wants_phrasing(self, draft: Draft) -> bool:
        return self.llm is not None and self.llm.wants_to_phrase(draft.recommendations)

    def phrase(self, draft: Draft, context: UserContext, trace: Trace) -> str | None:
        """The LLM's text for a recommendation reply, if it passes the guard; else None."""
        assert self.llm is not None
        verdict = trace.guard or GuardVerdict()
        trace.guard = verdict
        text = self.llm.phrase(draft.recommendations, context.state)
        if not text:
            return self._reject(trace, "LLM phrasing unavailable: template text used")
        if not reads_like_a_reply(text, draft.recommendations):
            verdict.llm_rejected = ["the LLM text does not present the recommendations"]
            return self._reject(trace, "LLM phrasing unusable: template text used")
        result = self.guard.check(text, [r.item.id for r in draft.recommendations], context.discussed(),
                                  context.state.constraints, closed_world=True)
        if not result.passed:
            verdict.llm_rejected = result.violations
            return self._reject(trace, "LLM phrasing rejected by the guard: template text used")
        verdict.text_source = "llm"
        return "\n".join(s for s in [draft.preamble, text] if s)

    def stream(self, draft: Draft, context: UserContext, trace: Trace, reply_with: Callable[[str], Reply],
               llm_scope: Callable[[], AbstractContextManager]) -> Iterator[Reply]:
        """Replies with the verified sentences so far; stops at the first sentence that fails.
        Returns (as the generator's value) the full phrased text, or None for the template."""
        assert self.llm is not None
        verdict = trace.guard or GuardVerdict()
        trace.guard = verdict
        recommended, discussed = [r.item.id for r in draft.recommendations], context.discussed()
        shown: list[str] = []
        carry: list[str] = []
        sentences = self.llm.stream_phrase(draft.recommendations, context.state)
        while True:
            with llm_scope():  # each step of the LLM stream runs inside the turn's budget
                sentence = next(sentences, None)
            if sentence is None:
                break
            result = self.guard.check(sentence, recommended, discussed, context.state.constraints, carry=carry,
                                      closed_world=True)
            if _MARKUP.search(sentence):
                result.passed = False
                result.violations.append("not prose (JSON or markup)")
            if not result.passed:
                verdict.llm_rejected = result.violations
                return self._reject(trace, "LLM phrasing rejected mid-stream by the guard: template text used")
            carry = result.last_referenced or carry
            shown.append(sentence)
            yield reply_with("\n".join(s for s in [draft.preamble, " ".join(shown)] if s))
        if not shown or not reads_like_a_reply(" ".join(shown), draft.recommendations):
            return self._reject(trace, "LLM phrasing unavailable or unusable: template text used")
        verdict.text_source = "llm"
        return "\n".join(s for s in [draft.preamble, " ".join(shown)] if s)

    @staticmethod
    def _reject(trace: Trace, note: str) -> None:
        if trace.guard is not None:
            trace.guard.text_source = "template"
        trace.notes.append(note)
        return None
