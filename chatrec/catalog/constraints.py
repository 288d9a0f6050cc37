"""Hard constraints on items: one model, read by every place that filters.

``Constraints`` is what a dialogue asks for ("a 90s comedy, nothing with Will Ferrell"). It is
stored in the session, shown in the UI, checked by the guard, and turned into filters by exactly
one compiler: :meth:`Constraints.clauses`. Each :class:`Clause` is one atomic condition (an item
must have one of these genres; must have none of these people; must be released within these
years). Three evaluators read the clauses and nothing else, so they cannot disagree:

* :meth:`Clause.matches` — one item, in Python (the final re-check of every candidate);
* :class:`chatrec.catalog.masks.ConstraintMasks` — boolean arrays over many rows (the retriever's
  catalog table and the vector index's matrix);
* :func:`chatrec.index.chroma.where_clause` — Chroma metadata ``where``.

Labels are compared through ``label_key`` ("Sci-Fi" = "sci fi"); an item without a year fails any
year bound (nothing promises it satisfies one). Attaching a certainty or a source to a
constraint, or relaxing the weakest one, is a matter of clauses: ``without(clause)`` drops one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field

from chatrec.catalog.models import Item
from chatrec.catalog.normalize import label_key

Attribute = Literal["genres", "people", "year", "id"]
Operator = Literal["any", "none", "range"]

#: Label-valued attributes: their KG node kind, the fields an item must match, the field it must not.
_FIELDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "genres": ("genre", ("genres_all", "genres_any"), "genres_none"),
    "people": ("person", ("people_any",), "people_none"),
}


@dataclass(frozen=True)
class Clause:
    """One atomic hard condition.

    Attributes:
        attribute: "genres", "people" (any credited role), "year" or "id".
        op: "any" (the item has at least one of ``values``), "none" (it has none of them) or
            "range" (its year is within ``low``..``high``, inclusive; a missing bound is open).
        values: labels (genres, people) or item ids.
    """

    attribute: Attribute
    op: Operator
    values: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    @property
    def positive(self) -> bool:
        """True for what an item must have (a genre, a person, a year), not what it must lack."""
        return self.op != "none"

    @cached_property
    def keys(self) -> frozenset[str]:
        """The values as they are compared (label keys; ids as they are)."""
        if self.attribute == "id":
            return frozenset(self.values)
        return frozenset(label_key(v) for v in self.values)

    def matches(self, item: Item) -> bool:
        if self.op == "range":
            if item.year is None:
                return False
            return ((self.low is None or item.year >= self.low)
                    and (self.high is None or item.year <= self.high))
        found = not self.keys.isdisjoint(item_keys(item, self.attribute))
        return found if self.op == "any" else not found


def item_keys(item: Item, attribute: str) -> set[str]:
    """What an item holds for ``attribute``, in the form clauses compare."""
    if attribute == "genres":
        return {label_key(g) for g in item.genres}
    if attribute == "people":
        return {label_key(name) for _, name in item.people}
    if attribute == "id":
        return {item.id}
    raise ValueError(f"no labels for attribute {attribute!r}")


class Constraints(BaseModel):
    """Hard constraints stated in the dialogue. They hold for every later recommendation.

    Attributes:
        year_min, year_max: inclusive bounds on the release year.
        genres_all: canonical genre labels, every one required.
        genres_any: at least one of these genres (empty: no constraint).
        genres_none: none of these genres.
        people_any: at least one of these people credited, in any role (full names).
        people_none: none of these people credited.
        unsupported: asked for, but the catalog cannot check it (said back, never filtered on).
    """

    year_min: int | None = None
    year_max: int | None = None
    genres_all: list[str] = Field(default_factory=list)
    genres_any: list[str] = Field(default_factory=list)
    genres_none: list[str] = Field(default_factory=list)
    people_any: list[str] = Field(default_factory=list)
    people_none: list[str] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)

    # ------------------------------------------------------------------ the compiler
    def clauses(self) -> list[Clause]:
        """The constraints as atomic clauses: the only definition of what they mean."""
        out: list[Clause] = []
        if self.year_min is not None or self.year_max is not None:
            out.append(Clause("year", "range", low=self.year_min, high=self.year_max))
        out += [Clause("genres", "any", (g,)) for g in dict.fromkeys(self.genres_all)]
        if self.genres_any:
            out.append(Clause("genres", "any", tuple(dict.fromkeys(self.genres_any))))
        if self.genres_none:
            out.append(Clause("genres", "none", tuple(dict.fromkeys(self.genres_none))))
        if self.people_any:
            out.append(Clause("people", "any", tuple(dict.fromkeys(self.people_any))))
        if self.people_none:
            out.append(Clause("people", "none", tuple(dict.fromkeys(self.people_none))))
        return out

    # ------------------------------------------------------------------ questions
    def is_empty(self) -> bool:
        """True when nothing is filtered (``unsupported`` requests filter nothing)."""
        return not self.clauses()

    def has_requirements(self) -> bool:
        """True when items must *have* something (a genre, a person, a year range), as opposed to
        only lacking something ("no horror" alone says nothing about what the user wants)."""
        return any(clause.positive for clause in self.clauses())

    def matches(self, item: Item) -> bool:
        """Whether ``item`` satisfies every constraint."""
        return all(clause.matches(item) for clause in self.clauses())

    def matcher(self) -> Callable[[Item], bool]:
        """``matches`` compiled once, for checking many items."""
        clauses = self.clauses()
        return lambda item: all(clause.matches(item) for clause in clauses)

    def decades(self) -> list[int]:
        """The decades the year range covers entirely ("the 90s" → [1990]; 1985–1995 → [])."""
        if self.year_min is None or self.year_max is None:
            return []
        first = -(-self.year_min // 10) * 10
        return list(range(first, self.year_max - 8, 10))

    def nodes(self, decades: bool = True) -> list[str]:
        """The KG nodes asked for: required genres and people, and (``decades``) the decades the
        year range covers."""
        from kg.models import decade_node, genre_node, person_node  # kg is a room above catalog

        nodes = [genre_node(g) for g in (*self.genres_all, *self.genres_any)]
        nodes += [person_node(p) for p in self.people_any]
        nodes += [decade_node(d) for d in self.decades()] if decades else []
        return list(dict.fromkeys(nodes))

    def excluded_nodes(self) -> list[str]:
        """The KG nodes ruled out: excluded genres and people."""
        from kg.models import genre_node, person_node

        nodes = [genre_node(g) for g in self.genres_none] + [person_node(p) for p in self.people_none]
        return list(dict.fromkeys(nodes))

    # ------------------------------------------------------------------ edits
    def without(self, what: str | Clause) -> Constraints:
        """A copy without one constraint.

        ``what`` is a clause of :meth:`clauses`, a KG node ("genre:horror", "person:tom hanks",
        "decade:1990"), a label as stored ("horror", "Tom Hanks"), or "years" for the year range.
        """
        out = self.model_copy(deep=True)
        if isinstance(what, Clause):
            if what.attribute == "year":
                out.year_min = out.year_max = None
            elif what.attribute in _FIELDS:
                _, positive, negative = _FIELDS[what.attribute]
                drop = what.keys
                for name in (positive if what.positive else (negative,)):
                    setattr(out, name, [v for v in getattr(out, name) if label_key(v) not in drop])
            return out
        if what == "years" or what.startswith("decade:"):
            out.year_min = out.year_max = None
            return out
        kind, _, value = what.partition(":") if ":" in what else ("", "", what)
        key = label_key(value)
        for node_kind, positive, negative in _FIELDS.values():
            if kind and kind != node_kind:
                continue
            for name in (*positive, negative):
                setattr(out, name, [v for v in getattr(out, name) if v != what and label_key(v) != key])
        return out

    def excluding(self, item_ids: Iterable[str]) -> ItemFilter:
        """These constraints, and never the given items (shown, seen, disliked)."""
        data = self.model_dump()
        data["exclude_ids"] = set(data.get("exclude_ids", ())) | set(item_ids)
        return ItemFilter(**data)


class ItemFilter(Constraints):
    """Constraints plus items a query must never return (what was shown, seen or disliked).

    The exclusion is one more clause, so masks, ``matches`` and Chroma's ``where`` treat it like
    any constraint (the ``where`` leaves it to the caller: over-fetching beats a long ``$nin``).
    """

    exclude_ids: set[str] = Field(default_factory=set)

    def clauses(self) -> list[Clause]:
        out = super().clauses()
        if self.exclude_ids:
            out.append(Clause("id", "none", tuple(sorted(self.exclude_ids))))
        return out
