"""Aspect retrieval reads the request, not the titles: request words ask for nothing, moods are
said the way tags say them, and a film covering two aspects beats one covering one."""

from __future__ import annotations

from chatrec.catalog.models import Catalog, Item
from chatrec.index.aspects import AspectIndex, aspect_text, request_aspects


def _labels(text: str) -> list[str]:
    return [a.label for a in request_aspects(text)]


def test_request_words_are_not_aspects():
    assert _labels("what's a good movie for tonight?") == []
    assert aspect_text("Can you recommend something to watch this weekend?") == ""


def test_aspects_are_cut_at_conjunctions_and_moods_use_tag_words():
    assert _labels("I want something about space exploration and time travel") == [
        "space exploration", "time travel"]
    aspects = request_aspects("something sad that will make me cry")
    assert len(aspects) == 1 and "tearjerker" in aspects[0].terms
    assert _labels("a scary movie that isn't gory") == ["scary"]  # negated: not an aspect


def _catalog() -> Catalog:
    items = [
        Item(id="1", title="Last Night", keywords=["infidelity", "marriage"]),
        Item(id="2", title="Cry-Baby", keywords=["musical", "juvenile delinquents"]),
        Item(id="3", title="Interstellar", keywords=["space", "space travel", "time travel"],
             tags=["space exploration"]),
        Item(id="4", title="Back to the Future", keywords=["time travel", "comedy"]),
        Item(id="5", title="Gravity", keywords=["space", "astronaut"]),
        Item(id="6", title="Grave of the Fireflies", keywords=["tearjerker", "sad", "war"]),
    ]
    return Catalog("aspects-test", items)


def test_several_aspects_beat_one_and_titles_are_not_evidence():
    index = AspectIndex(_catalog())
    total, coverage, used = index.match("space exploration and time travel")
    assert used == 2
    assert coverage[2] == 2 and total.argmax() == 2  # Interstellar covers both
    assert coverage[3] == 1 and coverage[4] == 1
    total, _, used = index.match("what's a good movie for tonight?")
    assert used == 0 and not total.any()  # no aspect: "Last Night" is not fetched by its title
    total, _, _ = index.match("something that will make me cry")
    assert total.argmax() == 5 and total[1] == 0  # the tearjerker, never Cry-Baby by its title
