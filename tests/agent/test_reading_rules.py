"""Reading what people mean, rule by rule, on the hand-written 48-film catalog (no data needed):
negation and its scope, comparisons relative to what they name, roles, passing mentions,
questions that are no filter, constraint certainty and life span, relaxation, stated ratings and
open requests."""

from __future__ import annotations

import re

import pytest

from chatrec.agent.memory import apply_act
from chatrec.agent.relax import least_certain, retrieve_relaxed
from chatrec.agent.retrieve import RetrievalQuery
from chatrec.agent.scope import Span, negation_before
from chatrec.agent.state import SessionState, ShownItem
from chatrec.agent.understand import RuleUnderstander
from chatrec.catalog.constraints import ConstraintOrigin, Constraints


@pytest.fixture(scope="module")
def reader(films_resources):
    return RuleUnderstander(films_resources.catalog, films_resources.linker)


def _id(catalog, title: str, year: int | None = None) -> str:
    return catalog.find_title(title, year)[0].id


def _read(reader, text: str, state: SessionState | None = None):
    return reader.read(text, state or SessionState(session_id="t"))


def _people(c: Constraints) -> dict:
    return {k: v for k, v in c.model_dump().items()
            if k in ("people_any", "directors_any", "cast_any", "writers_any") and v}


# ------------------------------------------------------------------------------------ negation
@pytest.mark.parametrize(("text", "negated"), [
    ("a scary movie that isn't gory", True),
    ("horror, but without the gore", True),
    ("no horror or gore", True),
    ("I don't really like scary movies", True),
    ("nothing with Adam Sandler in it", True),
    ("No, I haven't seen those. Is the first one a comedy?", False),
    ("no, that's for kids, right?", False),
    ("no horror, just a good comedy", False),          # "comedy" is outside the negation
    ("I'm tired of Keanu, any other action movies?", False),
])
def test_a_negation_reaches_only_its_own_words(text, negated):
    last_word = {"a scary movie that isn't gory": "gory", "horror, but without the gore": "gore",
                 "no horror or gore": "gore", "I don't really like scary movies": "scary",
                 "nothing with Adam Sandler in it": "Adam", "no, that's for kids, right?": "kids",
                 "No, I haven't seen those. Is the first one a comedy?": "comedy",
                 "no horror, just a good comedy": "comedy",
                 "I'm tired of Keanu, any other action movies?": "action"}[text]
    # the entities the linker finds in these messages (a list of them stays in the negation's scope)
    entities = [Span(m.start(), m.end()) for m in re.finditer(r"\b(?:horror|gore|gory|Adam Sandler|Keanu)\b", text)]
    assert (negation_before(text, text.rindex(last_word), entities) is not None) is negated


def test_negated_attributes_are_exclusions_never_likes(reader):
    act = _read(reader, "a thriller, but nothing with a twist ending")
    assert act.constraints.genres_all == ["thriller"]
    assert act.constraints.keywords_none == ["twist ending"]
    assert "keyword:twist ending" in act.disliked_attributes and "keyword:twist ending" not in act.liked_attributes
    act = _read(reader, "I'm tired of Keanu Reeves, any other action movies?")
    assert act.constraints.people_none == ["Keanu Reeves"] and act.constraints.genres_all == ["action"]
    assert act.constraints.genres_none == []
    act = _read(reader, "no horror, just a good comedy")
    assert act.constraints.genres_none == ["horror"] and act.constraints.genres_all == ["comedy"]


def test_negated_years_and_decades(reader):
    assert _read(reader, "a comedy, but nothing from the 80s").constraints.decades_none == [1980]
    assert _read(reader, "a thriller, nothing before 1990").constraints.year_min == 1990
    assert _read(reader, "a western, nothing after 1980").constraints.year_max == 1980
    assert _read(reader, "action movies but no old ones").constraints.year_min == 1980


