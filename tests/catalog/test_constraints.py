"""One constraint model, three evaluators: ``Constraints.matches``, the numpy masks (the
retriever's table and the index's matrix) and Chroma's ``where`` — each checked against a
brute-force oracle written here from the meaning of the fields, on random constraints of every
kind (genres all/any/none, people in any role or in one role and their exclusion, year ranges,
excluded decades and keywords, excluded ids), some of them soft (a preference: never a filter).
No data directory needed: the catalog is generated."""

from __future__ import annotations

import random

import pytest

from chatrec.agent.table import ItemTable
from chatrec.catalog.constraints import Clause, ConstraintOrigin, Constraints, ItemFilter
from chatrec.catalog.masks import ConstraintMasks
from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.normalize import label_key

GENRES = ["comedy", "drama", "sci-fi", "horror", "family", "animation", "film-noir", "western"]
SAME_SHELF = {"family": {"family", "animation"}}   # a kids' film filed as animation only
KEYWORDS = ["gory", "time travel", "heist", "zombies", "superheroes", "super hero", "disney animated feature"]
#: What a user may say to exclude them: other spellings, a singular, one word of a phrase.
EXCLUDED_KEYWORDS = [*KEYWORDS, "Time-Travel", "zombie", "superhero", "Disney", "animated features", "heists"]
PEOPLE = ["Ann Lee", "Bo Díaz", "Cy O'Neil", "Dee Park", "Ed Wu", "Flo Rossi", "Gus Yamada", "Hal Berg"]
ROLES = ("directors", "cast", "writers", "creators")


def _catalog(n: int = 160, seed: int = 3) -> Catalog:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        people = {role: rng.sample(PEOPLE, rng.choice([0, 1, 1, 2])) for role in ROLES}
        items.append(Item(
            id=f"i{i}", title=f"Item {i}", year=rng.choice([None, 1955, 1979, 1980, 1989, 1990, 1995, 1999,
                                                           2000, 2009, 2015]),
            genres=rng.sample(GENRES, rng.choice([0, 1, 2, 2, 3])), kind=rng.choice(["movie", "book"]),
            keywords=rng.sample(KEYWORDS, rng.choice([0, 1, 2])), **people))
    return Catalog("generated", items)


CATALOG = _catalog()


def _oracle(c: Constraints, item: Item, exclude: set[str] = frozenset()) -> bool:
    """The meaning of each field, spelt out without the model's clauses; soft units filter
    nothing."""
    def hard(unit: str) -> bool:
        return unit not in c.origins or c.origins[unit].hard

    def keys(field: str) -> set[str]:
        return {label_key(v) for v in getattr(c, field) if hard(f"{field}:{label_key(v)}")}

    def group(field: str) -> set[str]:
        return {label_key(v) for v in getattr(c, field)} if hard(field) else set()

    genres = {label_key(g) for g in item.genres}
    people = {label_key(n) for role in ROLES for n in getattr(item, role)}
    if item.id in exclude:
        return False
    if hard("year") and c.year_min is not None and (item.year is None or item.year < c.year_min):
        return False
    if hard("year") and c.year_max is not None and (item.year is None or item.year > c.year_max):
        return False
    if any(not genres & SAME_SHELF.get(g, {g}) for g in keys("genres_all")):
        return False
    if group("genres_any") and not genres & group("genres_any"):
        return False
    if genres & keys("genres_none"):
        return False
    if group("people_any") and not people & group("people_any"):
        return False
    for role in ("directors", "cast", "writers"):
        wanted = group(f"{role}_any")
        if wanted and not wanted & {label_key(n) for n in getattr(item, role)}:
            return False
    if any(_says(keyword, excluded) for keyword in item.keywords for excluded in keys("keywords_none")):
        return False
    if item.year is not None and any(d <= item.year <= d + 9 for d in c.decades_none if hard(f"decades_none:{d}")):
        return False
    return not people & keys("people_none")


def _says(keyword: str, excluded: str) -> bool:
    """Whether an item's keyword says what an excluded keyword names: the excluded words, each
    reduced to its stem, appear in a row among the keyword's (a space between them optional:
    "superhero" is said by "super hero")."""
    import re

    import Stemmer

    stem = Stemmer.Stemmer("english").stemWord
    said = " ".join(stem(w) for w in label_key(keyword).split())
    wanted = r"\s?".join(re.escape(c) for c in "".join(stem(w) for w in label_key(excluded).split()))
    return re.search(rf"(?:^| ){wanted}(?: |$)", said) is not None


