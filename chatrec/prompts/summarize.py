"""Knowledge augmentation (KAR, LLM-Rec): short item summaries and user-preference summaries.

Item summaries enrich the text indexed for vector retrieval (mood, audience, themes, which a
catalog rarely states); user summaries give the reranker a compact profile. Both are produced
offline or cached, never in the hot path of a turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatrec.prompts.base import Message, Prompt
from chatrec.prompts.framing import DATA_RULES, bullet_list, clean_text, quote

ITEM_VERSION = "item-summary-1"
USER_VERSION = "user-summary-1"

ITEM_SYSTEM = (
    "You describe movies for a search index. In two sentences, say what the movie is like "
    "(mood, themes, pace) and who would enjoy it, using only the information given. Do not "
    "name people or other titles. Plain text."
)

USER_SYSTEM = (
    "You summarise a movie fan's taste for a recommender.\n"
    f"{DATA_RULES}\n"
    "In one or two sentences, say which genres, themes, eras and moods they like and avoid. "
    "Do not list titles. Plain text."
)


def item_summary_prompt(item: Any) -> Prompt:
    """The item summary prompt from an ``Item`` (or anything with the same attributes)."""
    year = getattr(item, "year", None)
    parts = [f"Title: {clean_text(getattr(item, 'title', str(item)), 120)}"
             + (f" ({year})" if year else "")]
    for label, attr, limit in (("Genres", "genres", 6), ("Directed by", "directors", 3),
                               ("Starring", "cast", 4), ("Keywords", "keywords", 12)):
        values = list(getattr(item, attr, []) or [])
        if values:
            parts.append(f"{label}: {clean_text(bullet_list(values, limit), 300)}")
    description = getattr(item, "description", "") or ""
    if description:
        parts.append(f"Description: {clean_text(description, 700)}")
    return Prompt(name="item_summary", version=ITEM_VERSION,
                  messages=(Message(role="system", content=ITEM_SYSTEM),
                            Message(role="user", content="\n".join(parts) + "\n\nThe summary:")))


def user_summary_prompt(liked: Sequence[str], disliked: Sequence[str] = (),
                        notes: str = "") -> Prompt:
    """The user-preference summary prompt.

    Args:
        liked: descriptions of items the user liked, best first ("Heat (1995) | crime,
            thriller"); the first 25 are used.
        disliked: the same for disliked items; the first 10 are used.
        notes: anything the user said about their taste (quoted as user data).
    """
    body = "Liked:\n" + "\n".join(f"- {clean_text(t, 120)}" for t in liked[:25])
    if disliked:
        body += "\nDisliked:\n" + "\n".join(f"- {clean_text(t, 120)}" for t in disliked[:10])
    if notes:
        body += "\nThey said:\n" + quote(notes, 500)
    return Prompt(name="user_summary", version=USER_VERSION,
                  messages=(Message(role="system", content=USER_SYSTEM),
                            Message(role="user", content=body + "\n\nThe summary:")))
