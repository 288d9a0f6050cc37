"""The MovieLens catalog on the real shared data."""

from __future__ import annotations

import pandas as pd

from chatrec.catalog.genres import GENRES
from chatrec.catalog.raw import read_redial_names
from chatrec.catalog.redial_map import MISMATCH, build_redial_map


def test_counts(ml):
    assert len(ml) == 9742
    frame = ml.interactions.frame
    assert len(frame) == 100_836
    assert frame["user_id"].nunique() == 610
    assert set(frame["user_id"]) == {str(u) for u in range(1, 611)}
    assert ml.name == "movielens" and set(ml.ids) <= set(frame["item_id"]) | set(ml.ids)


def test_inception(ml):
    item = ml["79132"]
    assert (item.title, item.year, item.display) == ("Inception", 2010, "Inception (2010)")
    assert item.directors == ["Christopher Nolan"] and item.writers == ["Christopher Nolan"]
    assert item.cast == ["Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page"]
    # MovieLens' genres first, then the facts' extra ones; IMAX is a format, not a genre.
    assert item.genres == ["action", "crime", "drama", "mystery", "sci-fi", "thriller", "adventure"]
    assert "dream-sharing technology" in item.description
    assert item.keywords == ["visually appealing", "cerebral", "complicated", "complex", "dreams"]
    assert item.popularity == 143 and item.mean_rating == 4.066
    assert item.external_ids == {"movielens": "79132", "imdb": "tt1375666", "tmdb": "27205",
                                 "redial": "101264"}
    assert ml.find_title("inception")[0].id == "79132"


def test_the_matrix(ml):
    item = ml["2571"]
    assert (item.title, item.year) == ("The Matrix", 1999)
    assert item.directors == ["Lana Wachowski", "Lilly Wachowski"]
    assert "Keanu Reeves" in item.cast
    assert item.genres[:3] == ["action", "sci-fi", "thriller"]
    # "sci fi" and "scifi" from the genome are one keyword.
    assert item.keywords == ["science fiction", "sci fi", "cyberpunk", "dystopic future"]
    assert item.popularity == 278
    for spelling in ("Matrix, The (1999)", "the matrix", "The Matrix"):
        assert ml.find_title(spelling)[0].id == "2571"


def test_toy_story_keywords_and_tags(ml):
    item = ml["1"]
    assert item.keywords == ["animation", "kids and family", "pixar animation",
                             "computer animation", "toys"]
    assert item.tags == ["pixar", "fun"]
    assert "family" in item.genres and "Tom Hanks" in item.cast


def test_tags_are_normalised_ranked_and_capped(ml, data_dir):
    raw = pd.read_csv(data_dir / "movielens/ml-latest-small/tags.csv", dtype=str)
    # Pulp Fiction, 181 tag applications: the ten tags most users gave, ties alphabetical.
    pulp = raw[raw["movieId"] == "296"].assign(tag=lambda f: f["tag"].str.strip().str.lower())
    users = pulp.groupby("tag")["userId"].nunique().reset_index()
    expected = users.sort_values(["userId", "tag"], ascending=[False, True])["tag"].head(10)
    assert ml["296"].tags == list(expected)
    for item in ml:
        assert len(item.tags) <= 10
        assert all(t == t.lower().strip() for t in item.tags)
        assert "in netflix queue" not in item.tags
        assert len(set(item.tags)) == len(item.tags)


def test_genres_use_the_canonical_vocabulary(ml):
    seen = {g for item in ml for g in item.genres}
    assert seen <= set(GENRES)
    assert "family" in seen and "children" not in seen and "imax" not in seen
    no_genres = [item for item in ml if not item.genres]
    assert no_genres and all(not item.genres for item in no_genres)


def test_popularity_is_the_rating_count(ml):
    counts = ml.interactions.frame["item_id"].value_counts()
    assert all(item.popularity == counts.get(item.id, 0) for item in ml)
    assert sum(item.popularity == 0 for item in ml) == 18  # movies nobody rated


def test_facts_join_and_the_year_rule(ml, data_dir):
    joined = [item for item in ml if "redial" in item.external_ids]
    assert len(joined) == 4020
    assert all(item.directors or item.cast or item.description for item in joined[:500])
    table = build_redial_map(data_dir)
    rejected = table[table["year_check"] == MISMATCH]
    # No movie takes its facts from a rejected link.
    pairs = {(r, m) for r, m in zip(rejected["redial_movieId"], rejected["ml_movieId"], strict=True)}
    assert not any((item.external_ids["redial"], item.id) in pairs for item in joined)
    # The 2010 "Nightmare on Elm Street" remake is not described by ReDial's 1984 entry, and the
    # 1993 "Three Musketeers" gets no facts at all (ReDial's only link to it is the 1986 film).
    assert ml["77798"].external_ids.get("redial") != "77161"
    musketeers = ml.find_title("The Three Musketeers", 1993)[0]
    assert musketeers.directors == [] and "redial" not in musketeers.external_ids
    assert read_redial_names(data_dir)["83951"] == "Steel Magnolias  (2012)"


def test_titles_and_aliases(ml):
    assert ml["6"].title == "Heat" and ml["6"].year == 1995
    seven = ml.find_title("Se7en")
    assert seven and seven[0].title == "Seven"
    amelie = ml.find_title("amelie")
    assert amelie and amelie[0].year == 2001
    # A MovieLens title without a year takes the year of the facts it joined.
    nocturnal = ml.find_title("Nocturnal Animals")[0]
    assert (nocturnal.year, nocturnal.directors) == (2016, ["Tom Ford"])
    assert sum(item.year is None for item in ml) == 9  # "Babylon 5", "Black Mirror", ...
    # Ambiguous titles are told apart by year, most popular first without one.
    assert [i.display for i in ml.find_title("Titanic")] == ["Titanic (1997)", "Titanic (1953)"]
    assert ml.find_title("Titanic (1953)")[0].id == "3404"


def test_nothing_depends_on_nb_mentions(ml, redial):
    # Popularity is a MovieLens rating count in both catalogs, whatever ReDial's mention counts.
    for item in redial:
        ml_id = item.external_ids.get("movielens")
        assert item.popularity == (ml[ml_id].popularity if ml_id else 0)
