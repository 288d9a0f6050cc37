"""The catalog's data types: ``Item``, ``Interactions`` and ``Catalog``.

Every other room of chatrec speaks in these. Item ids are the source's own ids as strings
(MovieLens ``movieId``, ReDial movie id, the ``id`` column of a custom catalog), so sessions,
profiles and caches made before a rebuild stay valid after it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from pandas.util import hash_pandas_object
from pydantic import BaseModel, ConfigDict, Field

from chatrec.catalog.normalize import display_title, title_key

if TYPE_CHECKING:
    from chatrec.catalog.masks import ConstraintMasks


class Item(BaseModel):
    """One recommendable thing (a movie, or a product of a custom catalog).

    Attributes:
        id: the source's own id, as a string; stable across rebuilds.
        title: display title with the article in front ("The Matrix"), no year.
        year: release year, if known.
        genres: canonical lowercase genre/category labels ("sci-fi", "comedy").
        directors, cast, writers: people, by their usual full name (movies).
        creators: people or brands who made a non-movie item (author, brand, artist).
        keywords: short descriptive keywords (tag genome, product features).
        tags: free user tags.
        description: plot or product description.
        popularity: number of ratings or interactions (0 when unknown).
        mean_rating: average rating, if known.
        aliases: other titles this item is known by.
        external_ids: ids in other systems (imdb, tmdb, movielens, redial).
        kind: "movie" or whatever a custom catalog calls its things.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    directors: list[str] = Field(default_factory=list)
    cast: list[str] = Field(default_factory=list)
    writers: list[str] = Field(default_factory=list)
    creators: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    popularity: int = 0
    mean_rating: float | None = None
    aliases: list[str] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(default_factory=dict)
    kind: str = "movie"

    @property
    def display(self) -> str:
        """"The Matrix (1999)"."""
        return display_title(self.title, self.year)

    @property
    def decade(self) -> int | None:
        return (self.year // 10) * 10 if self.year else None

    @property
    def people(self) -> list[tuple[str, str]]:
        """(role, name) pairs; role is one of director, cast, writer, creator."""
        roles = (("director", self.directors), ("cast", self.cast), ("writer", self.writers),
                 ("creator", self.creators))
        return [(role, name) for role, names in roles for name in names]


class Interactions:
    """Who rated or used what, when. A thin columnar wrapper over a pandas DataFrame with the
    columns ``user_id`` (str), ``item_id`` (str), ``rating`` (float), ``timestamp`` (int)."""

    COLUMNS = ("user_id", "item_id", "rating", "timestamp")

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in self.COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"interactions lack columns {missing}")
        frame = frame.loc[:, list(self.COLUMNS)].copy()
        frame["user_id"] = frame["user_id"].astype(str)
        frame["item_id"] = frame["item_id"].astype(str)
        frame["rating"] = frame["rating"].astype(np.float32)
        frame["timestamp"] = frame["timestamp"].astype(np.int64)
        self.frame = frame.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def _by_user(self) -> dict[str, pd.DataFrame]:
        return {str(uid): part.sort_values("timestamp", kind="stable")
                for uid, part in self.frame.groupby("user_id", sort=False)}

    @property
    def user_ids(self) -> list[str]:
        return list(self._by_user)

    def history(self, user_id: str) -> pd.DataFrame:
        """The user's interactions in time order (empty frame for an unknown user)."""
        found = self._by_user.get(str(user_id))
        return found if found is not None else self.frame.head(0)

    def has_user(self, user_id: str) -> bool:
        return str(user_id) in self._by_user

    @cached_property
    def item_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.frame["item_id"].value_counts().items()}

    @cached_property
    def item_means(self) -> dict[str, float]:
        return {str(k): float(v) for k, v in self.frame.groupby("item_id")["rating"].mean().items()}

    def without(self, pairs: Iterable[tuple[str, str]]) -> Interactions:
        """A copy without the given (user_id, item_id) pairs: hold-outs for evaluation."""
        drop = {(str(u), str(i)) for u, i in pairs}
        if not drop:
            return Interactions(self.frame)
        keys = list(zip(self.frame["user_id"], self.frame["item_id"], strict=True))
        mask = np.fromiter(((u, i) not in drop for u, i in keys), dtype=bool, count=len(keys))
        return Interactions(cast(pd.DataFrame, self.frame.loc[mask]))

    def fingerprint(self) -> str:
        digest = hashlib.sha256(hash_pandas_object(self.frame, index=False).to_numpy().tobytes())
        return digest.hexdigest()[:16]


