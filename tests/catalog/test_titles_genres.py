"""Title normalisation and the canonical genre vocabulary."""

from __future__ import annotations

import pytest

from chatrec.catalog.genres import GENRES, canonical_genre, canonical_genres
from chatrec.catalog.normalize import parse_title, title_key


@pytest.mark.parametrize("raw, title, year, aliases", [
    ("Matrix, The (1999)", "The Matrix", 1999, ()),
    ("City of Lost Children, The (Cité des enfants perdus, La) (1995)",
     "The City of Lost Children", 1995, ("La Cité des enfants perdus",)),
    ("Seven (a.k.a. Se7en) (1995)", "Seven", 1995, ("Se7en",)),
    ("Asterix in America (a.k.a Asterix Conquers America) (Astérix et les Indiens) (1994)",
     "Asterix in America", 1994, ("Astérix et les Indiens", "Asterix Conquers America")),
    ("Headhunter  (2009)", "Headhunter", 2009, ()),           # ReDial's double space
    ("Frontière(s) (2007)", "Frontière(s)", 2007, ()),         # a parenthesis inside a word
    ("Human Centipede, The (First Sequence) (2009)", "The Human Centipede", 2009, ()),
    ("Hotel Chevalier (Part 1 of 'The Darjeeling Limited') (2007)", "Hotel Chevalier", 2007, ()),
    ("Gross Anatomy (a.k.a. A Cut Above) (1989)", "Gross Anatomy", 1989, ("A Cut Above",)),
    ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009, ()),
    ("Last Kiss, The (Ultimo bacio, L') (2001)", "The Last Kiss", 2001, ("L'Ultimo bacio",)),
    ("Babylon 5", "Babylon 5", None, ()),
    ("The Mummy ", "The Mummy", None, ()),
])
def test_parse_title(raw, title, year, aliases):
    parsed = parse_title(raw)
    assert (parsed.title, parsed.year, parsed.aliases) == (title, year, aliases)


@pytest.mark.parametrize("spellings", [
    ("Matrix, The (1999)", "The Matrix", "the matrix!", "THE MATRIX (1999)"),
    ("Amélie (2001)", "Amelie", "amélie"),
    ("Léon: The Professional", "Leon The Professional"),
    ("Love & Basketball (2000)", "Love and Basketball"),
])
def test_title_key_meets_spellings(spellings):
    assert len({title_key(s) for s in spellings}) == 1


def test_title_key_keeps_distinct_titles_apart():
    assert title_key("The Matrix") != title_key("The Matrix Reloaded")
    assert title_key("Alien") != title_key("Aliens")


@pytest.mark.parametrize("label, expected", [
    ("Sci-Fi", "sci-fi"), ("science fiction", "sci-fi"), ("Children", "family"),
    ("Film-Noir", "film-noir"), ("film noir", "film-noir"), ("IMAX", None),
    ("(no genres listed)", None), ("Drama", "drama"), ("sports", "sport"),
    ("Pour-over  Coffee", "pour-over coffee"),  # custom categories pass through, lowercased
])
def test_canonical_genre(label, expected):
    assert canonical_genre(label) == expected


def test_vocabulary_is_canonical_and_closed_under_mapping():
    assert all(canonical_genre(g) == g for g in GENRES)
    assert canonical_genres(["Action", "action", "IMAX", "Children", "Comedy"]) == [
        "action", "family", "comedy"]
