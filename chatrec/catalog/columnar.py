"""A catalog too large to hold as Python objects: columns on disk, memory-mapped, read lazily.

A million ``Item`` models cost about 5 KB each in a worker; the same items as columns (string
tables, ragged code lists, numpy scalars) cost a few hundred bytes each on disk, and a worker pays
RAM only for the pages it reads, shared with every other worker on the machine. The folder is
built once (``build_columnar``, from any stream of items: ``load_catalog`` does it for large
custom catalogs) and opened by ``ColumnarCatalog``, which is a ``Catalog``: ``catalog[id]``
materialises one ``Item`` (cached for the items a conversation keeps touching), and the columns
serve the whole-catalog work directly — constraint masks, popularity, years, knowledge-graph
edges (``kg.columnar``) — without ever building a million items.

Layout of the folder (every array a ``.npy``)::

    meta.json                 name, count, fingerprint (as ``Catalog.fingerprint``), sources
    id, title, description, alias, external_ids    string tables
    alias                     ragged: item → positions in the alias string table
    year, popularity, mean_rating, kind             one value per item
    genres/directors/cast/writers/creators/keywords/tags   ragged codes into a vocabulary
    vocab.<family>            the raw spellings of a family (genre, person, keyword, tag)
    entity.<family>           raw spelling → entity code (its label key), -1 for none
    keys.<family>, labels.<family>    entity label keys and their most frequent spelling
    inv.<field>               inverted index: entity code → rows
    ids.marisa, titles.marisa, people.marisa        look-ups (marisa-trie, memory-mapped)
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, cast, overload

import marisa_trie
import numpy as np

from chatrec.catalog.columns import (
    Ragged,
    RaggedWriter,
    StringTable,
    StringTableWriter,
    build_aside,
    invert,
    load_array,
    save_array,
    save_ragged,
    write_strings,
)
from chatrec.catalog.masks import ConstraintMasks
from chatrec.catalog.models import Catalog, Interactions, Item
from chatrec.catalog.normalize import keyword_forms, label_key, parse_title, title_key

logger = logging.getLogger(__name__)

#: Bump when the folder layout changes.
COLUMNAR_VERSION = 2
#: Label fields and the vocabulary family each draws from.
LABEL_FIELDS = {"genres": "genre", "directors": "person", "cast": "person", "writers": "person",
                "creators": "person", "keywords": "keyword", "tags": "tag"}
PEOPLE_FIELDS = ("directors", "cast", "writers", "creators")
#: Constraint attributes that are one label field each (``constraints.item_keys``).
ROLE_ATTRIBUTES = ("directors", "cast", "writers", "keywords")
#: Families whose spellings are knowledge-graph entities (tags are not).
ENTITY_FAMILIES = ("genre", "person", "keyword")
#: How many materialised items a catalog keeps (the items of a few conversations).
ITEM_CACHE = 4096


# ---------------------------------------------------------------------------- building
class _Vocabulary:
    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, text: str) -> int:
        found = self.codes.get(text)
        if found is None:
            found = self.codes[text] = len(self.codes)
        return found


def build_columnar(items: Iterable[Item], folder: Path, name: str, sources: dict[str, str] | None = None,
                   interactions: Interactions | None = None, id_aliases: dict[str, str] | None = None) -> Path:
    """Write the columns of ``items`` (streamed: never held as a list) into ``folder``, built
    aside and renamed into place. Duplicate ids raise ``ValueError`` (as ``Catalog`` does)."""
    return build_aside(Path(folder), lambda staging: _write(items, staging, name, sources or {}, interactions,
                                                           id_aliases or {}))


def _write(items: Iterable[Item], folder: Path, name: str, sources: dict[str, str],
           interactions: Interactions | None, id_aliases: dict[str, str]) -> None:
    strings = {column: StringTableWriter() for column in ("id", "title", "description", "alias", "external_ids")}
    aliases = RaggedWriter()
    labels = {field: RaggedWriter() for field in LABEL_FIELDS}
    vocab = {family: _Vocabulary() for family in {*LABEL_FIELDS.values()}}
    kinds = _Vocabulary()
    years, popularity, means, kind_codes = [], [], [], []
    seen: set[str] = set()
    digest = hashlib.sha256()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate item id {item.id!r} in catalog {name!r}")
        seen.add(item.id)
        digest.update(json.dumps(item.model_dump(mode="json"), sort_keys=True).encode())
        strings["id"].append(item.id)
        strings["title"].append(item.title)
        strings["description"].append(item.description)
        strings["external_ids"].append(json.dumps(item.external_ids, sort_keys=True) if item.external_ids else "")
        aliases.append(strings["alias"].append(alias) for alias in item.aliases)
        for field, family in LABEL_FIELDS.items():
            labels[field].append(vocab[family].code(value) for value in getattr(item, field))
        years.append(item.year or 0)
        popularity.append(item.popularity)
        means.append(np.nan if item.mean_rating is None else item.mean_rating)
        kind_codes.append(kinds.code(item.kind))
    del seen
    count = len(strings["id"])
    for column, writer in strings.items():
        writer.save(folder, column)
    aliases.save(folder, "alias")
    save_array(folder / "year.npy", np.asarray(years, dtype=np.int32))
    save_array(folder / "popularity.npy", np.asarray(popularity, dtype=np.int64))
    save_array(folder / "mean_rating.npy", np.asarray(means, dtype=np.float64))
    save_array(folder / "kind.npy", np.asarray(kind_codes, dtype=np.int32))
    for field, writer in labels.items():
        writer.save(folder, field)
    for family, words in vocab.items():
        spellings = list(words.codes)
        write_strings(folder, f"vocab.{family}", spellings)
        if family not in ENTITY_FAMILIES:
            continue
        keys: dict[str, int] = {}
        entity = np.full(len(spellings), -1, dtype=np.int32)
        for code, spelling in enumerate(spellings):
            key = label_key(spelling)
            if key:
                entity[code] = keys.setdefault(key, len(keys))
        save_array(folder / f"entity.{family}.npy", entity)
        write_strings(folder, f"keys.{family}", keys)
        # An entity spelled differently across items is one node, shown by its most frequent
        # spelling (as ``kg.graph`` does).
        votes: dict[int, Counter[str]] = defaultdict(Counter)
        for field, field_family in LABEL_FIELDS.items():
            if field_family != family:
                continue
            ragged = Ragged(folder, field)
            uses = np.bincount(np.asarray(ragged.values), minlength=len(spellings))
            for code in np.flatnonzero(uses):
                if entity[code] >= 0:
                    votes[int(entity[code])][spellings[code].strip()] += int(uses[code])
        write_strings(folder, f"labels.{family}", (votes[code].most_common(1)[0][0] if votes[code] else key
                                                   for key, code in keys.items()))
        for field, field_family in LABEL_FIELDS.items():
            if field_family == family:
                ragged = Ragged(folder, field)
                codes = entity[np.asarray(ragged.values)] if len(ragged.values) else np.zeros(0, np.int32)
                indptr, rows = invert((ragged.indptr, codes), len(keys))
                save_ragged(folder, f"inv.{field}", indptr, rows)
        if family == "person":
            marisa_trie.Trie(keys).save(str(folder / "people.marisa"))
    del vocab
    ids = StringTable(folder, "id")
    trie = marisa_trie.Trie(ids)
    rows = np.empty(count, dtype=np.int32)
    for row, item_id in enumerate(ids):
        rows[trie[item_id]] = row
    trie.save(str(folder / "ids.marisa"))
    save_array(folder / "id_rows.npy", rows)
    titles = StringTable(folder, "title")
    alias = Ragged(folder, "alias")
    alias_text = StringTable(folder, "alias")

    def title_keys() -> Iterator[tuple[str, tuple[int]]]:
        for row in range(count):
            found = {title_key(titles[row])}
            found.update(title_key(alias_text[int(a)]) for a in alias.row(row))
            for key in found:
                if key:
                    yield key, (row,)

    marisa_trie.RecordTrie("<i", title_keys()).save(str(folder / "titles.marisa"))
    pop = np.asarray(popularity, dtype=np.int64)
    id_rank = np.empty(count, dtype=np.int64)
    id_rank[np.argsort(np.asarray(list(ids), dtype=object), kind="stable")] = np.arange(count)
    save_array(folder / "popular.npy", np.lexsort((id_rank, -pop)).astype(np.int32))
    if interactions is not None:
        frame = interactions.frame.astype({"user_id": "category", "item_id": "category"})
        with open(folder / "interactions.pickle", "wb") as handle:
            pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {"version": COLUMNAR_VERSION, "name": name, "count": count, "fingerprint": digest.hexdigest()[:16],
            "sources": sources, "id_aliases": id_aliases, "kinds": list(kinds.codes)}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------- reading
class IdColumn(Sequence[str]):
    """The item ids in row order, decoded on access; ``first(n)`` views the first ``n`` rows
    (the rows of a vector matrix built over part of the catalog)."""

    def __init__(self, table: StringTable, limit: int | None = None):
        self._table = table
        self._n = len(table) if limit is None else min(limit, len(table))

    def first(self, n: int) -> IdColumn:
        """The ids of the first ``n`` rows."""
        return IdColumn(self._table, min(n, self._n))

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int | np.integer) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | np.integer | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._table[i] for i in range(*index.indices(self._n))] if self._n < len(self._table) \
                else self._table[index]
        row = int(index)
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError(index)
        return self._table[row]

    def __iter__(self) -> Iterator[str]:
        if self._n == len(self._table):
            return iter(self._table)
        return (self._table[i] for i in range(self._n))


class RowIndex(Mapping[str, int]):
    """Item id → row, through the memory-mapped id trie (what a ``dict`` of a million ids
    would hold in RAM); ``first(n)`` maps only the ids of the first ``n`` rows."""

    def __init__(self, trie: marisa_trie.Trie, rows: np.ndarray, ids: IdColumn):
        self._trie = trie
        self._rows = rows
        self._ids = ids

    def first(self, n: int) -> RowIndex:
        """Id → row among the first ``n`` rows."""
        return RowIndex(self._trie, self._rows, self._ids.first(n))

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        found = self._trie.get(key)
        if found is None:
            return default
        row = int(self._rows[found])
        return row if row < len(self._ids) else default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class _Items(Mapping[str, Item]):
    """``catalog.items`` of a columnar catalog: a read-only mapping that materialises on access."""

    def __init__(self, catalog: ColumnarCatalog):
        self._catalog = catalog

    def __getitem__(self, key: str) -> Item:
        row = self._catalog.row_of.get(key)
        if row is None:
            raise KeyError(key)
        return self._catalog.item_at(row)

    def get(self, key: object, default: Any = None) -> Any:
        row = self._catalog.row_of.get(key)
        return default if row is None else self._catalog.item_at(row)

    def __contains__(self, key: object) -> bool:
        return key in self._catalog.row_of

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog.ids)

    def __len__(self) -> int:
        return len(self._catalog)


class ColumnarCatalog(Catalog):
    """A ``Catalog`` over a folder written by ``build_columnar``.

    Everything ``Catalog`` offers works; what touches every item (iteration, ``fingerprint`` is
    stored, not recomputed) is for building, never for a turn: per-turn work reads the columns
    (``years``, ``popularity_counts``, ``constraint_masks``, ``kg.columnar.ColumnarGraph``).
    """

    def __init__(self, folder: Path):  # noqa: D107 - no Catalog.__init__: nothing is loaded whole
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        if self.meta.get("version") != COLUMNAR_VERSION:
            raise ValueError(f"columnar catalog {folder} has version {self.meta.get('version')}")
        self.name = self.meta["name"]
        self.sources = dict(self.meta.get("sources") or {})
        self.id_aliases = dict(self.meta.get("id_aliases") or {})
        self.interactions = None
        inter = self.folder / "interactions.pickle"
        if inter.is_file():
            with open(inter, "rb") as handle:
                self.interactions = Interactions(pickle.load(handle))
        self._count = int(self.meta["count"])
        self._strings = {column: StringTable(self.folder, column)
                         for column in ("id", "title", "description", "alias", "external_ids")}
        self._alias = Ragged(self.folder, "alias")
        self._labels = {field: Ragged(self.folder, field) for field in LABEL_FIELDS}
        self._vocab = {family: StringTable(self.folder, f"vocab.{family}") for family in {*LABEL_FIELDS.values()}}
        self.years = load_array(self.folder / "year.npy")
        self.popularity_counts = load_array(self.folder / "popularity.npy")
        self.mean_ratings = load_array(self.folder / "mean_rating.npy")
        self._kinds = load_array(self.folder / "kind.npy")
        self._kind_names = list(self.meta.get("kinds") or ["movie"])
        ids_trie = marisa_trie.Trie()
        ids_trie.mmap(str(self.folder / "ids.marisa"))
        self.ids_column = IdColumn(self._strings["id"])
        self.row_of = RowIndex(ids_trie, load_array(self.folder / "id_rows.npy"), self.ids_column)
        self._titles = marisa_trie.RecordTrie("<i")
        self._titles.mmap(str(self.folder / "titles.marisa"))
        self._cache: OrderedDict[int, Item] = OrderedDict()
        self.items = _Items(self)  # type: ignore[assignment]  # a lazy Mapping, not a dict

    @classmethod
    def is_columnar(cls, folder: Path) -> bool:
        return (Path(folder) / "meta.json").is_file()

    # ---- rows ----
    def item_at(self, row: int) -> Item:
        """The item of a row, materialised (and kept among the recently used)."""
        cached = self._cache.get(row)
        if cached is not None:
            self._cache.move_to_end(row)
            return cached
        item = self._materialise(row)
        self._cache[row] = item
        if len(self._cache) > ITEM_CACHE:
            self._cache.popitem(last=False)
        return item

    def _materialise(self, row: int) -> Item:
        s = self._strings
        labels = {field: [self._vocab[family][int(code)] for code in self._labels[field].row(row)]
                  for field, family in LABEL_FIELDS.items()}
        year = int(self.years[row])
        mean = float(self.mean_ratings[row])
        external = s["external_ids"][row]
        fields: dict[str, Any] = dict(
            id=s["id"][row], title=s["title"][row], year=year or None, **labels,
            description=s["description"][row], popularity=int(self.popularity_counts[row]),
            mean_rating=None if np.isnan(mean) else mean,
            aliases=[s["alias"][int(a)] for a in self._alias.row(row)],
            external_ids=json.loads(external) if external else {},
            kind=self._kind_names[int(self._kinds[row])])
        return Item.model_construct(None, **fields)

    def title_and_aliases(self, row: int) -> tuple[str, list[str]]:
        """A row's title and aliases, without materialising its item."""
        alias = self._strings["alias"]
        return self._strings["title"][row], [alias[int(a)] for a in self._alias.row(row)]

    def label_codes(self, field: str, row: int) -> np.ndarray:
        """The vocabulary codes of one label field of a row (``genres``, ``cast``...)."""
        return self._labels[field].row(row)

    def vocabulary(self, family: str) -> StringTable:
        return self._vocab[family]

    def mean_rating_array(self) -> np.ndarray:
        return np.asarray(self.mean_ratings, dtype=np.float32)

    def popularity_array(self) -> np.ndarray:
        return np.asarray(self.popularity_counts)

    def year_array(self) -> np.ndarray:
        return np.asarray(self.years, dtype=np.int32)

    def constraint_masks(self) -> ColumnarMasks:
        return ColumnarMasks(self)

    # ---- Catalog protocol ----
    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Item]:
        return (self._materialise(row) for row in range(self._count))

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.row_of or item_id in self.id_aliases

    def __getitem__(self, item_id: str) -> Item:
        row = self.row_of.get(item_id)
        if row is None:
            row = self.row_of.get(self.id_aliases.get(item_id, item_id))
            if row is None:
                raise KeyError(item_id)
        return self.item_at(row)

    def get(self, item_id: str) -> Item | None:
        try:
            return self[item_id]
        except KeyError:
            return None

    def canonical_id(self, item_id: str) -> str | None:
        if item_id in self.row_of:
            return item_id
        return self.id_aliases.get(item_id)

    @property
    def ids(self) -> IdColumn:  # type: ignore[override]  # a lazy sequence of the ids
        return self.ids_column

    def has_title_key(self, key: str) -> bool:
        return key in self._titles

    def find_title(self, text: str, year: int | None = None) -> list[Item]:
        parsed = parse_title(text)
        year = year or parsed.year
        rows = [row for (row,) in self._titles.get(title_key(text), [])]
        found = sorted((self.item_at(row) for row in rows), key=lambda it: -it.popularity)
        if year is not None:
            exact = [it for it in found if it.year is not None and abs(it.year - year) <= 1]
            if exact:
                return exact
        return found

    def title_rows(self, key: str) -> list[int]:
        """Rows whose title or alias has this title key."""
        return [row for (row,) in self._titles.get(key, [])]

    def popular(self, n: int | None = None) -> list[Item]:
        order = load_array(self.folder / "popular.npy")
        return [self.item_at(int(row)) for row in order[: n if n is not None else len(order)]]

    def fingerprint(self) -> str:
        return str(self.meta["fingerprint"])

    def __repr__(self) -> str:
        return f"ColumnarCatalog({self.name!r}, {self._count} items, {self.folder})"

    # ---- entities (for the knowledge graph and the masks) ----
    @cached_property
    def entity_keys(self) -> dict[str, StringTable]:
        return {family: StringTable(self.folder, f"keys.{family}") for family in ENTITY_FAMILIES}

    @cached_property
    def entity_labels(self) -> dict[str, StringTable]:
        return {family: StringTable(self.folder, f"labels.{family}") for family in ENTITY_FAMILIES}

    @cached_property
    def entity_of(self) -> dict[str, np.ndarray]:
        """family → (raw spelling code → entity code, -1 for none)."""
        return {family: load_array(self.folder / f"entity.{family}.npy") for family in ENTITY_FAMILIES}

    @cached_property
    def inverted(self) -> dict[str, Ragged]:
        """label field → (entity code → rows holding it)."""
        return {field: Ragged(self.folder, f"inv.{field}") for field, family in LABEL_FIELDS.items()
                if family in ENTITY_FAMILIES}

    @cached_property
    def _entity_codes(self) -> dict[str, Mapping[str, int]]:
        small = {family: {key: code for code, key in enumerate(self.entity_keys[family])}
                 for family in ("genre", "keyword")}
        people = marisa_trie.Trie()
        people.mmap(str(self.folder / "people.marisa"))
        keys = self.entity_keys["person"]
        order = np.empty(len(keys), dtype=np.int32)
        for code, key in enumerate(keys):
            order[people[key]] = code
        return {**small, "person": _TrieCodes(people, order)}

    def entity_code(self, family: str, key: str) -> int | None:
        """The entity code of a label key ("christopher nolan") in a family, or None."""
        return self._entity_codes[family].get(key)


