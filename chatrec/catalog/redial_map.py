"""The derived table ReDial movie → IMDb id → MovieLens movie, with a year check.

ReDial's facts (``id2info.json``) carry an IMDb id; MovieLens' ``links.csv`` maps IMDb ids to its
movies. About 67 of those links point to a remake or a namesake ("A Nightmare on Elm Street (1984)"
→ the 2010 remake), so every link is checked against the years in the two titles:

- ``ok``: both titles have a year and they differ by at most ``YEAR_TOLERANCE``;
- ``unknown``: one title has no year (the link is kept: nothing contradicts the IMDb id);
- ``MISMATCH``: the years differ by more: the link is rejected everywhere in chatrec;
- ``""``: no IMDb id, or the IMDb id is not in MovieLens.

The table is regenerated from its inputs at build time (``build_redial_map``), never downloaded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from chatrec.catalog.atomic import atomic_write
from chatrec.catalog.normalize import parse_title
from chatrec.catalog.raw import imdb_key, read_id2info, read_links, read_movies, read_redial_names
from chatrec.catalog.sources import REDIAL_TO_MOVIELENS

#: Largest year difference between a ReDial title and a MovieLens title that still counts as the
#: same film (release years differ by one between countries and databases).
YEAR_TOLERANCE = 1
OK, UNKNOWN, MISMATCH = "ok", "unknown", "MISMATCH"
#: Statuses whose link is accepted.
ACCEPTED = (OK, UNKNOWN)
COLUMNS = ("redial_movieId", "redial_movieName", "imdb_id", "ml_movieId", "ml_title", "tmdbId",
           "year_check")


def year_check(redial_year: int | None, ml_year: int | None) -> str:
    """``ok``, ``unknown`` or ``MISMATCH`` for a link between titles of these years."""
    if redial_year is None or ml_year is None:
        return UNKNOWN
    return OK if abs(redial_year - ml_year) <= YEAR_TOLERANCE else MISMATCH


def redial_year(name: str | None, fallback_name: str | None = None) -> int | None:
    """The year in a ReDial name ("Headhunter  (2009)"), else in ``fallback_name``."""
    for text in (name, fallback_name):
        if text:
            year = parse_title(text).year
            if year is not None:
                return year
    return None


def build_redial_map(root: Path) -> pd.DataFrame:
    """The mapping table, one row per movie of ``movies_with_mentions.csv`` (all strings, "" for
    missing), in that file's order. Columns: ``COLUMNS``.

    Args:
        root: a data root with the shared/data layout.
    """
    names = read_redial_names(root)
    info = read_id2info(root)
    links = read_links(root)
    titles = dict(zip(*(read_movies(root)[c] for c in ("movieId", "title")), strict=True))
    by_imdb = {imdb: (mid, tmdb) for mid, imdb, tmdb in
               zip(links["movieId"], links["imdb"], links["tmdbId"], strict=True) if imdb is not None}

    rows = []
    for rid, name in names.items():
        row: dict[str, str] = dict.fromkeys(COLUMNS, "")
        row["redial_movieId"], row["redial_movieName"] = rid, name
        facts = info.get(rid)
        if facts is not None and facts.get("imdb_id"):
            row["imdb_id"] = facts["imdb_id"]
            imdb = imdb_key(facts["imdb_id"])
            if imdb in by_imdb:
                ml_id, tmdb = by_imdb[imdb]
                row.update(ml_movieId=str(ml_id), ml_title=str(titles[ml_id]), tmdbId=str(tmdb))
                row["year_check"] = year_check(redial_year(name, facts.get("name")),
                                               parse_title(titles[ml_id]).year)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def accepted_links(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose link passes the year check (``ok`` or ``unknown``)."""
    return table[table["year_check"].isin(ACCEPTED)]


def write_redial_map(root: Path, dest_root: Path | None = None) -> Path:
    """Write the table as CSV at its data-layout path under ``dest_root`` (default ``root``),
    atomically. Returns the path written."""
    dest = (dest_root or root) / REDIAL_TO_MOVIELENS.path
    table = build_redial_map(root)
    with atomic_write(dest, "w", encoding="utf-8", newline="") as handle:
        table.to_csv(handle, index=False)
    return dest


__all__ = ["ACCEPTED", "COLUMNS", "MISMATCH", "OK", "UNKNOWN", "YEAR_TOLERANCE", "accepted_links",
           "build_redial_map", "redial_year", "write_redial_map", "year_check"]
