"""The agent end to end on the hand-written films (tests/fixtures/films), without the data
directory: understanding, hard constraints, retrieval, explanations, the guard and memory."""

from __future__ import annotations

import pytest

from chatrec.testing.checks import assert_grounded, ids


def _id(agent, title: str, year: int | None = None) -> str:
    return agent.catalog.find_title(title, year)[0].id


def _items(agent, reply):
    return [agent.catalog[i] for i in ids(reply)]


def test_a_request_with_a_decade_and_an_exclusion_holds_both(films_agent):
    reply = films_agent.respond("s", "a 90s film please, no horror and no comedy")
    assert len(reply.recommendations) == films_agent.k
    for item in _items(films_agent, reply):
        assert 1990 <= item.year <= 1999 and not {"horror", "comedy"} & set(item.genres), item
    assert_grounded(films_agent, reply)
    c = films_agent.session("s").constraints
    assert (c.year_min, c.year_max, sorted(c.genres_none)) == (1990, 1999, ["comedy", "horror"])


def test_something_like_a_film_finds_its_neighbours_and_says_why(films_agent):
    reply = films_agent.respond("s", "I loved Inception. Any suggestions?")
    assert _id(films_agent, "Inception") not in ids(reply)
    recommended = {r.item.title for r in reply.recommendations}
    assert recommended & {"The Prestige", "Memento", "Interstellar", "The Dark Knight", "Heat"}, recommended
    assert any("Inception" in r.explanation for r in reply.recommendations)
    assert_grounded(films_agent, reply)


def test_an_actor_request_only_returns_their_films(films_agent):
    reply = films_agent.respond("s", "something with Tom Hanks")
    assert reply.recommendations
    assert all("Tom Hanks" in item.cast for item in _items(films_agent, reply))
    assert all("Tom Hanks" in r.explanation for r in reply.recommendations)
    assert_grounded(films_agent, reply)


def test_questions_about_shown_items_are_answered_from_the_graph(films_agent):
    first = films_agent.respond("s", "a sci-fi film")
    second_item = first.recommendations[1].item
    answer = films_agent.respond("s", "who directed the second one?")
    assert answer.answer_item == second_item
    assert all(f.relation == "directed_by" and films_agent.kg.has_fact(second_item.id, f.relation, f.object)
               for f in answer.facts) and answer.facts
    why = films_agent.respond("s", "why the first one?")
    assert first.recommendations[0].explanation in why.text


def test_a_disliked_item_never_comes_back_and_the_profile_keeps_it(films_agent):
    first = films_agent.respond("s", "an action film", user_id="web:ann")
    dropped = first.recommendations[0].item.id
    films_agent.feedback("s", dropped, "disliked")
    again = films_agent.respond("s", "more action please")
    assert dropped not in ids(again)
    assert dropped not in [r.item.id for r in films_agent.rank("s", k=40)]
    assert dropped in films_agent.user_profile("web:ann").disliked_items


def test_sessions_survive_a_restart(make_films_agent, tmp_path):
    store = tmp_path / "restart.sqlite3"
    first = make_films_agent(store_path=store)
    first.respond("s", "I loved Heat. Something from the 90s?", user_id="web:bo")
    restarted = make_films_agent(store_path=store)
    state = restarted.session("s")
    assert _id(restarted, "Heat") in state.liked_items and state.constraints.year_min == 1990
    reply = restarted.respond("s", "who directed it?")
    assert reply.answer_item is not None


def test_likes_from_another_session_shape_explanations(films_agent):
    films_agent.respond("a", "I loved Toy Story", user_id="web:cy")
    reply = films_agent.respond("b", "something for the family", user_id="web:cy")
    assert reply.recommendations and not reply.trace.guard.fallback
    assert any("Toy Story" in r.explanation for r in reply.recommendations)
    assert_grounded(films_agent, reply)


def test_rank_always_gives_k_distinct_items_that_hold_the_constraints(films_agent):
    films_agent.respond("s", "a drama from after 1990")
    ranked = films_agent.rank("s", k=15)
    assert len(ranked) == len({r.item.id for r in ranked}) == 15
    assert all(r.item.year >= 1990 and "drama" in r.item.genres for r in ranked)