def _random_constraints(rng: random.Random) -> Constraints:
    spellings = [*GENRES, "Sci-Fi", "Film Noir", "no such genre"]
    names = [*PEOPLE, "ANN LEE", "Bo Diaz", "Nobody At All"]
    c = Constraints(
        year_min=rng.choice([None, None, 1950, 1980, 1990, 2001]),
        year_max=rng.choice([None, None, 1979, 1989, 1999, 2020]),
        genres_all=rng.sample(spellings, rng.choice([0, 0, 1, 2])),
        genres_any=rng.sample(spellings, rng.choice([0, 0, 1, 2, 3])),
        genres_none=rng.sample(spellings, rng.choice([0, 0, 1, 2])),
        people_any=rng.sample(names, rng.choice([0, 0, 1, 2])),
        people_none=rng.sample(names, rng.choice([0, 0, 1, 2])),
        directors_any=rng.sample(names, rng.choice([0] * 6 + [1, 3])),
        cast_any=rng.sample(names, rng.choice([0] * 7 + [2])),
        writers_any=rng.sample(names, rng.choice([0] * 7 + [2])),
        keywords_none=rng.sample(EXCLUDED_KEYWORDS, rng.choice([0, 0, 0, 1])),
        decades_none=rng.sample([1950, 1980, 1990, 2000], rng.choice([0, 0, 0, 1, 2])),
    )
    for unit in c.units():   # a request the conversation has left behind: a preference
        if rng.random() < 0.2:
            c.origins[unit] = ConstraintOrigin(hard=False, softened="the conversation moved on")
    return c


CASES = [_random_constraints(random.Random(seed)) for seed in range(400)]


def test_the_generated_catalog_exercises_every_role_and_missing_years():
    for role in ROLES:
        assert sum(bool(getattr(item, role)) for item in CATALOG) > 20
    assert sum(item.year is None for item in CATALOG) > 5


def test_matches_is_the_oracle_and_the_cases_cut_both_ways():
    selective = 0
    for c in CASES:
        expected = [_oracle(c, item) for item in CATALOG]
        assert [c.matches(item) for item in CATALOG] == expected, c
        assert [c.matcher()(item) for item in CATALOG] == expected, c
        selective += 0 < sum(expected) < len(expected)
    assert selective > 150, "most random constraints should keep some items and drop others"


def test_masks_are_the_oracle_with_exclusions_and_unknown_rows():
    ids = [*reversed(CATALOG.ids), "not-in-catalog"]   # a row order other than the catalog's
    masks = ConstraintMasks(ids, CATALOG.items)
    rng = random.Random(11)
    for c in CASES:
        exclude = set(rng.sample(CATALOG.ids, rng.choice([0, 3])))
        expected = [i in CATALOG and _oracle(c, CATALOG[i], exclude) for i in ids]
        assert masks.mask(c, exclude).tolist() == expected, c
        assert masks.mask(c.excluding(exclude)).tolist() == expected, c


def test_the_retrievers_table_is_the_oracle():
    table = ItemTable(CATALOG, kg=None)
    for c in CASES[:100]:
        assert table.mask(c).tolist() == [_oracle(c, item) for item in CATALOG], c


def test_person_constraints_hold_in_every_role():
    for role in ROLES:
        credited = [item for item in CATALOG if "Dee Park" in getattr(item, role)]
        wanted = Constraints(people_any=["dee park"])
        unwanted = Constraints(people_none=["DEE PARK"])
        assert credited and all(wanted.matches(i) and not unwanted.matches(i) for i in credited), role


@pytest.fixture(scope="module")
def chroma_index(tmp_path_factory):
    from chatrec.config import Settings
    from chatrec.index import ItemIndex
    from chatrec.testing.small_index import HashEmbedder

    settings = Settings(home=tmp_path_factory.mktemp("constraints-home"))
    index = ItemIndex.build(CATALOG, settings, embedder=HashEmbedder(), progress=False, cache=None)
    yield index
    index.close()


