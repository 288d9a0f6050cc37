"""The ReDial catalog on the real shared data."""

from __future__ import annotations

import json

from chatrec.catalog.genres import GENRES


def test_counts_and_ids(redial, data_dir):
    facts = json.loads((data_dir / "redial/ievalm/id2info.json").read_text())
    # Every ReDial id resolves: to its own item, or to the item its film was merged into.
    assert set(redial.ids) | set(redial.id_aliases) == set(facts)
    assert not set(redial.ids) & set(redial.id_aliases)
    assert all(rid in redial for rid in facts)
    assert len(redial) == len(facts) - len(redial.id_aliases)
    assert redial.ids == sorted(redial.ids, key=int)  # stable order


def test_one_film_one_item(redial):
    from chatrec.catalog.normalize import title_key

    # "Police Academy (1984)" was listed under two ids: the seeker's mention and the
    # recommendation came back as two films.
    assert redial["81006"].id == redial["151656"].id
    assert redial["81006"].display == "Police Academy (1984)"
    # a subtitle is the same film; "Percy Jackson" resolves to it and keeps its name as an alias
    percy = redial["78373"]
    assert percy.id == redial["191834"].id and "Percy Jackson" in percy.aliases
    assert redial.find_title("Percy Jackson")[0].id == percy.id
    # the better-known title wins when two titles share an IMDb id
    assert redial["85106"].title == "Prisoners"
    # shared IMDb ids that are id2info's mistakes, and sequels, stay apart
    for a, b in [("78241", "122613"),    # Halloweentown / Halloween: The Curse of Michael Myers
                 ("90967", "198723"),    # Home Alone / Home Alone 4
                 ("201091", "95089"),    # Mean Girls / Mean Girls 2
                 ("104316", "189484"),   # CinderElmo / Cinderella
                 ("99276", "110806")]:   # Star Wars / Star Wars Kid
        assert redial[a].id != redial[b].id, (redial[a].display, redial[b].display)
    keys = [(title_key(it.title), it.year) for it in redial if it.year]
    assert len(keys) == len(set(keys)), "one title and year, one item"
    # merged ids carry no ratings of their own
    assert set(redial.interactions.frame["item_id"]) <= set(redial.ids)
    assert redial.ids_of("151656")[0] == redial["151656"].id
    assert set(redial.ids_of("151656")) == {"81006", "151656"}


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
    # (merged with its other id; the film's year comes from the MovieLens link either way)
    assert (back.title, back.year) == ("Back to the Future", 1985)
    assert back.external_ids["movielens"] == "1270"


def test_interactions_are_movielens_ratings_rekeyed(redial, ml):
    frame = redial.interactions.frame
    assert set(frame["item_id"]) <= set(redial.ids)
    assert frame["user_id"].nunique() == 610
    # "Back to the Future" (two ReDial ids, one item) carries the film's 171 ratings, once.
    counts = frame["item_id"].value_counts()
    assert redial["100043"].id == redial["135485"].id
    assert counts[redial["100043"].id] == ml["1270"].popularity == 171
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
    assert sum(item.year is None for item in redial) <= 270  # no year in any name, no link
    assert all(item.kind == "movie" for item in redial)


def test_a_linked_film_has_the_same_genres_in_both_catalogs(redial, ml):
    # id2info often lists one or two genres; the MovieLens catalog joins them with MovieLens'
    # own, and the ReDial catalog must too, or a stated genre excludes films it fits.
    linked = [it for it in redial if it.external_ids.get("movielens") in ml]
    assert len(linked) > 4000
    differ = [it.display for it in linked if set(it.genres) != set(ml[it.external_ids["movielens"]].genres)]
    assert not differ, differ[:5]
