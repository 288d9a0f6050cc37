"""The MovieLens catalog: ml-latest-small, enriched with movie facts, genome keywords and tags.

- items: the 9,742 movies, ids = MovieLens ``movieId`` strings; titles parsed by ``parse_title``
  ("Matrix, The (1999)" → "The Matrix", 1999; alternate titles become aliases);
- genres: MovieLens' genres and the facts' IMDb genres, in the canonical vocabulary
  (``chatrec.catalog.genres``);
- facts (directors, cast, writers, plot, extra genres) from ReDial's ``id2info.json``, joined
  through ``links.csv``'s IMDb id and rejected when the years differ by more than one
  (``redial_map``): some IMDb links point to a remake;
- keywords: the tag-genome keywords of ``movies_w_keywords.csv``; tags: user tags of ``tags.csv``;
- popularity = number of ratings, mean_rating = their mean; interactions = ``ratings.csv``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from chatrec.catalog.enrich import (
    best_redial_per_movie,
    clean_names,
    dedupe_keywords,
    merge_unique,
    rating_stats,
    tags_by_item,
)
from chatrec.catalog.genres import canonical_genres
from chatrec.catalog.models import Catalog, Interactions, Item
from chatrec.catalog.normalize import parse_title, title_key
from chatrec.catalog.raw import (
    imdb_label,
    read_genome_keywords,
    read_id2info,
    read_links,
    read_movies,
    read_ratings,
    read_tags,
)
from chatrec.catalog.redial_map import build_redial_map, redial_year

logger = logging.getLogger(__name__)


def load_movielens(root: Path, sources: dict[str, str] | None = None) -> Catalog:
    """Parse the MovieLens catalog from a data root (no caching: see ``loader.load_catalog``).

    Args:
        root: a data root with the shared/data layout, already verified.
        sources: data-layout path → sha256 of the inputs, kept on the catalog for provenance.
    """
    movies = read_movies(root)
    links = read_links(root)
    ratings = read_ratings(root)
    tags = tags_by_item(read_tags(root))
    keywords = read_genome_keywords(root)
    info = read_id2info(root)
    facts_for = best_redial_per_movie(build_redial_map(root), info)
    counts, means = rating_stats(ratings)
    link_of = {mid: (imdb, tmdb) for mid, imdb, tmdb in
               zip(links["movieId"], links["imdb"], links["tmdbId"], strict=True)}

    items = []
    for movie_id, raw_title, raw_genres in zip(movies["movieId"], movies["title"],
                                               movies["genres"], strict=True):
        parsed = parse_title(raw_title)
        redial_id = facts_for.get(movie_id)
        facts = info[redial_id] if redial_id else {}
        aliases = list(parsed.aliases)
        if facts:
            # ReDial's spelling of the title ("Se7en") helps the linker on ReDial dialogues.
            redial_title = parse_title(facts["name"]).title
            if title_key(redial_title) not in {title_key(t) for t in (parsed.title, *aliases)}:
                aliases.append(redial_title)
        imdb, tmdb = link_of.get(movie_id, (None, ""))
        external = {"movielens": movie_id}
        if imdb is not None:
            external["imdb"] = imdb_label(imdb)
        if tmdb:
            external["tmdb"] = tmdb
        if redial_id:
            external["redial"] = redial_id
        items.append(Item(
            id=movie_id,
            title=parsed.title,
            year=parsed.year or (redial_year(facts.get("name")) if facts else None),
            genres=canonical_genres([*raw_genres.split("|"), *facts.get("genre", [])]),
            directors=clean_names(facts.get("director")),
            cast=clean_names(facts.get("star")),
            writers=clean_names(facts.get("writer")),
            keywords=dedupe_keywords(keywords.get(movie_id, [])),
            tags=tags.get(movie_id, []),
            description=(facts.get("plot") or "").strip(),
            popularity=counts.get(movie_id, 0),
            mean_rating=means.get(movie_id),
            aliases=merge_unique(aliases),
            external_ids=external,
            kind="movie",
        ))
    logger.info("movielens: %d items, %d with ReDial facts, %d ratings", len(items),
                len(facts_for), len(ratings))
    return Catalog("movielens", items, Interactions(ratings), sources)
