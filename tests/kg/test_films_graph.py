"""The knowledge graph, the entity linker and explanation paths on the hand-written films
(tests/fixtures/films): no data directory needed."""

from __future__ import annotations

import pytest

from kg.models import DIRECTED_BY, HAS_GENRE, HAS_KEYWORD, RELEASED_IN, STARS, WRITTEN_BY
from kg.paths import explain


@pytest.fixture(scope="module")
def kg(films_resources):
    return films_resources.kg


@pytest.fixture(scope="module")
def linker(films_resources):
    return films_resources.linker


@pytest.fixture(scope="module")
def films(films_resources):
    return films_resources.catalog


def _id(films, title, year=None):
    return films.find_title(title, year)[0].id


def _found(kg, mentions):
    return {(m.kind, kg.label(m.node)) for m in mentions}


def test_every_role_is_an_edge(kg, films):
    inception = _id(films, "Inception")
    assert kg.has_fact(inception, DIRECTED_BY, "person:christopher nolan")
    assert kg.has_fact(inception, WRITTEN_BY, "person:christopher nolan")
    assert kg.has_fact(inception, STARS, "person:leonardo dicaprio")
    assert kg.has_fact(inception, HAS_GENRE, "genre:sci fi")
    assert kg.has_fact(inception, HAS_KEYWORD, "keyword:dreams")
    assert kg.has_fact(inception, RELEASED_IN, "decade:2010")
    assert not kg.has_fact(inception, STARS, "person:tom hanks")


def test_entities_know_their_items(kg, films):
    nolan = {_id(films, t) for t in ("Inception", "The Prestige", "Memento", "Interstellar", "The Dark Knight")}
    assert kg.items_with("person:christopher nolan", DIRECTED_BY) == nolan
    assert kg.degree("person:tom hanks") == 8
    assert kg.label("person:tom hanks") == "Tom Hanks" and kg.label("decade:1990") == "1990s"


def test_an_undated_film_has_no_decade(kg, films):
    undated = _id(films, "Untitled Festival Short")
    assert not [f for f in kg.facts_of(undated) if f.relation == RELEASED_IN]
    assert kg.facts_of(undated)


@pytest.mark.parametrize("text, expected", [
    ("I loved Inception", {("item", "Inception (2010)")}),
    ("something with Tom Hanks", {("person", "Tom Hanks")}),
    ("a scary movie from the 80s", {("genre", "horror"), ("decade", "1980s")}),
    ("more Ridley Scott please", {("person", "Ridley Scott")}),
    ("films about time travel", {("keyword", "time travel")}),
])
def test_the_linker_finds_films_people_genres_decades_and_keywords(kg, linker, text, expected):
    assert expected <= _found(kg, linker.link(text))


def test_ordinary_words_are_not_titles(linker):
    assert [m for m in linker.link("it was up to me to speed things up") if m.kind == "item"] == []


def test_an_ambiguous_title_reports_its_alternative(linker, films):
    [mention] = [m for m in linker.link("I liked Titanic") if m.kind == "item"]
    assert mention.item_id == _id(films, "Titanic", 1997)
    assert mention.alternatives == [f"item:{_id(films, 'Titanic', 1953)}"]


def test_resolve_corrects_a_typo(linker, films):
    assert linker.resolve("Cristopher Nolan", "person") == ["person:christopher nolan"]
    assert linker.resolve("The Matrix", "item") == [f"item:{_id(films, 'The Matrix')}"]


def test_a_shared_director_explains_better_than_a_shared_genre(kg, films):
    paths = explain(kg, _id(films, "The Prestige"), [_id(films, "Inception")], max_paths=5)
    assert paths[0].via == "person:christopher nolan"
    for path in paths:
        assert all(kg.has_fact(f.subject.split(":", 1)[1], f.relation, f.object) for f in path.facts)
