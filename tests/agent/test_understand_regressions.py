"""Readings that went wrong in real dialogues (ReDial replays, Slack and UI sessions), kept fixed."""

from __future__ import annotations

import pytest

from chatrec.agent.state import SessionState, ShownItem
from chatrec.agent.understand import RuleUnderstander
from chatrec.testing.checks import assert_grounded, ids


@pytest.fixture(scope="module")
def reader(small_resources):
    return RuleUnderstander(small_resources.catalog, small_resources.linker)


def _shown_state(resources, *titles: str) -> SessionState:
    state = SessionState(session_id="t", request_active=True)
    shown = [resources.catalog.find_title(t)[0].id for t in titles]
    state.record_shown([ShownItem(item_id=i) for i in shown])
    return state


def test_new_movies_is_a_time_frame_not_the_news_genre(reader):
    act = reader.read("any new movies?", SessionState(session_id="t"))
    assert act.constraints.year_min is not None and act.constraints.year_max is None
    assert act.constraints.genres_all == [] and "genre:news" not in act.liked_attributes


def test_calling_a_film_a_classic_is_praise_not_a_year_limit(reader):
    act = reader.read("Casablanca is a classic, something like it please", SessionState(session_id="t"))
    assert act.constraints.year_max is None
    assert reader.read("some old classics please", SessionState(session_id="t")).constraints.year_max == 1979


def test_a_person_named_in_passing_is_not_a_requirement(reader):
    act = reader.read("That was a Vin Diesel movie, right?", SessionState(session_id="t"))
    c = act.constraints
    assert not (c.people_any or c.cast_any or c.directors_any or c.writers_any)
    assert "person:vin diesel" in act.liked_attributes
    hard = reader.read("Any Vin Diesel movies?", SessionState(session_id="t"))
    assert hard.constraints.cast_any == ["Vin Diesel"]   # the role he is known for


def test_no_thanks_declines(reader):
    act = reader.read("No, thanks.", SessionState(session_id="t"))
    assert act.intent == "chitchat" and act.declined
    assert reader.read("thanks!", SessionState(session_id="t")).intent == "thanks"


@pytest.mark.parametrize("message", ["Not really what I'm after", "None of those grab me",
                                     "I don't like any of those"])
def test_rejecting_the_whole_list_asks_for_different_ones(reader, small_resources, message):
    state = _shown_state(small_resources, "Toy Story", "Jumanji")
    act = reader.read(message, state)
    assert act.intent == "refine"
    assert act.disliked_items == []


def test_plot_twist_is_a_wish_not_a_plot_question(reader):
    act = reader.read("I love a good plot twist", SessionState(session_id="t"))
    assert act.intent == "recommend"
    state = SessionState(session_id="t", focus_item=reader.catalog.find_title("Heat (1995)")[0].id)
    asked = reader.read("what's the plot?", state)
    assert asked.intent == "ask_about" and asked.item_question == "plot"


def test_an_explicit_decade_wins_over_older(make_agent):
    agent = make_agent()
    agent.respond("s", "a comedy please")
    reply = agent.respond("s", "an older one, from the 80s")
    c = agent.session("s").constraints
    assert (c.year_min, c.year_max) == (1980, 1989)
    assert reply.recommendations and all(1980 <= r.item.year <= 1989 for r in reply.recommendations)


def test_an_ordinary_word_is_not_a_fuzzy_title(reader):
    act = reader.read("something for a rainy Sunday with my kids", SessionState(session_id="t"))
    assert act.liked_items == [] and act.intent == "recommend"


def test_none_of_those_shows_new_items(make_agent):
    agent = make_agent()
    first = agent.respond("s", "a 90s comedy")
    second = agent.respond("s", "None of those grab me")
    assert second.recommendations
    assert not set(ids(first)) & set(ids(second))
    assert all(1990 <= r.item.year <= 1999 for r in second.recommendations)
    assert_grounded(agent, second)


def test_the_intro_may_name_an_excluded_person(make_agent):
    agent = make_agent()
    reply = agent.respond("s", "a comedy without Adam Sandler")
    assert "Adam Sandler" in reply.text and reply.recommendations
    assert reply.trace.guard.passed, reply.trace.guard


