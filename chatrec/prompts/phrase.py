"""Phrasing: the chosen items and their KG facts (and nothing else) → a short reply."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chatrec.prompts.base import Message, Prompt, TokenEstimator
from chatrec.prompts.framing import DATA_RULES, clean_text, render_dialogue

VERSION = "phrase-2"

# How each KG relation (kg.models) reads in a fact line.
RELATION_WORDS = {
    "directed_by": "directed by",
    "stars": "starring",
    "written_by": "written by",
    "made_by": "made by",
    "has_genre": "genre",
    "has_keyword": "about",
    "released_in": "released in the",
}

# The reply is shown only if every sentence reads as facts the knowledge graph holds (the agent's
# closed-world guard), so the model is asked for those facts in plain, checkable words.
SYSTEM = (
    "You write the reply of a movie recommender.\n"
    f"{DATA_RULES}\n"
    "Recommend the listed titles in the given order, one short sentence each. Write each title "
    "exactly as listed, with its year in parentheses. State only facts listed under that title, "
    "in these words: directed by NAME, starring NAME, written by NAME, a GENRE film, about "
    "KEYWORD, from the DECADE. Add nothing else that could be checked: no other titles, names, "
    "years or numbers, no awards, links or plot, and never say what a film is not. Plain text, "
    "at most {sentences} sentences, no lists."
)


def item_label(item: Any) -> str:
    """"The Matrix (1999)" from an ``Item`` (``.display``), anything with ``.title``/``.year``,
    or a string."""
    if isinstance(item, str):
        return item
    display = getattr(item, "display", None)
    if isinstance(display, str):
        return display
    title, year = getattr(item, "title", str(item)), getattr(item, "year", None)
    return f"{title} ({year})" if year else str(title)


def fact_text(fact: Any) -> str:
    """"directed by Christopher Nolan" from a KG ``Fact`` (or a string, kept as is)."""
    if isinstance(fact, str):
        return fact
    relation = getattr(fact, "relation", "")
    words = RELATION_WORDS.get(relation, relation.replace("_", " "))
    return f"{words} {getattr(fact, 'object_label', '')}".strip()


def own_facts(item: Any) -> list[str]:
    """The facts an ``Item`` states about itself (its genres, directors and first stars), the
    same edges the knowledge graph holds, so the model has something true to say when the
    explanation's facts are few."""
    said = [f"genre {g}" for g in list(getattr(item, "genres", None) or [])[:2]]
    said += [f"directed by {d}" for d in list(getattr(item, "directors", None) or [])[:1]]
    said += [f"starring {c}" for c in list(getattr(item, "cast", None) or [])[:2]]
    return said


def render_items(items_with_facts: Sequence[tuple[Any, Sequence[Any]]], max_facts: int = 6) -> str:
    """One line per item: its label, then the explanation's facts and its own, each once."""
    lines = []
    for rank, (item, facts) in enumerate(items_with_facts, start=1):
        texts = [clean_text(t, 80) for t in [*(fact_text(f) for f in facts), *own_facts(item)]]
        said = "; ".join(list(dict.fromkeys(t for t in texts if t))[:max_facts])
        lines.append(f"{rank}. {clean_text(item_label(item), 120)} | facts: {said or 'none'}")
    return "\n".join(lines)


def phrase_prompt(
    items_with_facts: Sequence[tuple[Any, Sequence[Any]]],
    dialogue: Iterable[Any],
    *,
    max_tokens: int = 1000,
    estimator: TokenEstimator | None = None,
) -> Prompt:
    """The phrasing prompt.

    Args:
        items_with_facts: ``(item, facts)`` pairs in the order to recommend; ``item`` is an
            ``Item`` (or a title string), ``facts`` KG ``Fact``s (or strings) — the only
            things the reply may state.
        dialogue: the conversation so far (for tone and reference), oldest first.
        max_tokens: the prompt's token budget (estimated).
        estimator: chars-per-token estimator.
    """
    estimator = estimator or TokenEstimator()
    system = SYSTEM.format(sentences=len(items_with_facts) + 1)
    listing = render_items(items_with_facts)
    fixed = estimator.estimate(system) + estimator.estimate(listing) + 40
    turns = list(dialogue)
    conversation = ""
    if turns:   # no empty block: small models copy placeholders like "(no earlier turns)"
        history = render_dialogue(turns, max(0, min(300, max_tokens - fixed)), estimator)
        conversation = f"Conversation:\n<user_data>\n{history}\n</user_data>\n\n"
    user = (f"{conversation}Titles to recommend, with the only facts you may use:\n{listing}"
            "\n\nThe reply:")
    return Prompt(name="phrase", version=VERSION,
                  messages=(Message(role="system", content=system),
                            Message(role="user", content=user)))