def test_no_as_an_answer_is_no_constraint(reader, films_resources):
    state = SessionState(session_id="t")
    state.record_shown([ShownItem(item_id=_id(films_resources.catalog, "Heat"))])
    for text in ["No, I haven't seen those. Is the first one a comedy?", "no, that's for kids, right?",
                 "Do you like comedies?", "Gravity sounds like an action movie, is it?"]:
        assert _read(reader, text, state).constraints.is_empty(), text


def test_a_liked_and_a_disliked_film_in_one_sentence(reader, films_resources):
    act = _read(reader, "I loved Heat but hated Collateral")
    catalog = films_resources.catalog
    assert act.liked_items == [_id(catalog, "Heat")] and act.disliked_items == [_id(catalog, "Collateral")]


# ------------------------------------------------------------------------------ comparisons
def test_like_x_but_newer_is_relative_to_x(reader, films_resources):
    act = _read(reader, "I liked Heat - something like it, but newer")
    c = act.constraints
    assert c.year_min == 1996 and c.year_max is not None and c.year_max <= 1995 + 25
    assert c.origin("year").source == "refinement" and "Heat" in c.origin("year").said
    assert act.liked_items == [_id(films_resources.catalog, "Heat")]


@pytest.mark.parametrize(("text", "year_min", "year_max"), [
    ("a thriller newer than Se7en", 1996, None),
    ("sci-fi movies older than The Matrix", None, 1998),
    ("any comedies that came out after Groundhog Day?", 1994, None),
])
def test_newer_or_older_than_a_named_film(reader, text, year_min, year_max):
    c = _read(reader, text).constraints
    assert (c.year_min, c.year_max) == (year_min, year_max)


def test_newer_after_a_list_is_newer_than_most_of_it(reader, films_resources):
    catalog = films_resources.catalog
    state = SessionState(session_id="t", request_active=True)
    state.record_shown([ShownItem(item_id=_id(catalog, t)) for t in ("Speed", "Heat", "Interstellar")])
    act = _read(reader, "something newer", state)
    assert act.constraints.year_min == 1996   # newer than the median (1995), not than 2014
    assert act.constraints.origin("year").certainty < 0.9


def test_older_words_that_are_not_about_films(reader):
    for text in ["I like Clint Eastwood and a lot of the older actors", "I watched Big earlier this morning",
                 "I'll watch it later tonight"]:
        c = _read(reader, text).constraints
        assert c.year_min is None and c.year_max is None, text


def test_for_grown_ups_drops_family_films_and_is_no_title(reader, films_resources):
    act = _read(reader, "something like Toy Story but for grown-ups")
    assert act.constraints.genres_none == ["family"]
    assert act.liked_items == [_id(films_resources.catalog, "Toy Story")]


def test_the_new_one_is_a_film_not_a_time_frame(reader):
    for text in ["Oh I need to show them that! Especially since they saw advertisements for the new one.",
                 "I did not even know there was a new one.", "is his latest movie any good?"]:
        c = _read(reader, text).constraints
        assert c.year_min is None and c.year_max is None, text
    assert _read(reader, "any new movies you can recommend?").constraints.year_min is not None


def test_films_described_or_given_as_examples_set_no_time_frame(reader):
    for text in ["Billy Madison and Happy Gilmore are classics obviously",
                 "some classics are When Harry Met Sally or Heat", "I loved older ones like Heat",
                 "I like 80s comedies like Big"]:
        c = _read(reader, text).constraints
        assert c.year_min is None and c.year_max is None, text
    assert _read(reader, "any classics you can recommend?").constraints.year_max is not None
    assert _read(reader, "I'm looking for an 80s comedy").constraints.year_min == 1980


def test_a_question_about_the_films_shown_asks_nothing_new(reader, films_resources):
    state = SessionState(session_id="t", request_active=True)
    state.record_shown([ShownItem(item_id=_id(films_resources.catalog, "Heat"))])
    for text in ["Great, I'll check those out. Are they funny also?", "are those scary?"]:
        assert not _read(reader, text, state).constraints.has_requirements(), text


