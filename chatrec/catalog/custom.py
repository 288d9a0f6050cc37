"""Any catalog as JSONL or CSV (a shop's products, a library's books), plus optional interactions.

The schema is documented in ``docs/custom-catalog.md``. In short, one item per JSONL line or CSV
row with a required ``id`` and ``title`` and optional ``year``, ``genres``/``categories``,
``directors``, ``cast``, ``writers``, ``creators``/``brand``, ``keywords``/``features``, ``tags``,
``aliases``, ``description``, ``popularity``, ``mean_rating``, ``kind`` and ``external_ids``. List
fields are JSON arrays of strings in JSONL and ``|``-separated in CSV; external ids are a JSON
object in JSONL and ``external_ids.<system>`` columns in CSV.

Interactions (``user_id,item_id[,rating][,timestamp]``) come from ``<stem>.interactions.csv`` (or
``.jsonl``) next to the catalog file, or from an explicit path. Any malformed input raises
``CatalogFormatError`` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatrec.catalog.genres import canonical_genres
from chatrec.catalog.models import Catalog, Interactions, Item
from chatrec.catalog.normalize import parse_title
from chatrec.errors import CatalogFormatError

logger = logging.getLogger(__name__)

SUFFIXES = (".jsonl", ".csv")
LIST_FIELDS = ("genres", "categories", "directors", "cast", "writers", "creators", "keywords",
               "features", "tags", "aliases")
EXTERNAL_PREFIX = "external_ids."
DEFAULT_KIND = "item"


class CustomRecord(BaseModel):
    """One row of a custom catalog, as written by its author (before canonicalisation)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str | int
    title: str = Field(min_length=1)
    year: int | None = Field(default=None, ge=0, le=9999)
    genres: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    directors: list[str] = Field(default_factory=list)
    cast: list[str] = Field(default_factory=list)
    writers: list[str] = Field(default_factory=list)
    creators: list[str] = Field(default_factory=list)
    brand: str | None = None
    keywords: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    popularity: int | None = Field(default=None, ge=0)
    mean_rating: float | None = None
    kind: str = DEFAULT_KIND
    external_ids: dict[str, str | int] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, value: str | int) -> str | int:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value

    def to_item(self) -> Item:
        def clean(values: list[str]) -> list[str]:
            kept: list[str] = []
            for value in values:
                value = value.strip()
                if value and value not in kept:
                    kept.append(value)
            return kept

        title, year, aliases = self.title, self.year, list(self.aliases)
        if self.kind == "movie":  # movie titles may carry a year and alternate titles
            parsed = parse_title(self.title)
            title, year = parsed.title, year or parsed.year
            aliases = [*parsed.aliases, *aliases]
        creators = [*self.creators, *([self.brand] if self.brand else [])]
        return Item(
            id=str(self.id).strip(), title=title, year=year,
            genres=canonical_genres([*self.genres, *self.categories]),
            directors=clean(self.directors), cast=clean(self.cast), writers=clean(self.writers),
            creators=clean(creators), keywords=clean([*self.keywords, *self.features]),
            tags=clean(self.tags), aliases=clean(aliases), description=self.description,
            popularity=self.popularity or 0, mean_rating=self.mean_rating,
            external_ids={k: str(v) for k, v in self.external_ids.items()}, kind=self.kind,
        )


class InteractionRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    user_id: str | int
    item_id: str | int
    rating: float = 1.0
    timestamp: int | None = None


def load_custom(path: Path, interactions: Path | None = None,
                sources: dict[str, str] | None = None) -> Catalog:
    """Load a custom catalog (``.jsonl`` or ``.csv``) and its interactions, if any.

    Args:
        path: the catalog file.
        interactions: an interactions file; default ``<stem>.interactions.csv``/``.jsonl`` next
            to ``path`` when it exists.
        sources: file name → sha256 of the inputs, kept on the catalog for provenance.

    Raises:
        CatalogFormatError: naming the file, line and field of the first problem found.
    """
    path = Path(path)
    records = list(_read_records(path, CustomRecord))
    if not records:
        raise CatalogFormatError(f"{path}: the catalog has no items: add one JSON object per "
                                 "line (JSONL) or a header and one row per item (CSV)")
    items: list[Item] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        item = record.to_item()
        if item.id in first_line:
            raise CatalogFormatError(f"{path}:{line}: field 'id': duplicate id {item.id!r} "
                                     f"(first on line {first_line[item.id]})")
        first_line[item.id] = line
        items.append(item)

    interactions_path = interactions or find_interactions(path)
    inter = None
    if interactions_path is not None:
        inter = _load_interactions(Path(interactions_path), first_line)
        items = _fill_stats(items, inter)
    return Catalog(path.stem, items, inter, sources)


def find_interactions(path: Path) -> Path | None:
    """``<stem>.interactions.csv`` or ``.jsonl`` beside a catalog file, if present."""
    for suffix in SUFFIXES:
        candidate = path.with_name(f"{path.stem}.interactions{suffix}")
        if candidate.is_file():
            return candidate
    return None


def _fill_stats(items: Iterable[Item], inter: Interactions) -> list[Item]:
    """Items without a popularity (or mean rating) get them from the interactions."""
    return list(_filled(items, inter))


def _filled(items: Iterable[Item], inter: Interactions) -> Iterator[Item]:
    counts, means = inter.item_counts, inter.item_means
    for item in items:
        update: dict[str, Any] = {}
        if not item.popularity and item.id in counts:
            update["popularity"] = int(counts[item.id])
        if item.mean_rating is None and item.id in means:
            update["mean_rating"] = round(float(means[item.id]), 3)
        yield item.model_copy(update=update) if update else item