def test_a_taste_statement_is_a_preference_a_request_is_a_filter(reader):
    taste = reader.read("I really love horror movies.", SessionState(session_id="t"))
    assert taste.constraints.genres_all == [] and "genre:horror" in taste.liked_attributes
    request = reader.read("I love horror movies, any suggestions?", SessionState(session_id="t"))
    assert request.constraints.genres_all == ["horror"]
    assert reader.read("I want a horror movie", SessionState(session_id="t")).constraints.genres_all == ["horror"]


def test_taste_boosts_the_genre_without_filtering(make_agent):
    agent = make_agent()
    reply = agent.respond("s", "I really love comedies. What do you have?")
    assert reply.recommendations
    assert agent.session("s").constraints.genres_all == []
    assert sum("comedy" in r.item.genres for r in reply.recommendations) >= 3


def test_no_thanks_after_a_list_asks_for_different_ones(make_agent):
    agent = make_agent()
    first = agent.respond("s", "a 90s comedy")
    second = agent.respond("s", "No, thanks.")
    assert second.recommendations and not set(ids(first)) & set(ids(second))


def test_liking_an_actor_is_a_preference_asking_for_one_is_a_filter(reader):
    taste = reader.read("I like Tom Hanks movies.", SessionState(session_id="t"))
    assert not (taste.constraints.people_any or taste.constraints.cast_any)
    assert "person:tom hanks" in taste.liked_attributes
    request = reader.read("Any Tom Hanks movies you'd recommend?", SessionState(session_id="t"))
    assert request.constraints.cast_any == ["Tom Hanks"]
    assert reader.read("movies with Tom Hanks", SessionState(session_id="t")).constraints.cast_any == ["Tom Hanks"]


def _reads(reader, message: str):
    return reader.read(message, SessionState(session_id="t")).constraints


def test_praising_a_named_film_as_a_classic_asks_for_no_old_films(reader):
    for message in ["Lethal Weapon (1987) is definitely a classic movie!",
                    "You should see Heat, it's a must. One of the classics.",
                    "Though I don't like him as a person his older movies were very funny."]:
        c = _reads(reader, message)
        assert c.year_min is None and c.year_max is None, message
    assert _reads(reader, "what's a good classic movie?").year_max == 1979
    assert _reads(reader, "I was looking for a classic movie").year_max == 1979


def test_what_the_user_has_seen_is_no_time_frame(reader):
    c = _reads(reader, "He said he's seen the old ones. Is there anything new?")
    assert c.year_max is None and c.year_min is None
    assert _reads(reader, "I'm an old movie lover. These are good suggestions!").year_max is None
    assert _reads(reader, "Can you recommend any horror cult classics?").year_max is None


def test_the_last_few_years_or_so_is_a_time_frame_and_keeps_the_genre(reader):
    c = _reads(reader, "Yes how about some more recent comedies like the last 3 years or so.")
    assert c.genres_all == ["comedy"]
    assert c.year_min == reader.newest_year - 2 and c.year_max is None
    assert _reads(reader, "a comedy from the past couple of years").year_min == reader.newest_year - 1
    assert _reads(reader, "horror movies from 2016 or 2017") .model_dump(include={"year_min", "year_max"}) \
        == {"year_min": 2016, "year_max": 2017}


def test_examples_that_contradict_the_time_words_win(reader):
    c = _reads(reader, "My family enjoyed classics like Shrek (2001) and Finding Nemo (2003)")
    assert c.year_max is None
    assert _reads(reader, "I want classic movies like Casablanca").year_max == 1979
    assert _reads(reader, "They liked Toy Story but it could be for kids a little older as well.").year_max is None


def test_a_family_friendly_comedy_accepts_animated_comedies(reader, small_resources):
    c = _reads(reader, "I'd like a family-friendly comedy")
    assert sorted(c.genres_all) == ["comedy", "family"]
    animated_only = [i for i in small_resources.catalog
                     if "animation" in i.genres and "comedy" in i.genres and "family" not in i.genres]
    assert animated_only, "the catalog should hold an animated comedy not filed as a family film"
    assert all(c.matches(i) for i in animated_only)
    assert not any(c.matches(i) for i in small_resources.catalog
                   if "comedy" in i.genres and not {"family", "animation"} & set(i.genres))