def test_for_grown_ups_after_kids_films_drops_the_animation_that_came_with_them(reader):
    state = SessionState(session_id="t")
    for text in ["a good kids movie please", "actually, definitely something for grown-ups"]:
        state.add_turn("user", text)
        apply_act(state, _read(reader, text, state))
    assert state.constraints.genres_any == [] and state.constraints.genres_none == ["family"]


def test_as_a_kid_is_the_users_childhood_not_a_kids_film(reader):
    act = _read(reader, "I loved Toy Story as a kid; anything like it for grown-ups?")
    assert act.constraints.genres_any == [] and act.constraints.genres_none == ["family"]
    assert _read(reader, "a movie to watch with my kids").constraints.has_requirements()


def test_a_welcomed_suggestion_that_ignores_a_requirement_makes_it_a_preference(reader, films_resources):
    catalog = films_resources.catalog
    state = SessionState(session_id="t")
    text = "I'm looking for a comedy"
    state.add_turn("user", text)
    apply_act(state, _read(reader, text, state))
    assert state.constraints.genres_all == ["comedy"]
    heat = _id(catalog, "Heat")
    assert "comedy" not in [g.lower() for g in catalog[heat].genres]
    # the other party suggests a film that is no comedy, and the user welcomes it
    state.record_shown([ShownItem(item_id=heat)])
    rejected = _read(reader, "no, not that one. Something else", state)
    assert rejected.released == []
    text = "I haven't seen that one, sounds good. I'll check it out"
    act = _read(reader, text, state)
    assert act.released == ["genres_all:comedy"]
    state.add_turn("user", text)
    apply_act(state, act)
    # a preference now: it still ranks comedies first, and filters nothing
    assert state.constraints.soft_units() == ["genres_all:comedy"] and state.constraints.clauses() == []
    assert state.constraints.matches(catalog[heat]) and "genre:comedy" in state.liked_attributes
    # a welcome of films that meet the requirement leaves it as it was
    state2 = SessionState(session_id="t2")
    state2.add_turn("user", "I'm looking for a comedy")
    apply_act(state2, _read(reader, "I'm looking for a comedy", state2))
    comedy = next(i for i in catalog if "comedy" in [g.lower() for g in i.genres])
    state2.record_shown([ShownItem(item_id=comedy.id), ShownItem(item_id=heat)])
    assert _read(reader, "sounds good, I'll check them out", state2).released == []


# ------------------------------------------------------------------------------------- roles
@pytest.mark.parametrize(("text", "field", "name"), [
    ("movies directed by Christopher Nolan", "directors_any", "Christopher Nolan"),
    ("anything by Christopher Nolan?", "directors_any", "Christopher Nolan"),   # what he is known for
    ("films with Michael Caine", "cast_any", "Michael Caine"),
    ("I am looking for movies starring Tom Hanks.", "cast_any", "Tom Hanks"),
    ("movies written by Nora Ephron", "writers_any", "Nora Ephron"),
])
def test_roles(reader, text, field, name):
    assert _people(_read(reader, text).constraints) == {field: [name]}


def test_a_person_named_while_describing_a_film_is_no_filter(reader):
    for text in ["I loved Heat. Al Pacino is in it, he was great", "Is Speed the one with Keanu Reeves?",
                 "Heat with Al Pacino was amazing", "I really liked Big with Tom Hanks"]:
        act = _read(reader, text)
        assert not _people(act.constraints), text


# ------------------------------------------------------------------ certainty and life span
def test_a_taste_is_a_preference_a_request_a_filter(reader):
    taste = _read(reader, "I love horror")
    assert taste.constraints.is_empty() and "genre:horror" in taste.liked_attributes
    asked = _read(reader, "I'm looking for a horror movie")
    assert asked.constraints.genres_all == ["horror"]
    both = _read(reader, "I love horror, any suggestions?")
    assert both.constraints.genres_all == ["horror"]
    assert both.constraints.origin("genres_all:horror").certainty < asked.constraints.origin(
        "genres_all:horror").certainty