class _TrieCodes(Mapping[str, int]):
    def __init__(self, trie: marisa_trie.Trie, order: np.ndarray):
        self._trie, self._order = trie, order

    def get(self, key: object, default: Any = None) -> Any:
        found = self._trie.get(key) if isinstance(key, str) else None
        return default if found is None else int(self._order[found])

    def __getitem__(self, key: str) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)


class ColumnarMasks(ConstraintMasks):
    """``ConstraintMasks`` over a columnar catalog: the same clauses (``clause_mask``, ``mask``),
    with labels answered from the inverted indexes and the year column instead of per-item sets."""

    def __init__(self, catalog: ColumnarCatalog):  # no super().__init__: it reads every item
        self.catalog = catalog
        self.ids = cast(list[str], catalog.ids)        # a read-only, lazily decoded sequence
        self.row_of = cast(dict[str, int], catalog.row_of)
        self.years = catalog.year_array()
        self.known = np.ones(len(catalog), dtype=bool)

    def __len__(self) -> int:
        return len(self.catalog)

    def rows_having(self, attribute: str, key: str) -> np.ndarray:
        """Rows holding one label key ("genres"/"people")."""
        if attribute == "genres":
            code = self.catalog.entity_code("genre", key)
            return self.catalog.inverted["genres"].row(code) if code is not None else np.zeros(0, np.int32)
        if attribute == "people":
            code = self.catalog.entity_code("person", key)
            if code is None:
                return np.zeros(0, np.int32)
            return np.concatenate([self.catalog.inverted[f].row(code) for f in PEOPLE_FIELDS])
        if attribute == "keywords":                    # every keyword answering to the key
            codes = self._keyword_codes.get(key, ())
            inverted = self.catalog.inverted["keywords"]
            return (np.concatenate([inverted.row(code) for code in codes]) if codes
                    else np.zeros(0, np.int32))
        if attribute in ROLE_ATTRIBUTES:               # one credit field ("directors", "writers"...)
            code = self.catalog.entity_code(LABEL_FIELDS[attribute], key)
            return self.catalog.inverted[attribute].row(code) if code is not None else np.zeros(0, np.int32)
        raise ValueError(f"no labels for attribute {attribute!r}")

    @cached_property
    def _keyword_codes(self) -> dict[str, list[int]]:
        """``keyword_key`` form → the codes of the keywords answering to it (``keyword_forms``)."""
        out: dict[str, list[int]] = defaultdict(list)
        for code, key in enumerate(self.catalog.entity_keys["keyword"]):
            for form in keyword_forms([key]):
                out[form].append(code)
        return dict(out)

    def having(self, attribute: str, keys: Iterable[str]) -> np.ndarray:
        mask = np.zeros(len(self), dtype=bool)
        if attribute == "id":
            rows = [row for row in (self.row_of.get(k) for k in keys) if row is not None]
            mask[rows] = True
            return mask
        for key in keys:
            mask[self.rows_having(attribute, key)] = True
        return mask


__all__ = ["COLUMNAR_VERSION", "ColumnarCatalog", "ColumnarMasks", "IdColumn", "RowIndex", "build_columnar"]