def test_a_statement_about_a_person_is_a_taste_not_a_filter(reader):
    for message, node in [("Johnny Depp is such a great actor", "person:johnny depp"),
                          ("Great movie Al Pacino is a boss", "person:al pacino"),
                          ("ha, yes that one was cute....Love Ryan Gosling.", "person:ryan gosling"),
                          ("Isn’t that with Denzel Washington?", "person:denzel washington"),
                          ("Also her and Adam Sandler in Big Daddy (1999)", "person:adam sandler")]:
        act = reader.read(message, SessionState(session_id="t"))
        c = act.constraints
        assert not (c.people_any or c.cast_any or c.directors_any or c.writers_any), message
        assert node in act.liked_attributes, message
    assert _reads(reader, "Something with Tom Hanks").cast_any == ["Tom Hanks"]


def test_a_genre_praised_or_compared_is_a_taste_not_a_filter(reader):
    for message in ["a good comedy is nice too", "Oh man - you must! I enjoy comedies more than drama."]:
        act = reader.read(message, SessionState(session_id="t"))
        assert act.constraints.genres_all == [] and "genre:comedy" in act.liked_attributes, message
    assert _reads(reader, "a comedy would be nice").genres_all == ["comedy"]
    assert _reads(reader, "what's a good horror movie?").genres_all == ["horror"]


def test_last_week_is_a_time_not_the_last_film_shown(agent):
    agent.respond("s", "a 90s comedy")
    shown = {e.item_id for e in agent.session("s").last_shown}
    agent.respond("s", "I watched Heat with my brother last week.")
    seen = agent.session("s").seen_items
    assert seen and not shown & set(seen), seen


@pytest.mark.parametrize(("message", "need"), [
    ("a documentary about food", "food"), ("a movie about chess", "chess"),
    ("something about dragons", "dragon"), ("any films involving submarines?", "submarine"),
    ("a space movie that's not Star Wars", "space"),
])
def test_one_word_the_film_is_about_is_a_need(reader, message, need):
    """"about X" asks for films about X: X is a liked keyword when the graph knows it, else the
    text to search, never dropped."""
    act = reader.read(message, SessionState(session_id="t"))
    kept = [*act.liked_attributes, *act.query_text.split()]
    assert any(need in word for word in kept), (act.liked_attributes, act.query_text)


@pytest.mark.parametrize("message", ["a good movie for tonight", "something for the weekend",
                                     "what's a good one to watch?", "a new movie", "a great film please"])
def test_one_word_without_a_cue_searches_nothing(reader, message):
    act = reader.read(message, SessionState(session_id="t"))
    assert act.query_text == "" and act.liked_attributes == []


def test_a_good_movie_about_something_asks_for_films_not_for_a_plot(reader):
    act = reader.read("what's a good movie about artificial intelligence?", SessionState(session_id="t"))
    assert act.intent == "recommend" and act.item_question is None


# "uplifting" with nothing shown yet is a mood (test_uplifting_with_nothing_shown_is_a_mood_not_a_shift).
@pytest.mark.parametrize("message", ["something lighthearted", "a lighthearted comedy"])
def test_light_hearted_spelt_together_is_lighter(reader, message):
    assert "lighter" in reader.read(message, SessionState(session_id="t")).refinements


@pytest.mark.parametrize(("message", "genre"), [
    ("a less known comedy", "comedy"), ("something I haven't heard of, a thriller", "thriller"),
    ("an overlooked drama", "drama"), ("an underrated comedy", "comedy"),
])
def test_asking_for_lesser_known_films_keeps_the_genre(reader, message, genre):
    act = reader.read(message, SessionState(session_id="t"))
    assert "obscure" in act.refinements and act.constraints.genres_all == [genre]
    assert act.query_text == ""   # "hidden", "heard", "gems" are no topic to search titles with


