"""State survives restarts; feedback goes to the user's profile; profiles can be viewed, exported
and deleted; observe/rank serve replays."""

from __future__ import annotations

import json

from chatrec.testing.checks import ids


def test_conversation_continues_after_a_restart(make_agent, tmp_path):
    path = tmp_path / "persist.sqlite3"
    first = make_agent(store_path=path)
    reply = first.respond("s", "a 90s comedy")
    top = reply.recommendations[0].item
    second = make_agent(store_path=path)  # a new process would do the same: read the store
    answer = second.respond("s", "who directed it?")
    assert answer.answer_item.id == top.id
    more = second.respond("s", "more")
    assert all(1990 <= r.item.year <= 1999 and "comedy" in r.item.genres for r in more.recommendations)
    assert not set(ids(more)) & set(ids(reply))


def test_feedback_is_saved_to_the_profile_across_sessions(make_agent, tmp_path):
    path = tmp_path / "profile.sqlite3"
    agent = make_agent(store_path=path)
    reply = agent.respond("a", "something like Toy Story", user_id="web:alice")
    disliked = reply.recommendations[0].item.id
    agent.feedback("a", disliked, "disliked")
    liked = reply.recommendations[1].item.id
    agent.feedback("a", liked, "liked")
    restarted = make_agent(store_path=path)
    profile = restarted.profile("web:alice")
    assert disliked in profile["profile"]["disliked_items"]
    assert liked in profile["profile"]["liked_items"]
    assert profile["sessions"] and json.dumps(profile)  # exportable as JSON
    new_session = restarted.respond("b", "something like Toy Story", user_id="web:alice")
    assert disliked not in ids(new_session) and liked not in ids(new_session)


def test_forget_deletes_profile_and_sessions(make_agent):
    agent = make_agent()
    agent.respond("a", "I loved Inception", user_id="web:bob")
    deleted = agent.forget("web:bob")
    assert deleted["profile_deleted"] and "a" in deleted["sessions_deleted"]
    profile = agent.profile("web:bob")
    assert not profile["profile"]["liked_items"] and not profile["sessions"]


def test_feedback_rejects_unknown_items(agent):
    import pytest

    from chatrec.errors import UnknownItemError

    with pytest.raises(UnknownItemError):
        agent.feedback("s", "no-such-item", "liked")


def test_reset_starts_over_but_keeps_the_profile(agent):
    agent.respond("s", "a 90s comedy", user_id="web:carol")
    agent.respond("s", "I loved Toy Story")
    agent.reset("s")
    state = agent.session("s")
    assert not state.turns and state.constraints.year_min is None
    assert agent.profile("web:carol")["profile"]["liked_items"]


def test_observe_and_rank_for_replay(agent):
    agent.respond("r", "hi, I like horror movies like The Shining")
    agent.observe("r", "Have you seen The Exorcist?", role="recommender")
    state = agent.session("r")
    assert state.focus_item is not None
    ranked = agent.rank("r", k=50)
    assert len(ranked) == 50
    assert len({r.item.id for r in ranked}) == 50
    shining = agent.catalog.find_title("The Shining")[0].id
    assert shining not in {r.item.id for r in ranked}
    # rank does not change the conversation
    assert agent.session("r").turns == state.turns


def test_remove_preference(agent):
    agent.respond("s", "no horror, I loved Toy Story")
    toy = agent.catalog.find_title("Toy Story")[0].id
    assert agent.remove_preference("s", toy)
    assert agent.remove_preference("s", "horror")
    state = agent.session("s")
    assert toy not in state.liked_items and "horror" not in state.constraints.genres_none
