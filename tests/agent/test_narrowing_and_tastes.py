"""Ordinary requests that narrow or lean rather than ask anew, through the real agent on the
small MovieLens catalog: an exclusion after a request narrows it, a kind of the genre asked for
is ruled out without the genre, liking a director puts their films first, and hidden gems are
well rated yet little known (not the films nobody rated)."""

from __future__ import annotations

from chatrec.catalog.normalize import keyword_forms, keyword_key


def _has_keyword(item, word: str) -> bool:
    return keyword_key(word) in keyword_forms(item.keywords)


def test_an_exclusion_after_a_request_narrows_it(agent):
    first = agent.respond("s", "a comedy from the 90s")
    assert first.recommendations
    reply = agent.respond("s", "without Tom Hanks")
    assert reply.recommendations
    for rec in reply.recommendations:
        item = rec.item
        assert "comedy" in item.genres and item.year is not None and 1990 <= item.year <= 1999, item.display
        assert "Tom Hanks" not in item.cast, item.display
    assert {"year", "genres_all:comedy"} <= set(agent.session("s").constraints.hard_units())


def test_a_kind_of_the_genre_asked_is_ruled_out_not_the_genre(agent):
    reply = agent.respond("s", "something scary but not a slasher")
    assert len(reply.recommendations) == 5
    for rec in reply.recommendations:
        assert "horror" in rec.item.genres and not _has_keyword(rec.item, "slasher"), rec.item.display


def test_not_disney_rules_out_films_whose_keywords_say_disney(agent):
    reply = agent.respond("s", "an animated movie, but not Disney")
    assert reply.recommendations
    assert not any(_has_keyword(r.item, "disney") for r in reply.recommendations)
    ranked = agent.rank("s", k=30)
    assert not any(_has_keyword(r.item, "disney") for r in ranked)


def test_liking_a_director_puts_their_films_first(agent):
    reply = agent.respond("s", "I'm a big fan of Christopher Nolan")
    by_him = [r for r in reply.recommendations if "Christopher Nolan" in r.item.directors]
    assert len(by_him) >= 3, [r.item.display for r in reply.recommendations]


def test_hidden_gems_are_well_rated_and_little_known_not_unrated(agent, small_catalog):
    reply = agent.respond("s", "hidden gems please, a drama")
    films = [r.item for r in reply.recommendations]
    assert len(films) == 5
    most = max(i.popularity for i in small_catalog)
    for item in films:
        assert "drama" in item.genres
        assert item.popularity >= 5 and item.popularity < most / 3, item.display
        assert (item.mean_rating or 0) >= 3.5, item.display
