"""The ReDial catalog: the 6,583 movies of iEvaLM's ``id2info.json``, keyed by ReDial movie id
(the ids that ``@123456`` mentions in ReDial dialogues use), for the ReDial evaluation.

Facts (genres, directors, writers, cast, plot) come from ``id2info.json``; genres are joined
with the linked MovieLens movie's, as the MovieLens catalog does, so one film has the same genres
in both catalogs (id2info often lists only one or two). The year comes from
the name in ``id2info.json``, else from ``movies_with_mentions.csv`` (which writes a double space
before it), else from the MovieLens movie the ReDial id links to. Everything else is borrowed from
MovieLens through the year-checked IMDb link (``redial_map``): genome keywords, user tags,
popularity (number of MovieLens ratings, *not* ReDial's ``nbMentions``, which counts test-split
mentions) and the ratings themselves, re-keyed to ReDial ids so collaborative models work on this
catalog. The 67 ReDial movies whose IMDb link fails the year check keep their title and year but
no facts: those facts describe the film the IMDb id points to.

ReDial lists about 120 films under two or three ids: they are merged into one item
(``redial_merge``), the other ids kept as aliases that still resolve (``catalog["151656"]`` is
Police Academy (1984), listed under 81006 too), so one film is one item everywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from chatrec.catalog.enrich import clean_names, dedupe_keywords, merge_unique, rating_stats, tags_by_item
from chatrec.catalog.genres import canonical_genres
from chatrec.catalog.models import Catalog, Interactions, Item
from chatrec.catalog.normalize import parse_title, title_key
from chatrec.catalog.raw import (
    imdb_key,
    imdb_label,
    read_genome_keywords,
    read_id2info,
    read_movies,
    read_ratings,
    read_redial_names,
    read_tags,
)
from chatrec.catalog.redial_map import MISMATCH, accepted_links, build_redial_map, redial_year
from chatrec.catalog.redial_merge import merge_duplicates

logger = logging.getLogger(__name__)


def load_redial(root: Path, sources: dict[str, str] | None = None) -> Catalog:
    """Parse the ReDial catalog from a data root (no caching: see ``loader.load_catalog``).

    Args:
        root: a data root with the shared/data layout, already verified.
        sources: data-layout path → sha256 of the inputs, kept on the catalog for provenance.
    """
    info = read_id2info(root)
    names = read_redial_names(root)
    table = build_redial_map(root)
    links = accepted_links(table)
    ml_of = {rid: (ml_id, tmdb) for rid, ml_id, tmdb in
             zip(links["redial_movieId"], links["ml_movieId"], links["tmdbId"], strict=True)
             if rid in info}
    movies = read_movies(root)
    ml_years = {mid: parse_title(title).year for mid, title in
                zip(movies["movieId"], movies["title"], strict=True)}
    ml_genres = {mid: str(raw).split("|")
                 for mid, raw in zip(movies["movieId"], movies["genres"], strict=True)}

    ratings = _rekey_ratings(read_ratings(root), ml_of)
    counts, means = rating_stats(ratings)
    tags = tags_by_item(read_tags(root))
    keywords = read_genome_keywords(root)

    # id2info's facts were fetched by IMDb id. When that id's MovieLens movie fails the year
    # check, the facts describe another film (the 2010 remake's director for "A Nightmare on Elm
    # Street (1984)"): keep the title and year, drop the facts rather than state false ones.
    rejected = set(table.loc[table["year_check"] == MISMATCH, "redial_movieId"])

    items = []
    for rid in sorted(info, key=int):
        parsed = parse_title(info[rid].get("name") or names.get(rid, ""))
        facts = {} if rid in rejected else info[rid]
        ml_id, tmdb = ml_of.get(rid, (None, ""))
        year = parsed.year or redial_year(names.get(rid))
        if year is None and ml_id is not None:
            year = ml_years.get(ml_id)
        external = {"redial": rid}
        imdb = imdb_key(facts.get("imdb_id"))
        if imdb is not None:
            external["imdb"] = imdb_label(imdb)
        if ml_id is not None:
            external["movielens"] = ml_id
            if tmdb:
                external["tmdb"] = tmdb
        items.append(Item(
            id=rid,
            title=parsed.title,
            year=year,
            genres=canonical_genres([*(facts.get("genre") or []),
                                     *(ml_genres.get(ml_id, []) if ml_id and facts else [])]),
            directors=clean_names(facts.get("director")),
            cast=clean_names(facts.get("star")),
            writers=clean_names(facts.get("writer")),
            keywords=dedupe_keywords(keywords.get(ml_id, [])) if ml_id else [],
            tags=tags.get(ml_id, []) if ml_id else [],
            description=(facts.get("plot") or "").strip(),
            popularity=counts.get(rid, 0),
            mean_rating=means.get(rid),
            aliases=merge_unique(list(parsed.aliases)),
            external_ids=external,
            kind="movie",
        ))
    dated = {rid for rid in info if redial_year(names.get(rid)) is not None}
    ml_titles = {mid: title_key(parse_title(title).title) for mid, title in
                 zip(movies["movieId"], movies["title"], strict=True)}
    preferred = {it.id for it in items if it.id in ml_of and title_key(it.title) == ml_titles.get(ml_of[it.id][0])}
    merged = merge_duplicates(items, preferred, dated)
    ratings = _rekey_aliases(ratings, merged.id_aliases)
    logger.info("redial: %d items (%d ids merged into them as aliases), %d linked to MovieLens, "
                "%d facts rejected by the year check, %d ratings", len(merged.items),
                len(merged.id_aliases), len(ml_of), len(rejected & info.keys()), len(ratings))
    return Catalog("redial", merged.items, Interactions(ratings), sources, merged.id_aliases)


def _rekey_aliases(ratings: pd.DataFrame, aliases: dict[str, str]) -> pd.DataFrame:
    """Ratings of merged-away ids moved to the item they were merged into (one rating per user
    and film: the ids of one film carried the same MovieLens ratings)."""
    if not aliases:
        return ratings
    out = ratings.copy()
    out["item_id"] = out["item_id"].map(lambda i: aliases.get(i, i))
    return out.drop_duplicates(["user_id", "item_id"], keep="first", ignore_index=True)


def _rekey_ratings(ratings: pd.DataFrame, ml_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """MovieLens ratings of linked movies, with item_id replaced by the ReDial id (duplicated
    when several ReDial ids link to one movie)."""
    pairs = pd.DataFrame([(ml_id, rid) for rid, (ml_id, _) in ml_of.items()],
                         columns=["item_id", "redial_id"])
    merged = ratings.merge(pairs, on="item_id", how="inner")
    merged["item_id"] = merged.pop("redial_id")
    return merged.sort_values(["user_id", "timestamp", "item_id"], kind="stable",
                              ignore_index=True)