def test_a_new_request_of_the_same_kind_replaces_the_old(reader):
    state = SessionState(session_id="t")
    for text in ["a horror movie", "make it a comedy instead"]:
        act = _read(reader, text, state)
        state.add_turn("user", text)
        apply_act(state, act)
    assert state.constraints.genres_all == ["comedy"]
    assert state.constraints.origin("genres_all:comedy").turn == 2
    for text in ["movies with Tom Hanks", "actually, something with Matt Damon instead"]:
        state.add_turn("user", text)
        apply_act(state, _read(reader, text, state))
    assert state.constraints.cast_any == ["Matt Damon"]


def test_the_least_certain_constraint_is_relaxed_first(films_resources, make_films_agent):
    agent = make_films_agent()
    c = Constraints(genres_all=["horror", "comedy"], year_min=1990, year_max=1999,
                    origins={"genres_all:comedy": ConstraintOrigin(certainty=0.6, turn=2),
                             "genres_all:horror": ConstraintOrigin(certainty=0.9, turn=1),
                             "year": ConstraintOrigin(source="refinement", certainty=0.7, turn=1)})
    query = RetrievalQuery(constraints=c)
    assert least_certain(c, agent.retriever, query) == "genres_all:comedy"
    found, relaxed, held = retrieve_relaxed(agent.retriever, query, k=10)
    assert len(found) == 10 and relaxed[0].unit == "genres_all:comedy"
    catalog = films_resources.catalog
    strict = [f for f in found if c.matches(catalog[f.item_id])]
    assert found[:len(strict)] == strict, "films meeting every constraint come first"
    assert all(held.matches(catalog[f.item_id]) for f in found)


def test_rank_returns_k_films_whatever_the_constraints(make_films_agent):
    agent = make_films_agent()
    agent.respond("s", "a Christopher Nolan western from the 1950s starring Tom Hanks")
    assert len(agent.rank("s", k=30)) == 30


# ------------------------------------------------------------------------- stated ratings
def test_what_the_user_said_is_a_rating(reader, films_resources, make_films_agent):
    catalog = films_resources.catalog
    assert _read(reader, "I loved Inception").stated_ratings == {_id(catalog, "Inception"): 5.0}
    assert _read(reader, "Titanic was boring").stated_ratings == {_id(catalog, "Titanic", 1997): 2.0}
    assert _read(reader, "something like Inception").stated_ratings == {}   # a reference, no opinion
    agent = make_films_agent()
    agent.respond("s", "I loved Inception", user_id="web:ann")
    reply = agent.respond("s", "what would I rate it?")
    assert reply.trace.decision == "rate:said" and "5.0 out of 5" in reply.text
    assert agent.user_profile("web:ann").ratings[_id(catalog, "Inception")] == 5.0


# ------------------------------------------------------------------------- open requests
def test_an_open_request_is_no_search_for_its_words(reader, make_films_agent):
    act = _read(reader, "what's a good movie for tonight?")
    assert act.intent == "recommend" and act.query_text == "" and act.constraints.is_empty()
    agent = make_films_agent()
    first = agent.respond("s", "what's a good movie for tonight?")
    # The taste question comes with well-known films to react to (the policy).
    assert first.question is not None and len(first.recommendations) == 5
    second = agent.respond("s", "anything really")
    assert len(second.recommendations) == 5 and second.question is None
    assert not {r.item.id for r in first.recommendations} & {r.item.id for r in second.recommendations}


@pytest.mark.parametrize(("text", "genres_all", "genres_none"), [
    ("something for a few laughs", ["comedy"], []),
    ("I want a good scare", ["horror"], []),
    ("a thriller, no scares please", ["thriller"], ["horror"]),
])
def test_what_a_film_should_do_to_you_names_its_genre(reader, text, genres_all, genres_none):
    act = _read(reader, text)
    assert act.constraints.genres_all == genres_all
    assert act.constraints.genres_none == genres_none


def test_a_hedged_wish_for_a_laugh_is_a_leaning_to_comedy(reader):
    act = _read(reader, "I could use a good laugh tonight honestly")
    assert "genre:comedy" in act.liked_attributes
    assert act.constraints.genres_none == []