def test_impossible_constraints_are_relaxed_and_said(films_agent):
    reply = films_agent.respond("s", "an animated horror film from the 70s")
    notes = [n.split(":", 1)[1].strip() for n in reply.trace.notes if n.startswith("relaxed:")]
    assert notes and notes[0] in reply.text and "Nothing in the catalog matches everything" in notes[0]
    assert len(reply.recommendations) == 5
    kept = [sum(["animation" in rec.item.genres, "horror" in rec.item.genres,
                 rec.item.year is not None and 1970 <= rec.item.year <= 1979]) for rec in reply.recommendations]
    assert kept[0] == 2 and kept == sorted(kept, reverse=True)   # the closest matches first
    c = films_agent.session("s").constraints   # relaxed for this answer, not forgotten
    assert c.genres_all == ["animation", "horror"] and (c.year_min, c.year_max) == (1970, 1979)
    assert len(films_agent.rank("s", k=20)) == 20


def test_unknown_and_ambiguous_titles_are_said(films_agent):
    unknown = films_agent.respond("s", "I loved Blorptastic 3")
    assert "Blorptastic 3" in unknown.text and "couldn't find" in unknown.text
    ambiguous = films_agent.respond("t", "I liked Titanic, anything similar?")
    assert "1953" in ambiguous.text and ambiguous.trace.guard.passed


def test_reset_starts_over_and_keeps_the_profile(films_agent):
    films_agent.respond("s", "I loved Heat, a 90s thriller", user_id="web:dee")
    films_agent.respond("s", "start over")
    state = films_agent.session("s")
    assert state.constraints.is_empty() and not state.liked_items and state.user_id == "web:dee"
    assert _id(films_agent, "Heat") in films_agent.user_profile("web:dee").liked_items


def test_an_observed_recommender_turn_is_what_it_refers_to(films_agent):
    films_agent.observe("s", "Have you seen Alien? Or Blade Runner?")
    reply = films_agent.respond("s", "who directed the second one?")
    assert reply.answer_item is not None and reply.answer_item.title == "Blade Runner"
    assert "Ridley Scott" in reply.text


def test_a_known_users_history_personalises_and_is_never_recommended_again(films_agent):
    reply = films_agent.respond("s", "recommend me something", user_id="films:u2")
    rated = set(films_agent.catalog.interactions.history("u2")["item_id"])
    assert reply.recommendations and not rated & set(ids(reply))
    rating = films_agent.respond("s", "what would I rate Heat?")
    assert rating.trace.decision == "rate" and "out of 5" in rating.text


def test_removing_a_preference_lifts_it(films_agent):
    films_agent.respond("s", "a comedy with Bill Murray")
    assert films_agent.session("s").constraints.cast_any == ["Bill Murray"]
    assert films_agent.remove_preference("s", "person:bill murray")
    assert films_agent.session("s").constraints.cast_any == []
    assert not films_agent.remove_preference("s", "person:bill murray")


def test_forget_deletes_what_is_stored_about_a_user(films_agent):
    films_agent.respond("s", "I loved Up", user_id="web:eve")
    assert films_agent.profile("web:eve")["sessions"]
    films_agent.forget("web:eve")
    exported = films_agent.profile("web:eve")
    assert exported["sessions"] == [] and exported["profile"]["liked_items"] == []


def test_the_stream_ends_with_what_respond_would_say(make_films_agent, tmp_path):
    streamed = list(make_films_agent(tmp_path / "a.sqlite3").respond_stream("s", "a comedy from the 80s"))
    said = make_films_agent(tmp_path / "b.sqlite3").respond("s", "a comedy from the 80s")
    assert streamed[-1].text == said.text and ids(streamed[-1]) == ids(said)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "x" * 5000])
def test_bad_input_gets_a_clear_answer_and_loses_nothing(films_agent, text):
    films_agent.respond("s", "I loved Heat")
    reply = films_agent.respond("s", text)
    assert reply.text and reply.recommendations == []
    assert _id(films_agent, "Heat") in films_agent.session("s").liked_items


def test_a_failing_step_answers_and_keeps_the_session(films_agent, monkeypatch):
    films_agent.respond("s", "I loved Heat")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(films_agent.retriever, "retrieve", broken)
    reply = films_agent.respond("s", "a comedy please")
    assert "went wrong" in reply.text and "internal error: RuntimeError" in reply.trace.notes
    assert films_agent.session("s").constraints.genres_all == []