def test_chromas_where_is_the_oracle(chroma_index):
    """Exact for what the metadata holds; for a person in one role (the metadata lists people of
    every role) and excluded keywords, a superset that the index's re-check narrows (the next
    test)."""
    from chatrec.index.chroma import where_clause

    exact = 0
    for c in CASES[:120]:
        where = where_clause(c)
        found = set(chroma_index._collection.get(where=where, include=[])["ids"]) if where \
            else set(CATALOG.ids)
        expected = {item.id for item in CATALOG if _oracle(c, item)}
        if c.directors_any or c.cast_any or c.writers_any or c.keywords_none:
            assert found >= expected, (c, where)
        else:
            exact += 1
            assert found == expected, (c, where)
    assert exact > 30


def test_filtered_queries_agree_across_engines(chroma_index):
    for c in CASES[:40]:
        flt = c.excluding(["i1", "i2"])
        chroma_index.filter_engine = "chroma"
        by_chroma = {i for i, _ in chroma_index.query("comedy drama", k=len(CATALOG), flt=flt)}
        chroma_index.filter_engine = "memory"
        by_memory = {i for i, _ in chroma_index.query("comedy drama", k=len(CATALOG), flt=flt)}
        assert by_chroma == by_memory == {i.id for i in CATALOG if _oracle(c, i, {"i1", "i2"})}, c


def test_soft_units_filter_nothing_and_are_what_ranks_first():
    softened = 0
    for c in CASES:
        soft = c.soft_units()
        softened += bool(soft)
        assert set(soft) | set(c.hard_units()) == set(c.units()) and not set(soft) & set(c.hard_units())
        hard_only = c.hard_only()
        assert hard_only.units() == c.hard_units()
        assert [hard_only.matches(i) for i in CATALOG] == [c.matches(i) for i in CATALOG], c
        # the soft units, compiled on their own, are what a preference ranks by
        preferred = c.preferred()
        as_filter = Constraints(**{**c.model_dump(), "origins": {}})
        for unit in c.hard_units():
            as_filter = as_filter.without_unit(unit)
        assert [all(cl.matches(i) for cl in preferred) for i in CATALOG] == [as_filter.matches(i) for i in CATALOG]
    assert softened > 100


def test_a_family_film_asked_for_accepts_animation_inside_an_all_of_request():
    c = Constraints(genres_all=["family", "comedy"])
    frozen = Item(id="f", title="Frozen", genres=["animation", "comedy", "adventure"])
    assert c.matches(frozen) and not c.matches(Item(id="d", title="Drama", genres=["animation", "drama"]))
    assert not c.matches(Item(id="c", title="Comedy", genres=["comedy"]))
    assert Clause("genres", "any", ("family", "animation")) in c.clauses()


def test_is_empty_and_requirements():
    assert Constraints().is_empty() and Constraints(unsupported=["in French"]).is_empty()
    assert not Constraints(genres_none=["horror"]).is_empty()
    assert not Constraints(genres_none=["horror"]).has_requirements()
    assert Constraints(year_min=2010).has_requirements()
    assert Constraints(year_min=0).has_requirements()   # a bound of 0 is still a bound
    assert not ItemFilter(exclude_ids={"i1"}).is_empty()


def test_nodes_name_what_was_asked_for_with_decades_the_range_covers():
    c = Constraints(genres_all=["Sci-Fi"], genres_any=["comedy"], people_any=["Tom Hanks"],
                    genres_none=["horror"], people_none=["Will Ferrell"], year_min=1980, year_max=1999)
    assert c.nodes() == ["genre:sci fi", "genre:comedy", "person:tom hanks", "decade:1980", "decade:1990"]
    assert c.nodes(decades=False) == ["genre:sci fi", "genre:comedy", "person:tom hanks"]
    assert c.excluded_nodes() == ["genre:horror", "person:will ferrell"]
    assert Constraints(year_min=1990, year_max=1999).nodes() == ["decade:1990"]
    assert Constraints(year_min=1985, year_max=1995).nodes() == []   # no whole decade
    assert Constraints(year_min=2010).nodes() == []