def count_records(path: Path) -> int:
    """About how many items a catalog file holds (its non-empty lines, less a CSV header),
    read in blocks: enough to choose how to load it."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            lines += block.count(b"\n")
            last = block
    lines += not last.endswith(b"\n")
    return max(0, lines - (1 if path.suffix.lower() == ".csv" else 0))


def stream_custom(path: Path, interactions: Path | None = None) -> tuple[Iterator[Item], Interactions | None]:
    """The items of a custom catalog one at a time (a catalog too large to hold as models), and
    its interactions; the same items, checks and errors as ``load_custom``."""
    path = Path(path)
    inter = None
    interactions_path = interactions or find_interactions(path)
    if interactions_path is not None:
        known = {str(record.id).strip(): line for line, record in _read_records(path, CustomRecord, stream=True)}
        inter = _load_interactions(Path(interactions_path), known)

    def items() -> Iterator[Item]:
        first_line: dict[str, int] = {}
        for line, record in _read_records(path, CustomRecord, stream=True):
            item = record.to_item()
            if item.id in first_line:
                raise CatalogFormatError(f"{path}:{line}: field 'id': duplicate id {item.id!r} "
                                         f"(first on line {first_line[item.id]})")
            first_line[item.id] = line
            yield item
        if not first_line:
            raise CatalogFormatError(f"{path}: the catalog has no items")

    return (_filled(items(), inter) if inter is not None else items()), inter


def _load_interactions(path: Path, known: Container[str]) -> Interactions:
    rows = []
    for line, record in _read_records(path, InteractionRecord):
        item_id = str(record.item_id).strip()
        if item_id not in known:
            raise CatalogFormatError(f"{path}:{line}: field 'item_id': {item_id!r} is not an id "
                                     "of the catalog")
        timestamp = record.timestamp if record.timestamp is not None else line
        rows.append((str(record.user_id).strip(), item_id, record.rating, timestamp))
    frame = pd.DataFrame(rows, columns=list(Interactions.COLUMNS))
    return Interactions(frame)


# ---------------------------------------------------------------- parsing
def _read_records(path: Path, model: type[BaseModel], stream: bool = False) -> Iterator[tuple[int, Any]]:
    """(line number, validated record) for each row of a JSONL or CSV file (``stream``: a JSONL
    file read line by line rather than whole)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CatalogFormatError(f"{path}: unknown catalog format {suffix or '(no suffix)'!r}: "
                                 "use a .jsonl or .csv file")
    if stream and suffix == ".jsonl":
        rows = _jsonl_rows(path, _decoded_lines(path))
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CatalogFormatError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
        text = _decode(path, data)
        rows = _jsonl_rows(path, text.splitlines()) if suffix == ".jsonl" else _csv_rows(path, text)
    warned: set[str] = set()
    for line, raw in rows:
        unknown = set(raw) - set(model.model_fields) - {k for k in raw if k.startswith(EXTERNAL_PREFIX)}
        if unknown - warned:
            logger.warning("%s: ignoring unknown field(s) %s", path, ", ".join(sorted(unknown - warned)))
            warned |= unknown
        try:
            yield line, model.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = error["loc"]
            # Union members add their type to the location ("id", "str"): name the field only.
            field = ".".join(str(p) for p in loc[: 2 if loc and loc[0] == "external_ids" else 1])
            got = error.get("input")
            shown = "" if isinstance(got, dict) else f", got {got!r}"
            what = error["msg"].lower()
            if error["type"] == "list_type":
                what = 'expected a JSON array of strings such as ["a", "b"]'
            raise CatalogFormatError(f"{path}:{line}: field {field!r}: {what}{shown}") from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogFormatError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}): "
                                 "save the file as UTF-8") from None


def _decoded_lines(path: Path) -> Iterator[str]:
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise CatalogFormatError(f"{path}:{number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}): "
                                             "save the file as UTF-8") from None
    except OSError as exc:
        raise CatalogFormatError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc


def _jsonl_rows(path: Path, lines: Iterable[str]) -> Iterator[tuple[int, dict]]:
    for line, content in enumerate(lines, start=1):
        if not content.strip():
            continue
        try:
            row = json.loads(content)
        except json.JSONDecodeError as exc:
            raise CatalogFormatError(f"{path}:{line}: not valid JSON ({exc.msg} at column "
                                     f"{exc.colno})") from None
        if not isinstance(row, dict):
            raise CatalogFormatError(f"{path}:{line}: expected a JSON object, got "
                                     f"{type(row).__name__}")
        yield line, row


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return
    header = [name.strip() for name in reader.fieldnames]
    if len(set(header)) != len(header):
        raise CatalogFormatError(f"{path}:1: the header repeats a column name")
    reader.fieldnames = header
    for raw in reader:
        line = reader.line_num
        if None in raw:
            raise CatalogFormatError(f"{path}:{line}: more cells than header columns "
                                     "(quote cells that contain commas)")
        row: dict[str, Any] = {}
        external: dict[str, str] = {}
        for key, value in raw.items():
            value = (value or "").strip()
            if value == "":
                continue  # an empty cell is a missing value
            if key.startswith(EXTERNAL_PREFIX):
                external[key[len(EXTERNAL_PREFIX):]] = value
            elif key in LIST_FIELDS:
                row[key] = [part.strip() for part in value.split("|") if part.strip()]
            else:
                row[key] = value
        if external:
            row["external_ids"] = external
        if row:
            yield line, row
