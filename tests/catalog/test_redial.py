"""The ReDial catalog on the real shared data."""

from __future__ import annotations

import json

from chatrec.catalog.genres import GENRES


def test_counts_and_ids(redial, data_dir):
    facts = json.loads((data_dir / "redial/ievalm/id2info.json").read_text())
    assert len(redial) == 6583
    assert set(redial.ids) == set(facts)
    assert redial.ids == sorted(facts, key=int)  # stable order


def test_inception_and_matrix(redial):
    inception = redial["101264"]
    assert (inception.title, inception.year) == ("Inception", 2010)
    assert inception.directors == ["Christopher Nolan"]
    assert inception.external_ids["movielens"] == "79132"
    assert inception.keywords[:2] == ["visually appealing", "cerebral"]
    matrix = redial["85036"]
    assert (matrix.title, matrix.year, matrix.genres) == ("The Matrix", 1999, ["action", "sci-fi", "thriller"])
    assert matrix.popularity == 278  # MovieLens rating count, not ReDial's mention count (270)


def test_year_from_the_linked_movie_when_names_have_none(redial):
    back = redial["100043"]  # id2info and movies_with_mentions both say just "Back to the Future"
    assert (back.title, back.year) == ("Back to the Future", 1985)
    assert back.external_ids["movielens"] == "1270"


def test_interactions_are_movielens_ratings_rekeyed(redial, ml):
    frame = redial.interactions.frame
    assert set(frame["item_id"]) <= set(redial.ids)
    assert frame["user_id"].nunique() == 610
    # Both ReDial ids of "Back to the Future" carry the film's 171 ratings.
    counts = frame["item_id"].value_counts()
    assert counts["100043"] == counts["135485"] == ml["1270"].popularity == 171
    # A user's rating of The Matrix shows up under ReDial's id, same value and time.
    ml_frame = ml.interactions.frame
    original = ml_frame[(ml_frame["user_id"] == "1") & (ml_frame["item_id"] == "2571")]
    rekeyed = frame[(frame["user_id"] == "1") & (frame["item_id"] == "85036")]
    assert list(rekeyed["rating"]) == list(original["rating"])
    assert list(rekeyed["timestamp"]) == list(original["timestamp"])


def test_rejected_links_drop_the_wrong_facts(redial):
    # id2info's entry 77161 "A Nightmare on Elm Street (1984)" carries the 2010 remake's IMDb id
    # and therefore its director: kept as a title, without the false facts.
    nightmare = redial["77161"]
    assert (nightmare.title, nightmare.year) == ("A Nightmare on Elm Street", 1984)
    assert nightmare.directors == [] and nightmare.description == ""
    assert "imdb" not in nightmare.external_ids and nightmare.popularity == 0


def test_genres_and_years(redial):
    assert {g for item in redial for g in item.genres} <= set(GENRES)
    assert sum(item.year is None for item in redial) == 270  # no year in any name, no link
    assert all(item.kind == "movie" for item in redial)


def test_a_linked_film_has_the_same_genres_in_both_catalogs(redial, ml):
    # id2info often lists one or two genres; the MovieLens catalog joins them with MovieLens'
    # own, and the ReDial catalog must too, or a stated genre excludes films it fits.
    linked = [it for it in redial if it.external_ids.get("movielens") in ml]
    assert len(linked) > 4000
    differ = [it.display for it in linked if set(it.genres) != set(ml[it.external_ids["movielens"]].genres)]
    assert not differ, differ[:5]
