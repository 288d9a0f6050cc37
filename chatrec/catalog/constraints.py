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

Labels are compared through ``label_key`` ("Sci-Fi" = "sci fi"), keywords through their stemmed
words (``keyword_forms``: "no superhero" rules out "superheroes" and "super hero", "not Disney"
rules out "disney animated feature"); an item without a year fails any
year bound (nothing promises it satisfies one).

People can be asked for in a role ("directed by", "starring", "written by": ``directors_any``,
``cast_any``, ``writers_any``) or in any role (``people_any``). A genre asked for accepts its
other names (``GENRE_ALTERNATIVES``: "family" also takes animation), inside an all-of request too:
"a family comedy" is (family or animation) and comedy. Each constraint is a *unit* that can be
dropped on its own (:meth:`Constraints.units`, :meth:`Constraints.without_unit`) and carries where
it came from and how sure the reading was (``origins``): relaxing the least certain unit when the
constraints leave too few items is the agent's job (``chatrec.agent.relax``).

A unit is *hard* (it filters) or *soft* (``ConstraintOrigin.hard`` is False: a preference that
ranks the items meeting it first and excludes nothing). :meth:`Constraints.clauses` compiles the
hard units only, so every filter ignores soft ones; :meth:`Constraints.preferred` compiles the soft
ones, for the ranking. When a request stops being hard is the agent's memory's decision
(``chatrec.agent.memory``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field

from chatrec.catalog.genres import GENRE_ALTERNATIVES
from chatrec.catalog.models import Item
from chatrec.catalog.normalize import keyword_forms, keyword_key, label_key

Attribute = Literal["genres", "people", "directors", "cast", "writers", "keywords", "year", "id"]
Operator = Literal["any", "none", "range", "outside"]
Source = Literal["request", "refinement", "inference"]

#: Label-valued attributes: their KG node kind, the fields an item must match, the field it must
#: not match (None: no such field).
_FIELDS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "genres": ("genre", ("genres_all", "genres_any"), "genres_none"),
    "people": ("person", ("people_any",), "people_none"),
    "directors": ("person", ("directors_any",), None),
    "cast": ("person", ("cast_any",), None),
    "writers": ("person", ("writers_any",), None),
    "keywords": ("keyword", (), "keywords_none"),
}
#: Attributes whose values are labels (compared through ``label_key``).
LABEL_ATTRIBUTES: tuple[str, ...] = tuple(_FIELDS)
#: Item fields holding each role-scoped attribute.
_ROLE_FIELDS = {"directors": "directors", "cast": "cast", "writers": "writers", "keywords": "keywords"}
#: Fields that are one unit as a whole ("any of these"); the other list fields are a unit per value.
_GROUP_UNITS = ("genres_any", "people_any", "directors_any", "cast_any", "writers_any")
_VALUE_UNITS = ("genres_all", "genres_none", "people_none", "keywords_none", "decades_none")


@dataclass(frozen=True)
class Clause:
    """One atomic hard condition.

    Attributes:
        attribute: "genres", "people" (any credited role), "directors", "cast", "writers",
            "keywords", "year" or "id".
        op: "any" (the item has at least one of ``values``), "none" (it has none of them),
            "range" (its year is within ``low``..``high``, inclusive; a missing bound is open) or
            "outside" (its year is not within ``low``..``high``; an unknown year is outside).
        values: labels (genres, people, keywords) or item ids.
    """

    attribute: Attribute
    op: Operator
    values: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    @property
    def positive(self) -> bool:
        """True for what an item must have (a genre, a person, a year), not what it must lack."""
        return self.op not in ("none", "outside")

    @cached_property
    def keys(self) -> frozenset[str]:
        """The values as they are compared (label keys; ids as they are)."""
        if self.attribute == "id":
            return frozenset(self.values)
        if self.attribute == "keywords":
            return frozenset(keyword_key(v) for v in self.values)
        return frozenset(label_key(v) for v in self.values)

    def matches(self, item: Item) -> bool:
        if self.op in ("range", "outside"):
            inside = item.year is not None and ((self.low is None or item.year >= self.low)
                                                and (self.high is None or item.year <= self.high))
            return inside if self.op == "range" else not inside
        found = not self.keys.isdisjoint(item_keys(item, self.attribute))
        return found if self.op == "any" else not found


def item_keys(item: Item, attribute: str) -> set[str]:
    """What an item holds for ``attribute``, in the form clauses compare."""
    if attribute == "genres":
        return {label_key(g) for g in item.genres}
    if attribute == "people":
        return {label_key(name) for _, name in item.people}
    if attribute == "keywords":
        return keyword_forms(item.keywords)
    if attribute in _ROLE_FIELDS:
        return {label_key(v) for v in getattr(item, _ROLE_FIELDS[attribute])}
    if attribute == "id":
        return {item.id}
    raise ValueError(f"no labels for attribute {attribute!r}")