class Catalog:
    """Items by id, in a stable order, plus optional interactions and a title lookup.

    Args:
        name: "movielens", "redial", or a custom catalog's name.
        items: the items; ids must be unique.
        interactions: ratings/usage, if the source has them.
        sources: file name → sha256 of the inputs it was built from (for provenance in reports).
        id_aliases: other ids of an item → its id. A source that lists one film under several
            ids (ReDial does) has them merged into one item; the other ids still resolve to it
            (``catalog[alias]``, ``alias in catalog``, ``canonical_id``) but are never listed.
    """

    def __init__(self, name: str, items: Iterable[Item], interactions: Interactions | None = None,
                 sources: dict[str, str] | None = None, id_aliases: dict[str, str] | None = None):
        self.name = name
        self.items: dict[str, Item] = {}
        for item in items:
            if item.id in self.items:
                raise ValueError(f"duplicate item id {item.id!r} in catalog {name!r}")
            self.items[item.id] = item
        self.interactions = interactions
        self.sources = dict(sources or {})
        self.id_aliases: dict[str, str] = {}
        for alias, target in (id_aliases or {}).items():
            if alias in self.items:
                raise ValueError(f"id {alias!r} is both an item and an alias in catalog {name!r}")
            if target not in self.items:
                raise ValueError(f"alias {alias!r} points to unknown item {target!r} in catalog {name!r}")
            self.id_aliases[alias] = target

    # ---- mapping protocol ----
    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items.values())

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.items or item_id in self.id_aliases

    def __getitem__(self, item_id: str) -> Item:
        found = self.items.get(item_id)
        if found is None:
            return self.items[self.id_aliases.get(item_id, item_id)]
        return found

    def get(self, item_id: str) -> Item | None:
        found = self.items.get(item_id)
        if found is None and item_id in self.id_aliases:
            return self.items[self.id_aliases[item_id]]
        return found

    def canonical_id(self, item_id: str) -> str | None:
        """The id of the item ``item_id`` names (itself, or the item an alias id was merged
        into); None when the catalog has no such id."""
        if item_id in self.items:
            return item_id
        return self.id_aliases.get(item_id)

    def ids_of(self, item_id: str) -> list[str]:
        """Every id of the item ``item_id`` names: its own first, then its alias ids."""
        canonical = self.canonical_id(item_id)
        if canonical is None:
            return []
        return [canonical, *self._alias_ids.get(canonical, [])]

    @cached_property
    def _alias_ids(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for alias, target in sorted(self.id_aliases.items()):
            out[target].append(alias)
        return dict(out)

    @property
    def ids(self) -> list[str]:
        return list(self.items)

    # ---- lookups ----
    @cached_property
    def _title_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for item in self.items.values():
            for title in (item.title, *item.aliases):
                key = title_key(title)
                if key and item.id not in index[key]:
                    index[key].append(item.id)
        for ids in index.values():
            ids.sort(key=lambda i: -self.items[i].popularity)
        return dict(index)

    def has_title_key(self, key: str) -> bool:
        """Whether some item's normalised title or alias is ``key`` (a ``title_key``): a cheap
        test before ``find_title``."""
        return key in self._title_index

    def find_title(self, text: str, year: int | None = None) -> list[Item]:
        """Items whose normalised title (or alias) equals that of ``text``, most popular first.
        A year in ``text`` ("Heat (1995)") or ``year`` narrows the match when it can."""
        from chatrec.catalog.normalize import parse_title

        parsed = parse_title(text)
        year = year or parsed.year
        ids = self._title_index.get(title_key(text), [])
        found = [self.items[i] for i in ids]
        if year is not None:
            exact = [it for it in found if it.year is not None and abs(it.year - year) <= 1]
            if exact:
                return exact
        return found

    def popular(self, n: int | None = None) -> list[Item]:
        ranked = sorted(self.items.values(), key=lambda it: (-it.popularity, it.id))
        return ranked if n is None else ranked[:n]

    # ---- columns (what whole-catalog work reads; a columnar catalog serves them from disk) ----
    def popularity_array(self) -> np.ndarray:
        """Each item's popularity, in ``ids`` order."""
        return np.array([item.popularity for item in self.items.values()], dtype=np.int64)

    def mean_rating_array(self) -> np.ndarray:
        """Each item's mean rating (NaN when unknown), in ``ids`` order."""
        return np.array([np.nan if item.mean_rating is None else item.mean_rating
                         for item in self.items.values()], dtype=np.float32)

    def year_array(self) -> np.ndarray:
        """Each item's year (0 when unknown), in ``ids`` order."""
        return np.array([item.year or 0 for item in self.items.values()], dtype=np.int32)

    def constraint_masks(self) -> ConstraintMasks:
        """The constraint engine over this catalog's rows (``ids`` order)."""
        from chatrec.catalog.masks import ConstraintMasks

        return ConstraintMasks(self.ids, self.items)

    def fingerprint(self) -> str:
        """A short hash of the items' content: the cache key for everything derived from them."""
        digest = hashlib.sha256()
        for item in self.items.values():
            digest.update(json.dumps(item.model_dump(mode="json"), sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def with_interactions(self, interactions: Interactions) -> Catalog:
        """This catalog learning from other interactions (a training log): each item's popularity
        and mean rating are recomputed from them, so a held-out rating reaches neither. The
        name is kept: the items' documents, and so their vector index, are the same."""
        counts = interactions.item_counts
        means = interactions.item_means
        items = [
            item.model_copy(update={
                "popularity": int(counts.get(item.id, 0)),
                "mean_rating": round(means[item.id], 3) if item.id in means else None,
            })
            for item in self.items.values()
        ]
        return Catalog(self.name, items, interactions, self.sources)

    def subset(self, ids: Iterable[str], name: str | None = None) -> Catalog:
        """A smaller catalog with the given items (and their interactions), e.g. for tests."""
        keep = list(dict.fromkeys(c for c in (self.canonical_id(i) for i in ids) if c is not None))
        keep_set = set(keep)
        inter = None
        if self.interactions is not None:
            frame = self.interactions.frame
            inter = Interactions(cast(pd.DataFrame, frame.loc[frame["item_id"].isin(sorted(keep_set))]))
        aliases = {a: t for a, t in self.id_aliases.items() if t in keep_set}
        return Catalog(name or self.name, (self.items[i] for i in keep), inter, self.sources, aliases)
