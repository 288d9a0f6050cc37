"""Readers for the raw public files, with their quirks handled in one place (types, id prefixes,
the double space in ReDial names). Each takes the data root (the ``shared/data`` layout).

ReDial's ``nbMentions`` column is never read: it counts mentions over the whole dataset, test
split included, so anything built from it would leak the benchmark's answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

ML_DIR = "movielens/ml-latest-small"
KEYWORDS_CSV = "movielens/ml-25m-genome-keywords/movies_w_keywords.csv"
ID2INFO_JSON = "redial/ievalm/id2info.json"
REDIAL_NAMES_CSV = "redial/original/movies_with_mentions.csv"


def imdb_key(value: object) -> int | None:
    """IMDb ids as integers: "tt0133093", "0133093" and 133093 all give 133093."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip().lower().removeprefix("tt")
    return int(text) if text.isdigit() else None


def imdb_label(key: int) -> str:
    """The usual spelling of an IMDb id: "tt" and at least seven digits."""
    return f"tt{key:07d}"


def read_movies(root: Path) -> pd.DataFrame:
    """movieId (str), title, genres (the raw "A|B" string)."""
    return pd.read_csv(root / ML_DIR / "movies.csv", dtype={"movieId": str}, keep_default_na=False)


def read_links(root: Path) -> pd.DataFrame:
    """movieId (str), imdb (int), tmdbId (str, "" when missing)."""
    links = pd.read_csv(root / ML_DIR / "links.csv", dtype=str, keep_default_na=False)
    links["imdb"] = links["imdbId"].map(imdb_key)
    return links[["movieId", "imdb", "tmdbId"]]


def read_ratings(root: Path) -> pd.DataFrame:
    """The ratings in ``Interactions`` columns: user_id, item_id (str), rating, timestamp."""
    ratings = pd.read_csv(root / ML_DIR / "ratings.csv",
                          dtype={"userId": str, "movieId": str, "rating": "float32",
                                 "timestamp": "int64"})
    return ratings.rename(columns={"userId": "user_id", "movieId": "item_id"})


def read_tags(root: Path) -> pd.DataFrame:
    """userId, movieId (str), tag (raw text)."""
    return pd.read_csv(root / ML_DIR / "tags.csv", dtype={"userId": str, "movieId": str},
                       keep_default_na=False)


def read_genome_keywords(root: Path) -> dict[str, list[str]]:
    """MovieLens movieId → its top tag-genome keywords, best first."""
    frame = pd.read_csv(root / KEYWORDS_CSV, dtype=str, keep_default_na=False,
                        usecols=["movieId", "keywords"])
    return {mid: [k for k in kws.split("|") if k] for mid, kws in
            zip(frame["movieId"], frame["keywords"], strict=True)}


def read_id2info(root: Path) -> dict[str, dict]:
    """ReDial id → facts (name, genre, plot, director, writer, star, imdb_id), as published."""
    with open(root / ID2INFO_JSON, encoding="utf-8") as handle:
        return json.load(handle)


def read_redial_names(root: Path) -> dict[str, str]:
    """ReDial id → movie name from ``movies_with_mentions.csv``, URL-decoded (the file writes
    "Why Him%3F (2016)"). Only the id and name columns are read: see the module docstring about
    ``nbMentions``."""
    frame = pd.read_csv(root / REDIAL_NAMES_CSV, dtype=str, keep_default_na=False,
                        usecols=["movieId", "movieName"])
    return {rid: unquote(name) for rid, name in zip(frame["movieId"], frame["movieName"],
                                                    strict=True)}