def test_a_person_in_a_role_and_exclusions_of_keywords_and_decades():
    nolan = Item(id="a", title="A", year=2010, directors=["Christopher Nolan"], writers=["Christopher Nolan"],
                 keywords=["time travel"])
    story = Item(id="b", title="B", year=2013, writers=["Christopher Nolan"], cast=["Henry Cavill"],
                 keywords=["superhero"])
    directed = Constraints(directors_any=["christopher nolan"])
    assert directed.matches(nolan) and not directed.matches(story)   # a story credit is no direction
    assert Constraints(people_any=["Christopher Nolan"]).matches(story)
    assert not Constraints(keywords_none=["Time Travel"]).matches(nolan)
    assert not Constraints(keywords_none=["super heroes"]).matches(story)
    assert not Constraints(decades_none=[2010]).matches(story)
    assert Constraints(decades_none=[2000]).matches(nolan)
    assert Constraints(decades_none=[2010]).matches(Item(id="c", title="C"))   # unknown year: not from then
    assert directed.nodes() == ["person:christopher nolan"]
    assert Constraints(keywords_none=["gory"], decades_none=[1980]).excluded_nodes() == [
        "keyword:gory", "decade:1980"]


def test_units_can_be_dropped_one_by_one_with_their_origins():
    from chatrec.catalog.constraints import ConstraintOrigin

    c = Constraints(year_min=1990, year_max=1999, genres_all=["Comedy", "romance"], genres_none=["horror"],
                    cast_any=["Tom Hanks", "Meg Ryan"], decades_none=[1980], keywords_none=["gory"],
                    origins={"genres_all:comedy": ConstraintOrigin(source="refinement", certainty=0.7),
                             "cast_any": ConstraintOrigin(certainty=0.95, said="with Tom Hanks")})
    assert c.units() == ["year", "genres_all:comedy", "genres_all:romance", "genres_none:horror",
                         "keywords_none:gory", "decades_none:1980", "cast_any"]
    assert c.origin("genres_all:comedy").source == "refinement"
    assert c.origin("year") == ConstraintOrigin()   # nothing recorded: an explicit request
    fewer = c.without_unit("genres_all:comedy")
    assert fewer.genres_all == ["romance"] and "genres_all:comedy" not in fewer.origins
    assert c.without_unit("cast_any").cast_any == [] and "cast_any" not in c.without_unit("cast_any").origins
    assert c.without_unit("year").year_min is None
    assert c.without_unit("decades_none:1980").decades_none == []
    for unit in c.units():
        assert unit not in c.without_unit(unit).units()
        assert len(c.without_unit(unit).clauses()) < len(c.clauses()) or unit.startswith("genres_all")
    assert c.genres_all == ["Comedy", "romance"], "a copy"


def test_without_drops_one_constraint_by_node_label_clause_or_years():
    c = Constraints(genres_all=["sci-fi"], genres_any=["comedy", "drama"], genres_none=["horror"],
                    people_any=["Tom Hanks"], people_none=["Will Ferrell"], year_min=1990, year_max=1999)
    assert c.without("genre:sci fi").genres_all == []
    assert c.without("comedy").genres_any == ["drama"]
    assert c.without("person:will ferrell").people_none == []
    assert c.without("Tom Hanks").people_any == []
    assert (c.without("years").year_min, c.without("decade:1990").year_max) == (None, None)
    assert c.without("genre:tom hanks") == c           # kinds are respected
    assert c.without("person:nobody") == c
    horror = next(cl for cl in c.clauses() if cl.op == "none" and cl.attribute == "genres")
    assert c.without(horror).genres_none == []
    assert c.without(Clause("year", "range")).year_min is None
    assert c.genres_all == ["sci-fi"], "without returns a copy"


@pytest.mark.parametrize(("keywords", "excluded", "kept"), [
    (["superheroes"], "superhero", False), (["super hero"], "superhero", False),
    (["disney animated feature"], "Disney", False), (["disney animated feature"], "animated feature", False),
    (["zombies"], "zombie", False), (["time travel"], "time", False),
    (["disneyland"], "disney", True), (["heist"], "time travel", True), (["gory"], "story", True),
])
def test_an_excluded_keyword_rules_out_its_spellings_and_the_phrases_holding_it(keywords, excluded, kept):
    item = Item(id="x", title="X", keywords=keywords)
    c = Constraints(keywords_none=[excluded])
    assert c.matches(item) is kept
    assert bool(ConstraintMasks(["x"], {"x": item}).mask(c)[0]) is kept
