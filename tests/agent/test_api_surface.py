"""The parts of the Agent API the surfaces lean on: users attached by any call, profile
accessors, year preferences, cross-session likes in explanations, and concurrent use."""

from __future__ import annotations

import threading
import time

from chatrec.testing.checks import assert_grounded, ids


def _id(agent, title: str) -> str:
    return agent.catalog.find_title(title)[0].id


def test_feedback_with_a_user_id_reaches_that_users_profile(make_agent):
    agent = make_agent()
    heat = _id(agent, "Heat (1995)")
    agent.feedback("fresh-thread", heat, "liked", user_id="slack:T1:U1")   # no message before
    assert heat in agent.user_profile("slack:T1:U1").liked_items
    assert agent.session("fresh-thread").user_id == "slack:T1:U1"


def test_rank_with_a_user_id_is_personalised(make_agent):
    agent = make_agent()
    anonymous = [r.item.id for r in agent.rank("a", k=20)]
    personal = [r.item.id for r in agent.rank("b", k=20, user_id="ml:42")]
    assert len(personal) == 20 and personal != anonymous
    assert agent.session("b").user_id == "ml:42"


def test_user_profile_is_a_copy(make_agent):
    agent = make_agent()
    agent.respond("s", "I loved Heat", user_id="web:alice")
    profile = agent.user_profile("web:alice")
    profile.liked_items.clear()
    assert agent.user_profile("web:alice").liked_items, "editing the copy must not change the agent"
    assert agent.user_profile("web:nobody").liked_items == []


def test_removing_the_year_preference_lifts_the_time_frame(make_agent):
    agent = make_agent()
    agent.respond("s", "a 90s comedy")
    assert agent.session("s").constraints.year_min == 1990
    assert agent.remove_preference("s", "decade:1990")
    c = agent.session("s").constraints
    assert (c.year_min, c.year_max) == (None, None) and c.genres_all == ["comedy"]
    assert not agent.remove_preference("s", "years"), "nothing left to remove"


def test_likes_from_another_thread_may_be_named_in_explanations(make_agent):
    agent = make_agent()
    user = "slack:T1:U2"
    agent.respond("thread-1", "I loved Toy Story", user_id=user)
    reply = agent.respond("thread-2", "something for the family", user_id=user)
    assert reply.recommendations
    assert_grounded(agent, reply)
    assert not reply.trace.guard.fallback, reply.trace.guard
    context = agent.queries.context(agent.session("thread-2"), agent.user_profile(user))
    assert _id(agent, "Toy Story") in context.discussed()


def test_concurrent_sessions_stay_separate_and_grounded(make_agent):
    agent = make_agent()
    asks = ["a 90s comedy", "movies with Tom Hanks", "no horror, something from the 80s",
            "something like The Matrix"] * 3
    replies: dict[int, object] = {}
    errors: list[BaseException] = []

    def talk(n: int) -> None:
        try:
            replies[n] = agent.respond(f"c{n}", asks[n], user_id=f"web:u{n % 4}")
            agent.feedback(f"c{n}", replies[n].recommendations[0].item.id, "seen")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(len(asks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for n, reply in replies.items():
        assert_grounded(agent, reply)
        state = agent.session(f"c{n}")
        assert [t.text for t in state.turns if t.role == "user"][0] == asks[n]
        if "90s" in asks[n]:
            assert all(1990 <= y <= 1999 for y in (r.item.year for r in reply.recommendations))
    assert len({tuple(ids(r)) for r in replies.values()}) >= 4


def test_a_stream_consumer_may_press_a_button_mid_stream(make_agent):
    agent = make_agent()
    stream = agent.respond_stream("s", "a 90s comedy")
    first = next(stream)
    agent.feedback("s", first.recommendations[0].item.id, "disliked")  # same thread, lock held
    for _ in stream:
        pass
    assert first.recommendations[0].item.id in agent.session("s").disliked_items


def test_a_stream_may_be_driven_from_changing_threads(make_agent):
    """Gradio runs each step of a streaming handler in whichever worker thread is free."""
    agent = make_agent()
    stream = agent.respond_stream("s", "a 90s comedy")
    results: list = []
    done = threading.Event()

    def step(hold: bool) -> None:
        try:
            results.append(next(stream, None))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        if hold:   # stay alive, so the next step really runs in another thread (ids are reused)
            done.wait(timeout=60)

    first = threading.Thread(target=step, args=(True,))
    first.start()
    while not results:
        time.sleep(0.01)
    second = threading.Thread(target=step, args=(False,))
    second.start()
    second.join(timeout=60)
    done.set()
    first.join(timeout=60)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0].recommendations and results[-1] is None
    assert agent.respond("s", "something older").recommendations   # the session is not left locked
