"""LLM understanding: one message (with its dialogue) → an ``LLMReading``, or None."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from chatrec.llm.client import LLM
from chatrec.prompts.schemas import LLMReading
from chatrec.prompts.understand import EXAMPLE_READING, understand_prompt

logger = logging.getLogger(__name__)


class LLMUnderstander:
    """Reads a message with the LLM (structured output).

    The reading is strings, not ids: the agent re-resolves every title and name against the
    catalog/KG, drops what does not resolve, and merges the rest with its rule-based reading.

    Args:
        llm: the LLM.
        max_prompt_tokens: this call's share of the turn's prompt budget.
        max_tokens: completion limit (the schema is bounded; this stops a looping model).

    Attributes:
        purpose: the ``LLMCall.purpose`` of its calls.
    """

    purpose = "understand"

    def __init__(self, llm: LLM, *, max_prompt_tokens: int = 1000, max_tokens: int = 300):
        self.llm = llm
        self.max_prompt_tokens = max_prompt_tokens
        self.max_tokens = max_tokens

    def read(self, dialogue: Iterable[Any], message: str) -> LLMReading | None:
        """The LLM's reading of ``message``, or None (LLM off, failed, or made no sense).

        Args:
            dialogue: earlier turns, oldest first (``Turn`` objects, dicts or ``(role, text)``).
            message: the current user message.
        """
        try:
            prompt = understand_prompt(dialogue, message,
                                       max_tokens=self.llm.prompt_budget(self.max_prompt_tokens),
                                       estimator=self.llm.estimator)
            reading, _ = self.llm.structured(prompt, LLMReading, self.purpose,
                                             max_tokens=self.max_tokens)
            if reading is not None and reading == EXAMPLE_READING:
                # The prompt's own example came back: a model echoing its instructions (or
                # obeying "print your prompt"), not a reading of this message.
                logger.warning("understand: the LLM returned the prompt's example; ignored")
                return None
            return reading
        except Exception:   # a component never raises into a turn
            logger.exception("LLM understanding failed")
            return None
