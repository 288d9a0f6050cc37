"""Questions about items, rating prediction, cold start, narrative requests and chit-chat."""

from __future__ import annotations

from chatrec.testing.checks import assert_grounded, ids


def test_who_directed_it_answers_from_the_kg(agent):
    first = agent.respond("s", "something like Memento")
    top = first.recommendations[0].item
    reply = agent.respond("s", "who directed it?")
    assert reply.answer_item is not None and reply.answer_item.id == top.id
    assert top.directors and all(d in reply.text for d in top.directors)
    assert all(f.relation == "directed_by" and agent.kg.has_fact(top.id, f.relation, f.object)
               for f in reply.facts)
    assert not reply.recommendations


def test_questions_about_a_named_item(agent):
    reply = agent.respond("s", "who is in The Matrix?")
    assert "Keanu Reeves" in reply.text
    reply = agent.respond("s", "what is it about?")
    matrix = agent.catalog.find_title("The Matrix")[0]
    assert matrix.description and matrix.description[:40] in reply.text


def test_questions_about_the_second_recommendation(agent):
    first = agent.respond("s", "a 90s comedy")
    second = first.recommendations[1]
    reply = agent.respond("s", "why did you suggest the second one?")
    assert reply.answer_item.id == second.item.id
    assert second.explanation in reply.text
    assert reply.facts == second.evidence


def test_question_without_anything_to_refer_to(agent):
    reply = agent.respond("s", "who directed it?")
    assert "Which film" in reply.text


def test_rating_prediction_for_a_known_user(agent):
    reply = agent.respond("s", "what would I rate Heat?", user_id="ml:42")
    assert reply.answer_item is not None and reply.answer_item.title == "Heat"
    assert "out of 5" in reply.text
    value = float(reply.text.split("about ")[1].split(" out of")[0])
    assert 0.5 <= value <= 5.0


def test_rating_prediction_for_a_cold_user_says_it_does_not_know(agent):
    reply = agent.respond("s", "what would I rate Heat?", user_id="web:nobody")
    assert "don't know" in reply.text
    reply = agent.respond("t", "what would I rate Heat?")
    assert "don't know" in reply.text


def test_cold_start_asks_once_with_films_then_recommends(agent):
    first = agent.respond("s", "recommend me a movie")
    assert first.question is not None and len(first.recommendations) == agent.k
    assert_grounded(agent, first)
    second = agent.respond("s", "anything, really")
    assert second.question is None
    assert len(second.recommendations) == agent.k
    assert_grounded(agent, second)
    # popularity-aware: cold recommendations are well-known films
    assert min(r.item.popularity for r in second.recommendations) >= 50


def test_cold_start_answering_the_question_with_a_genre(agent):
    agent.respond("s", "can you suggest something?")
    reply = agent.respond("s", "a thriller")
    assert reply.recommendations and all("thriller" in r.item.genres for r in reply.recommendations)


def test_known_user_gets_personal_recommendations_without_questions(agent):
    reply = agent.respond("s", "recommend me a movie", user_id="ml:1")
    assert reply.question is None and len(reply.recommendations) == agent.k
    history = set(agent.catalog.interactions.history("1")["item_id"])
    assert not set(ids(reply)) & history, "recommended something the user already rated"
    assert any("collab" in r.sources for r in reply.recommendations)


def test_narrative_request_uses_vector_retrieval(agent):
    reply = agent.respond("s", "a story about a lonely lighthouse keeper")
    assert reply.recommendations
    assert any("vector" in r.sources for r in reply.recommendations)
    assert_grounded(agent, reply)


def test_small_talk_gets_a_friendly_answer_and_films_to_react_to(agent):
    for n, message in enumerate(["how are you today?", "hello", "what's the weather like"]):
        reply = agent.respond(f"s{n}", message)
        assert reply.question is not None and len(reply.recommendations) == agent.k, message
        assert reply.text.splitlines()[0] == reply.question.text
        assert_grounded(agent, reply)
    reply = agent.respond("s", "thanks!")
    assert not reply.recommendations and 0 < len(reply.text) < 300