class ConstraintOrigin(BaseModel):
    """Where a constraint came from and how sure the reading is.

    Attributes:
        source: "request" (asked for: "a 90s comedy"), "refinement" (changes a request:
            "something newer", "make it a comedy instead") or "inference" (read from something
            else the user said). Explicit requests outrank refinements, which outrank inferences.
        certainty: how sure the reading is, in [0, 1]; the least certain constraint is relaxed
            first when the constraints leave too few items.
        turn: the user turn it was read in (0 = unknown).
        said: the words it was read from, to say back when it is relaxed.
        hard: whether it filters (True) or only ranks the items meeting it first (False).
        renewed: the last user turn that said it again or carried its request on ("more",
            "something else"), moved on by one for each later turn that only acknowledged
            ("Great!", "thanks": not counted as moving on); 0 = the turn it was read in.
        softened: why a hard constraint became a preference ("" while it is hard).
    """

    source: Source = "request"
    certainty: float = 0.9
    turn: int = 0
    said: str = ""
    hard: bool = True
    renewed: int = 0
    softened: str = ""

    @property
    def current_since(self) -> int:
        """The last turn the constraint was said or carried on in."""
        return max(self.turn, self.renewed)


class Constraints(BaseModel):
    """Constraints stated in the dialogue: hard ones filter every later recommendation, soft
    ones rank the items meeting them first.

    Attributes:
        year_min, year_max: inclusive bounds on the release year.
        genres_all: canonical genre labels, every one required.
        genres_any: at least one of these genres (empty: no constraint).
        genres_none: none of these genres.
        people_any: at least one of these people credited, in any role (full names).
        people_none: none of these people credited.
        directors_any, cast_any, writers_any: at least one of these people in that role.
        keywords_none: none of these keywords (the knowledge graph's keywords of an item).
        decades_none: no film from these decades (1980 = 1980–1989).
        unsupported: asked for, but the catalog cannot check it (said back, never filtered on).
        origins: unit (see :meth:`units`) → where it came from and how sure the reading is.
    """

    year_min: int | None = None
    year_max: int | None = None
    genres_all: list[str] = Field(default_factory=list)
    genres_any: list[str] = Field(default_factory=list)
    genres_none: list[str] = Field(default_factory=list)
    people_any: list[str] = Field(default_factory=list)
    people_none: list[str] = Field(default_factory=list)
    directors_any: list[str] = Field(default_factory=list)
    cast_any: list[str] = Field(default_factory=list)
    writers_any: list[str] = Field(default_factory=list)
    keywords_none: list[str] = Field(default_factory=list)
    decades_none: list[int] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)
    origins: dict[str, ConstraintOrigin] = Field(default_factory=dict)

    # ------------------------------------------------------------------ the compiler
    def clauses(self) -> list[Clause]:
        """The hard constraints as atomic clauses: the only definition of what filters."""
        return self._compile(lambda unit: self.origin(unit).hard)

    def preferred(self) -> list[Clause]:
        """The soft constraints as clauses: what the items ranked first meet (never a filter)."""
        return self._compile(lambda unit: not self.origin(unit).hard)

    def _compile(self, keep: Callable[[str], bool]) -> list[Clause]:
        """The clauses of the units ``keep`` accepts."""
        def kept(name: str) -> tuple:
            return tuple(v for v in dict.fromkeys(getattr(self, name)) if keep(f"{name}:{_unit_value(v)}"))

        def group(name: str) -> tuple:
            return tuple(dict.fromkeys(getattr(self, name))) if keep(name) else ()

        out: list[Clause] = []
        if (self.year_min is not None or self.year_max is not None) and keep("year"):
            out.append(Clause("year", "range", low=self.year_min, high=self.year_max))
        out += [Clause("genres", "any", (g, *GENRE_ALTERNATIVES.get(label_key(g), ()))) for g in kept("genres_all")]
        fields: tuple[tuple[Attribute, Operator, tuple], ...] = (
            ("genres", "any", group("genres_any")), ("genres", "none", kept("genres_none")),
            ("people", "any", group("people_any")), ("people", "none", kept("people_none")),
            ("directors", "any", group("directors_any")), ("cast", "any", group("cast_any")),
            ("writers", "any", group("writers_any")), ("keywords", "none", kept("keywords_none")))
        out += [Clause(attribute, op, values) for attribute, op, values in fields if values]
        out += [Clause("year", "outside", low=d, high=d + 9) for d in kept("decades_none")]
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
        nodes += [person_node(p) for p in (*self.people_any, *self.directors_any, *self.cast_any,
                                           *self.writers_any)]
        nodes += [decade_node(d) for d in self.decades()] if decades else []
        return list(dict.fromkeys(nodes))

    def excluded_nodes(self) -> list[str]:
        """The KG nodes ruled out: excluded genres, people, keywords and decades."""
        from kg.models import decade_node, genre_node, keyword_node, person_node

        nodes = [genre_node(g) for g in self.genres_none] + [person_node(p) for p in self.people_none]
        nodes += [keyword_node(k) for k in self.keywords_none] + [decade_node(d) for d in self.decades_none]
        return list(dict.fromkeys(nodes))

    # ------------------------------------------------------------------ edits
    def without(self, what: str | Clause) -> Constraints:
        """A copy without one constraint.

        ``what`` is a clause of :meth:`clauses`, a KG node ("genre:horror", "person:tom hanks",
        "decade:1990"), a label as stored ("horror", "Tom Hanks"), or "years" for the year range.
        """
        out = self.model_copy(deep=True)
        if isinstance(what, Clause):
            if what.attribute == "year" and what.op == "outside":
                out.decades_none = [d for d in out.decades_none if d != what.low]
            elif what.attribute == "year":
                out.year_min = out.year_max = None
            elif what.attribute in _FIELDS:
                _, positive, negative = _FIELDS[what.attribute]
                drop = what.keys
                names = positive if what.positive else (negative,) if negative else ()
                for name in names:
                    setattr(out, name, [v for v in getattr(out, name) if label_key(v) not in drop])
            return out._pruned()
        if what == "years" or what.startswith("decade:"):
            out.year_min = out.year_max = None
            if what.startswith("decade:"):
                out.decades_none = [d for d in out.decades_none if str(d) != what.split(":", 1)[1]]
            return out._pruned()
        kind, _, value = what.partition(":") if ":" in what else ("", "", what)
        key = label_key(value)
        for node_kind, positive, negative in _FIELDS.values():
            if kind and kind != node_kind:
                continue
            for name in (*positive, *((negative,) if negative else ())):
                setattr(out, name, [v for v in getattr(out, name) if v != what and label_key(v) != key])
        return out._pruned()

    # ------------------------------------------------------------------ units and their origins
    def units(self) -> list[str]:
        """Each constraint that can be dropped on its own: "year" (the range), one per required
        or excluded genre, excluded person, keyword and decade ("genres_all:comedy",
        "decades_none:1980"), and the "any of" groups as a whole ("people_any", "cast_any")."""
        out = ["year"] if self.year_min is not None or self.year_max is not None else []
        for name in _VALUE_UNITS:
            out += [f"{name}:{_unit_value(v)}" for v in dict.fromkeys(getattr(self, name))]
        out += [name for name in _GROUP_UNITS if getattr(self, name)]
        return out

    def without_unit(self, unit: str) -> Constraints:
        """A copy without one unit of :meth:`units` (and its origin)."""
        out = self.model_copy(deep=True)
        name, _, value = unit.partition(":")
        if name == "year":
            out.year_min = out.year_max = None
        elif name in _GROUP_UNITS:
            setattr(out, name, [])
        elif name in _VALUE_UNITS:
            setattr(out, name, [v for v in getattr(out, name) if _unit_value(v) != value])
        return out._pruned()

    def only_unit(self, unit: str) -> Constraints:
        """A copy holding nothing but one unit, hard (to test an item against that constraint
        alone)."""
        out = self
        for other in self.units():
            if other != unit:
                out = out.without_unit(other)
        out = out if out is not self else self.model_copy(deep=True)
        if unit in out.origins:
            out.origins[unit] = out.origins[unit].model_copy(update={"hard": True})
        return out

    def hard_units(self) -> list[str]:
        """The units that filter."""
        return [unit for unit in self.units() if self.origin(unit).hard]

    def soft_units(self) -> list[str]:
        """The units that only rank the items meeting them first."""
        return [unit for unit in self.units() if not self.origin(unit).hard]

    def hard_only(self) -> Constraints:
        """A copy without the soft units (what a list is promised to meet)."""
        out = self
        for unit in self.soft_units():
            out = out.without_unit(unit)
        return out if out is not self else self.model_copy(deep=True)

    def label(self, unit: str) -> str:
        """How a unit reads in a sentence ("comedy", "from 1990–1999", "starring Tom Hanks")."""
        name, _, value = unit.partition(":")
        if name == "year":
            low, high = self.year_min, self.year_max
            if low is not None and high is not None:
                return f"from {low}" if low == high else f"from {low}–{high}"
            return f"from {low} on" if low is not None else f"up to {high}"
        people = {"people_any": "with ", "directors_any": "directed by ", "cast_any": "starring ",
                  "writers_any": "written by "}
        if name in people:
            return people[name] + " or ".join(getattr(self, name))
        if name == "genres_any":
            return " or ".join(self.genres_any)
        original = next((v for v in getattr(self, name, []) if _unit_value(v) == value), value)
        prefix = {"genres_all": "", "genres_none": "no ", "people_none": "without ", "keywords_none": "nothing ",
                  "decades_none": "not from the "}.get(name, "")
        return f"{prefix}{original}{'s' if name == 'decades_none' else ''}"

    def origin(self, unit: str) -> ConstraintOrigin:
        """Where a unit came from (an explicit request when nothing was recorded)."""
        return self.origins.get(unit) or ConstraintOrigin()

    def _pruned(self) -> Constraints:
        """Origins of units that are no longer there dropped."""
        present = set(self.units())
        self.origins = {unit: origin for unit, origin in self.origins.items() if unit in present}
        return self

    def excluding(self, item_ids: Iterable[str]) -> ItemFilter:
        """These constraints, and never the given items (shown, seen, disliked)."""
        data = self.model_dump()
        data["exclude_ids"] = set(data.get("exclude_ids", ())) | set(item_ids)
        return ItemFilter(**data)


def _unit_value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else label_key(value)


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
