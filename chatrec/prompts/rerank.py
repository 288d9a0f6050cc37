"""Reranking (Chat-Rec, PALR): profile + dialogue + top-N candidates with ids → ids in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chatrec.prompts.base import Message, Prompt, TokenEstimator
from chatrec.prompts.framing import DATA_RULES, clean_text, quote, render_dialogue

VERSION = "rerank-1"
CANDIDATE_CHARS = 160
PROFILE_CHARS = 500

SYSTEM = (
    "You rank candidate movies for one user of a movie recommender.\n"
    f"{DATA_RULES}\n"
    "Choose only from the candidate list, by id. Put the best fit for the user's request first.\n"
    'Answer with one JSON object: {{"ranking": [{{"id": "<candidate id>", "reason": "<one '
    'short sentence>"}}]}} with at most {k} entries. A reason may only use what the candidate '
    "line or the user said."
)


def rerank_prompt(
    profile_summary: str,
    dialogue: Iterable[Any],
    candidates: Sequence[tuple[str, str]],
    k: int,
    *,
    max_tokens: int = 1400,
    max_candidates: int = 20,
    estimator: TokenEstimator | None = None,
) -> tuple[Prompt, list[str]]:
    """The rerank prompt and the ids it actually shows (the list is cut to fit the budget).

    Args:
        profile_summary: a short natural-language summary of the user's history ("" if none).
        dialogue: the conversation so far, oldest first.
        candidates: ``(item_id, text)`` in fused order; ``text`` is a one-line description
            (title, year, genres, people) built by the caller from the catalog.
        k: how many the LLM should return.
        max_tokens: the prompt's token budget (estimated).
        max_candidates: never show more than this many.
        estimator: chars-per-token estimator.

    Returns:
        ``(prompt, shown_ids)``: only ids in ``shown_ids`` may come back.
    """
    estimator = estimator or TokenEstimator()
    system = SYSTEM.format(k=k)
    profile = quote(profile_summary or "(no history)", PROFILE_CHARS)
    budget = max_tokens - estimator.estimate(system) - estimator.estimate(profile) - 60

    # Candidates first (they are what the call is for): at least min(k, 5) of them, then the
    # dialogue gets up to a third of what is left, then more candidates fill the rest.
    lines: list[str] = []
    shown: list[str] = []
    dialogue_share = budget // 3
    for item_id, text in candidates[:max_candidates]:
        item_id = str(item_id)
        line = f"- id {item_id}: {clean_text(text, CANDIDATE_CHARS)}"
        cost = estimator.estimate(line) + 1
        floor_reached = len(shown) >= min(k, 5)
        if floor_reached and budget - cost < dialogue_share:
            break
        lines.append(line)
        shown.append(item_id)
        budget -= cost
    history = render_dialogue(dialogue, max(0, budget), estimator)
    user = (f"User profile:\n{profile}\n\nConversation:\n<user_data>\n{history}\n</user_data>\n\n"
            "Candidates:\n" + "\n".join(lines)
            + f"\n\nThe JSON object with the best {min(k, len(shown))} candidate ids:")
    prompt = Prompt(name="rerank", version=VERSION,
                    messages=(Message(role="system", content=system),
                              Message(role="user", content=user)))
    return prompt, shown
