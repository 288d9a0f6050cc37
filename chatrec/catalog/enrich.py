"""Per-movie enrichment shared by the MovieLens and ReDial loaders: user tags, genome keywords,
rating statistics, and the ReDial facts chosen for each MovieLens movie."""

from __future__ import annotations

import re
from collections import defaultdict

import pandas as pd

from chatrec.catalog.normalize import label_key
from chatrec.catalog.redial_map import OK, accepted_links

#: At most this many user tags per item (most frequent first).
MAX_TAGS = 10
# Tags that describe a user's to-do list, not the film.
_TAG_STOPLIST = {"in netflix queue", "netflix queue", "to see", "seen it", "watched"}
_SPACES = re.compile(r"\s+")


def normalise_tag(tag: str) -> str:
    """Lowercase, trimmed, inner whitespace collapsed, wrapping quotes dropped."""
    return _SPACES.sub(" ", tag.strip().strip("\"'").strip().lower())


def tags_by_item(tags: pd.DataFrame, limit: int = MAX_TAGS) -> dict[str, list[str]]:
    """movieId → normalised tags, deduplicated, most users first (ties alphabetical), capped.

    Args:
        tags: ``userId, movieId, tag`` rows (``raw.read_tags``).
        limit: at most this many tags per movie.
    """
    users: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    spelling: dict[str, str] = {}
    for user, movie, raw_tag in zip(tags["userId"], tags["movieId"], tags["tag"], strict=True):
        tag = normalise_tag(str(raw_tag))
        key = label_key(tag)
        if not key or key in _TAG_STOPLIST:
            continue
        spelling.setdefault(key, tag)
        users[movie][key].add(user)
    result = {}
    for movie, by_key in users.items():
        ranked = sorted(by_key, key=lambda k: (-len(by_key[k]), spelling[k]))
        result[movie] = [spelling[k] for k in ranked[:limit]]
    return result


def dedupe_keywords(keywords: list[str]) -> list[str]:
    """Keywords lowercased, without spelling variants ("sci fi" and "scifi" are one keyword)."""
    seen: set[str] = set()
    kept = []
    for keyword in keywords:
        text = normalise_tag(keyword)
        key = label_key(text).replace(" ", "")
        if key and key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def rating_stats(ratings: pd.DataFrame) -> tuple[dict[str, int], dict[str, float]]:
    """item_id → number of ratings, item_id → mean rating (3 decimals)."""
    grouped = ratings.astype({"rating": "float64"}).groupby("item_id")["rating"]
    counts = {str(k): int(v) for k, v in grouped.size().items()}
    means = {str(k): float(v) for k, v in grouped.mean().round(3).items()}
    return counts, means


def best_redial_per_movie(table: pd.DataFrame, info: dict[str, dict]) -> dict[str, str]:
    """MovieLens movieId → the ReDial id whose facts describe it.

    Only links passing the year check count. Several ReDial ids share an IMDb id (192 do, e.g.
    "Back to the Future" and "Back to the Future (1985)"); the pick is deterministic: a checked
    year first, then the richer facts, then the smaller id.
    """
    best: dict[str, tuple[tuple, str]] = {}
    for rid, ml_id, check in zip(*(accepted_links(table)[c] for c in
                                   ("redial_movieId", "ml_movieId", "year_check")), strict=True):
        facts = info.get(rid)
        if facts is None:
            continue
        richness = sum(bool(facts.get(k)) for k in ("plot", "director", "writer", "star", "genre"))
        rank = (check != OK, -richness, int(rid))
        if ml_id not in best or rank < best[ml_id][0]:
            best[ml_id] = (rank, rid)
    return {ml_id: rid for ml_id, (_, rid) in best.items()}


def merge_unique(*lists: list[str]) -> list[str]:
    """Concatenate, dropping later duplicates (compared by ``label_key``)."""
    seen: set[str] = set()
    merged = []
    for values in lists:
        for value in values:
            value = value.strip()
            key = label_key(value)
            if key and key not in seen:
                seen.add(key)
                merged.append(value)
    return merged


def clean_names(names: list[str] | None) -> list[str]:
    """People as published, trimmed, duplicates dropped."""
    return merge_unique(list(names or []))


__all__ = ["MAX_TAGS", "best_redial_per_movie", "clean_names", "dedupe_keywords",
           "merge_unique", "normalise_tag", "rating_stats", "tags_by_item"]
