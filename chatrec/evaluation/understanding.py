"""Did the agent understand what the simulated user meant? Compares an utterance's ``Meaning``
with the agent's ``DialogueAct`` for that turn (``reply.trace.act``), element by element, so the
report can name the phrasings the rule-based understander misses."""

from __future__ import annotations

from chatrec.catalog.normalize import label_key
from chatrec.evaluation.user import Meaning
from kg.models import genre_node, keyword_node, person_node


def _genre_in(values: list[str], genre: str) -> bool:
    return label_key(genre) in {label_key(v) for v in values}


def check(meaning: Meaning, act) -> list[dict]:
    """One entry per element of ``meaning``: {"element", "understood"}.

    Args:
        meaning: what the user said (from the simulator).
        act: the agent's ``DialogueAct`` for that message (None: nothing was understood).
    """
    out: list[dict] = []
    if act is None:
        return [{"element": e, "understood": False} for e in _elements(meaning)]
    if meaning.rejects:
        # Turning the list down must keep the recommender recommending, not end or derail the talk.
        out.append(
            {"element": "reject", "understood": act.intent in ("recommend", "refine", "feedback")}
        )
    c = act.constraints
    liked_attrs = set(act.liked_attributes)
    disliked_attrs = set(act.disliked_attributes)
    for attribute in meaning.reveals:
        kind, value = attribute.kind, attribute.value
        if kind == "genre":
            ok = (
                _genre_in(c.genres_all, value)
                or _genre_in(getattr(c, "genres_any", []), value)
                or genre_node(value) in liked_attrs
            )
        elif kind == "decade":
            decade = int(value)
            ok = (
                c.year_min is not None
                and c.year_max is not None
                and c.year_min <= decade
                and c.year_max >= decade + 9
                and c.year_max - c.year_min <= 19
            )
        elif kind == "keyword":
            ok = keyword_node(value) in liked_attrs or label_key(value) in label_key(
                act.query_text or ""
            )
        else:
            asked = [*c.people_any, *c.directors_any, *c.cast_any, *c.writers_any]
            ok = person_node(value) in liked_attrs or any(label_key(p) == label_key(value) for p in asked)
        out.append({"element": f"{kind}+", "understood": bool(ok)})
    for genre in meaning.excludes_genres:
        ok = _genre_in(c.genres_none, genre) or genre_node(genre) in disliked_attrs
        out.append({"element": "genre-", "understood": bool(ok)})
    # A decade said in the same message sets the year bounds by itself: only the refinement, or
    # bounds the decade does not explain, show that "too old"/"too recent" was understood.
    decade_said = any(a.kind == "decade" for a in meaning.reveals)
    if meaning.newer_than is not None:
        ok = "newer" in act.refinements or (
            not decade_said and c.year_min is not None and c.year_min > meaning.newer_than - 1
        )
        out.append({"element": "newer", "understood": bool(ok)})
    if meaning.older_than is not None:
        ok = "older" in act.refinements or (
            not decade_said and c.year_max is not None and c.year_max < meaning.older_than + 1
        )
        out.append({"element": "older", "understood": bool(ok)})
    return out


def _elements(meaning: Meaning) -> list[str]:
    names = ["reject"] if meaning.rejects else []
    names += [f"{a.kind}+" for a in meaning.reveals] + ["genre-"] * len(meaning.excludes_genres)
    if meaning.newer_than is not None:
        names.append("newer")
    if meaning.older_than is not None:
        names.append("older")
    return names
