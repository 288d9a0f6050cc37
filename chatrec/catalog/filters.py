"""Hard filters over items. The agent's constraints become an ``ItemFilter``; the vector index
translates it into a Chroma ``where`` clause, and every candidate list is re-checked with
``ItemFilter.matches`` so that a constraint holds whatever source produced the candidate."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chatrec.catalog.models import Item
from chatrec.catalog.normalize import label_key


class ItemFilter(BaseModel):
    """Constraints an item must satisfy. Empty filter = everything passes.

    Attributes:
        year_min, year_max: inclusive bounds on the release year (items without a year fail a
            bounded filter: we cannot promise they satisfy it).
        genres_all: every one of these genres must be present.
        genres_any: at least one of these genres must be present (empty = no constraint).
        genres_none: none of these genres may be present.
        people_any: at least one of these people (any role) must be credited.
        people_none: none of these people may be credited.
        exclude_ids: items never to return (shown, seen, disliked).
        kinds: restrict to these item kinds (custom catalogs).
    """

    year_min: int | None = None
    year_max: int | None = None
    genres_all: list[str] = Field(default_factory=list)
    genres_any: list[str] = Field(default_factory=list)
    genres_none: list[str] = Field(default_factory=list)
    people_any: list[str] = Field(default_factory=list)
    people_none: list[str] = Field(default_factory=list)
    exclude_ids: set[str] = Field(default_factory=set)
    kinds: list[str] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.year_min or self.year_max or self.genres_all or self.genres_any
                    or self.genres_none or self.people_any or self.people_none
                    or self.exclude_ids or self.kinds)

    def matches(self, item: Item) -> bool:
        if item.id in self.exclude_ids:
            return False
        if self.kinds and item.kind not in self.kinds:
            return False
        if self.year_min is not None and (item.year is None or item.year < self.year_min):
            return False
        if self.year_max is not None and (item.year is None or item.year > self.year_max):
            return False
        if self.genres_all or self.genres_any or self.genres_none:
            genres = {label_key(g) for g in item.genres}
            if any(label_key(g) not in genres for g in self.genres_all):
                return False
            if self.genres_any and not any(label_key(g) in genres for g in self.genres_any):
                return False
            if any(label_key(g) in genres for g in self.genres_none):
                return False
        if self.people_any or self.people_none:
            people = {label_key(name) for _, name in item.people}
            if self.people_any and not any(label_key(p) in people for p in self.people_any):
                return False
            if any(label_key(p) in people for p in self.people_none):
                return False
        return True
