"""Understanding: the dialogue and the current message → an ``LLMReading`` (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chatrec.prompts.base import Message, Prompt, TokenEstimator
from chatrec.prompts.framing import DATA_RULES, quote, render_dialogue
from chatrec.prompts.schemas import LLMReading, inline_schema, schema_outline

VERSION = "understand-1"
MESSAGE_CHARS = 1000

_EXAMPLE_IN = "I loved Inception. Something from the 90s, but no horror?"
_EXAMPLE_OUT = {"intent": "recommend", "liked_titles": ["Inception"], "year_min": 1990,
                "year_max": 1999, "excluded_genres": ["horror"]}
# An answer equal to the example is an echo of the prompt, not a reading (the understander
# discards it).
EXAMPLE_READING = LLMReading.model_validate(_EXAMPLE_OUT)

SYSTEM = (
    "You read one message of a conversation with a movie recommender and say what it means.\n"
    f"{DATA_RULES}\n"
    "Answer with one JSON object with these fields (omit empty ones):\n"
    "{outline}\n"
    "Copy titles and names as written; do not invent any. Decades become year_min/year_max.\n"
    f"Example: {json.dumps(_EXAMPLE_IN)} -> {json.dumps(_EXAMPLE_OUT)}"
)


def understand_prompt(
    dialogue: Iterable[Any],
    message: str,
    *,
    max_tokens: int = 1000,
    estimator: TokenEstimator | None = None,
) -> Prompt:
    """The understanding prompt.

    Args:
        dialogue: earlier turns (objects with ``.role``/``.text``, dicts or pairs), oldest first;
            the most recent ones that fit are kept.
        message: the message to understand.
        max_tokens: the prompt's token budget (estimated); the dialogue gets what the fixed
            parts and the message leave.
        estimator: chars-per-token estimator (calibrated by the LLM client).
    """
    estimator = estimator or TokenEstimator()
    system = SYSTEM.replace("{outline}", schema_outline(inline_schema(LLMReading)))
    # The message and the recent turns share what the instructions leave; the message may take
    # at most half, so that "the second one" or "it" can still be read against the dialogue.
    available = max(0, max_tokens - estimator.estimate(system) - 40)
    message_chars = min(MESSAGE_CHARS, estimator.chars_for(max(60, available // 2)))
    current = quote(message, message_chars)
    history = render_dialogue(dialogue, max(0, available - estimator.estimate(current)),
                              estimator, max_turn_chars=300)
    user = (f"Conversation so far:\n<user_data>\n{history}\n</user_data>\n\n"
            f"Message to read:\n{current}\n\nThe JSON object:")
    return Prompt(name="understand", version=VERSION,
                  messages=(Message(role="system", content=system),
                            Message(role="user", content=user)))
