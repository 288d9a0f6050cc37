"""LLM reranking (Chat-Rec, PALR): the fused top-N → the LLM's order, ids checked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from chatrec.llm.client import LLM
from chatrec.prompts.rerank import rerank_prompt
from chatrec.prompts.schemas import RerankResult, rerank_json_schema

logger = logging.getLogger(__name__)

_ID_NOISE = re.compile(r"^\W*(?:id\b\W*)?|\W*$", re.I)


def normalise_id(value: str) -> str:
    """"2571", "id 2571", "[2571]", "id=2571:" → "2571" (models decorate ids they copy)."""
    return _ID_NOISE.sub("", str(value).strip())


class LLMReranker:
    """Asks the LLM to order the top candidates for the user, with a short reason each.

    Only ids that were shown to the LLM come back; anything else it says is discarded. The
    caller fills up from the fused order when fewer than ``k`` remain. The reasons are the
    LLM's own words, not checked facts: show them only through the agent's verifier.

    Args:
        llm: the LLM.
        max_prompt_tokens: this call's share of the turn's prompt budget.
        max_candidates: never show more candidates than this.
    """

    purpose = "rerank"

    def __init__(self, llm: LLM, *, max_prompt_tokens: int = 1400, max_candidates: int = 20):
        self.llm = llm
        self.max_prompt_tokens = max_prompt_tokens
        self.max_candidates = max_candidates

    def rerank(self, profile_summary: str, dialogue: Iterable[Any],
               candidates: Sequence[tuple[str, str]], k: int) -> list[tuple[str, str]]:
        """``(item_id, reason)`` best first, at most ``k``, only ids among ``candidates``;
        ``[]`` when the LLM is off, fails, or names no valid id.

        Args:
            profile_summary: a short summary of the user's history ("" for none).
            dialogue: the conversation so far, oldest first.
            candidates: ``(item_id, one-line description)`` in fused order.
            k: how many to return.
        """
        if not candidates or k <= 0:
            return []
        try:
            prompt, shown = rerank_prompt(
                profile_summary, dialogue, candidates, k,
                max_tokens=self.llm.prompt_budget(self.max_prompt_tokens),
                max_candidates=self.max_candidates, estimator=self.llm.estimator)
            k = min(k, len(shown))
            result, _ = self.llm.structured(prompt, RerankResult, self.purpose,
                                            json_schema=rerank_json_schema(shown, k),
                                            max_tokens=40 + 45 * k)
            if result is None:
                return []
            allowed = set(shown)
            template = prompt.messages[0].content.lower()
            picks: list[tuple[str, str]] = []
            for pick in result.ranking:
                item_id = normalise_id(pick.id)
                reason = " ".join(pick.reason.split())
                if reason.strip("<>.").lower() in template or "|" in reason:
                    reason = ""   # the template's placeholder or candidate lines copied back
                if item_id in allowed and item_id not in {p[0] for p in picks}:
                    picks.append((item_id, reason))
                elif item_id not in allowed:
                    logger.info("rerank: discarded id %r (not among the %d candidates shown)",
                                pick.id[:40], len(shown))
            return picks[:k]
        except Exception:   # a component never raises into a turn
            logger.exception("LLM reranking failed")
            return []