def test_a_negated_topic_is_never_searched_for(reader):
    act = reader.read("a good drama, nothing about war", SessionState(session_id="t"))
    assert "war" not in act.query_text.split() and "genre:war" not in act.liked_attributes


@pytest.mark.parametrize("message", ["something scary but not a slasher", "a horror film, no slashers"])
def test_ruling_out_a_kind_of_the_genre_asked_keeps_the_genre(reader, message):
    act = reader.read(message, SessionState(session_id="t"))
    c = act.constraints
    assert c.genres_all == ["horror"] and "horror" not in c.genres_none
    assert any(k.startswith("slasher") for k in c.keywords_none)


def test_ruling_out_a_kind_of_the_genre_of_the_session_keeps_it(reader):
    state = SessionState(session_id="t")
    state.constraints.genres_all = ["horror"]
    act = reader.read("no slashers please", state)
    assert "horror" not in act.constraints.genres_none
    assert any(k.startswith("slasher") for k in act.constraints.keywords_none)


def _mood_nodes(reader, *keywords: str) -> set[str]:
    """The keyword nodes among ``keywords`` that the test catalog's graph has."""
    kg = reader.linker.kg
    return {f"keyword:{k}" for k in keywords} & set(kg.nodes("keyword"))


@pytest.mark.parametrize(("message", "keywords"), [
    ("I need a good cry", ("tear jerker", "emotional", "touching", "melancholic", "sad")),
    ("a movie that will make me think", ("thought provoking", "philosophical", "cerebral", "life philosophy")),
    ("something to cheer me up", ("feel good", "feel good movie", "heartwarming", "inspirational")),
    ("a mind-bending film", ("mindfuck", "twist ending", "surreal", "complex", "cerebral")),
])
def test_a_mood_is_a_leaning_towards_its_keywords(reader, message, keywords):
    wanted = _mood_nodes(reader, *keywords)
    assert wanted, "the test catalog has none of the mood's keywords"
    act = reader.read(message, SessionState(session_id="t"))
    assert act.intent == "recommend"
    assert wanted <= set(act.liked_attributes)
    assert act.constraints.is_empty()   # a leaning, never a filter
    assert act.query_text == ""         # the mood words are read, not searched as free text


def test_wanting_to_laugh_asks_for_comedies(reader):
    for message in ("something that will make me laugh", "I want to laugh", "a film to crack me up"):
        act = reader.read(message, SessionState(session_id="t"))
        assert act.intent == "recommend", message
        assert "genre:comedy" in act.liked_attributes or act.constraints.genres_all == ["comedy"], message


def test_uplifting_with_nothing_shown_is_a_mood_not_a_shift(reader, small_resources):
    act = reader.read("something uplifting", SessionState(session_id="t"))
    assert "lighter" not in act.refinements
    assert _mood_nodes(reader, "feel good", "heartwarming") <= set(act.liked_attributes)
    after = reader.read("something more uplifting", _shown_state(small_resources, "Toy Story", "Jumanji"))
    assert "lighter" in after.refinements


@pytest.mark.parametrize("message", ["I'm sad, cheer me up", "a comedy, nothing sad", "a drama but less sad"])
def test_a_negated_mood_or_the_users_own_state_asks_for_no_sad_films(reader, message):
    act = reader.read(message, SessionState(session_id="t"))
    assert not _mood_nodes(reader, "tear jerker", "melancholic", "sad") & set(act.liked_attributes)


@pytest.mark.parametrize(("message", "kept", "dropped"), [
    ("a movie about a dog that won't make me cry", "dog", "cry"),
    ("something that doesn't make me think too hard, a comedy", "", "hard"),
    ("not in the mood for anything violent, maybe a film about friendship", "friendship", "violent"),
])
def test_what_a_negation_covers_is_never_searched_or_leaned_to(reader, message, kept, dropped):
    act = reader.read(message, SessionState(session_id="t"))
    words = act.query_text.split()
    assert dropped not in words and not any(dropped in n for n in act.liked_attributes)
    if kept:
        assert kept in words or any(kept in n for n in act.liked_attributes), (act.query_text, act.liked_attributes)
    assert not any(n.endswith(("tear jerker", "thought provoking")) for n in act.liked_attributes)
