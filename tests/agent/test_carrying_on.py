"""What carries a request on, on the real MovieLens films and the real agent without an LLM:
asking for more of the same ("any others like it?", "got anything similar?") keeps it filtering,
"like it" asks for films like the one in focus as "like the second one" does, and a turn that
only acknowledges ("Great!", "thanks") neither carries it on nor moves on from it."""

from __future__ import annotations

import pytest

from chatrec.agent.memory import MOVED_ON_TURNS

REQUEST = "a 90s comedy, no horror"
HARD = {"year", "genres_all:comedy", "genres_none:horror"}


def _asked(item) -> bool:
    return "comedy" in item.genres and "horror" not in item.genres \
        and item.year is not None and 1990 <= item.year <= 1999


def _softened(reply) -> list[str]:
    return [n for n in reply.trace.notes if n.startswith("softened")]


def _still_filters(agent, session: str, reply, said: str) -> None:
    assert set(agent.session(session).constraints.hard_units()) == HARD, said
    assert not _softened(reply), said
    assert reply.recommendations, said
    for rec in reply.recommendations:
        assert _asked(rec.item), (said, rec.item.display)
    ranked = agent.rank(session, k=30)
    assert len(ranked) == 30 and all(_asked(r.item) for r in ranked), said


FOLLOW_UPS = ["any others like it?", "more like that one", "got anything similar?", "what else is like that?",
              "similar ones?", "Similar?", "others like that?", "another one like that", "what's similar to it?",
              "ones like that", "any more in the same vein?", "something along those lines please",
              "anything like that?", "Anything else like it?"]


@pytest.mark.parametrize("follow_up", FOLLOW_UPS)
def test_asking_for_more_of_the_same_keeps_the_request_filtering(agent, follow_up):
    agent.respond("s", REQUEST)
    reply = agent.respond("s", follow_up)
    assert reply.trace.act.continues, follow_up
    # more of the same, not "anything really" (which asks for well-known films)
    assert "popular" not in reply.trace.act.refinements, follow_up
    _still_filters(agent, "s", reply, follow_up)


def test_like_it_asks_for_films_like_the_one_in_focus_as_an_ordinal_does(agent):
    first = agent.respond("s", REQUEST)
    second = first.recommendations[1].item.id
    agent.respond("s", "who directed the second one?")
    assert agent.session("s").focus_item == second
    reply = agent.respond("s", "any others like it?")
    assert reply.trace.act.liked_items == [second] and "more_like" in reply.trace.act.refinements
    _still_filters(agent, "s", reply, "any others like it?")
    assert second not in {r.item.id for r in reply.recommendations}
    # the same film, named by its place
    agent.respond("t", REQUEST)
    by_place = agent.respond("t", "more like the second one")
    assert by_place.trace.act.liked_items == [second]
    # after a list, "it" is the film in focus: the first one shown
    shown = agent.respond("u", REQUEST).recommendations
    assert agent.respond("u", "more like that one").trace.act.liked_items == [shown[0].item.id]
    # "like that" / "like those" ask for more of the request, of no one film
    agent.respond("v", REQUEST)
    assert agent.respond("v", "any more like those?").trace.act.liked_items == []


@pytest.mark.parametrize("ack", ["Great!", "thanks", "ok cool", "haha nice", "Cool!", "Sounds good.", "lol ok"])
def test_an_acknowledgement_neither_ends_nor_renews_the_request(agent, ack):
    agent.respond("s", REQUEST)
    reply = agent.respond("s", ack)
    assert reply.trace.act.acknowledges, ack
    assert not _softened(reply) and set(agent.session("s").constraints.hard_units()) == HARD, ack
    # "cool" is a film keyword too, but said alone it is no taste for cool films
    assert agent.session("s").liked_attributes == [], ack
    follow_up = agent.respond("s", "any others like it?")
    _still_filters(agent, "s", follow_up, f"{ack} → any others like it?")
    # two in a row change nothing either
    agent.respond("t", REQUEST)
    for message in (ack, "thanks!", "more please"):
        reply = agent.respond("t", message)
        assert not _softened(reply), message
    _still_filters(agent, "t", reply, f"{ack} → thanks! → more please")


def test_an_acknowledgement_does_not_renew_the_request_either(agent):
    """Only the turns that move on count: after any number of acknowledgements the request
    softens on the ``MOVED_ON_TURNS``-th turn about something else, not before and not later."""
    agent.respond("s", REQUEST)
    agent.respond("s", "Great!")
    chat = ["I watched Heat with my brother last week.", "We both thought it was way too long."]
    for message in chat[:MOVED_ON_TURNS - 1]:
        assert not _softened(agent.respond("s", message)), message
        assert not _softened(agent.respond("s", "haha")), message
    reply = agent.respond("s", chat[MOVED_ON_TURNS - 1])
    assert "softened: comedy: hard → soft (the conversation moved on)" in _softened(reply)
    c = agent.session("s").constraints
    assert c.hard_units() == ["genres_none:horror"] and set(c.soft_units()) == {"year", "genres_all:comedy"}


def test_a_new_request_after_an_acknowledgement_replaces_the_old_one(agent):
    agent.respond("s", REQUEST)
    agent.respond("s", "Great!")
    reply = agent.respond("s", "now something scary from the 2010s")
    c = agent.session("s").constraints
    assert c.genres_all == ["horror"] and (c.year_min, c.year_max) == (2010, 2019)
    assert set(c.hard_units()) == {"year", "genres_all:horror"}   # the newest statement wins over "no horror"
    assert reply.recommendations and all(2010 <= (r.item.year or 0) <= 2019 for r in reply.recommendations)
    # as if said first (the small catalog has two horror films of the 2010s; the rest is relaxed)
    fresh = agent.respond("t", "now something scary from the 2010s")
    assert [r.item.id for r in reply.recommendations] == [r.item.id for r in fresh.recommendations]
    assert "horror" in reply.recommendations[0].item.genres


@pytest.mark.parametrize("message", ["great, now something scary", "ok, I loved Heat", "thanks, any thrillers?",
                                     "cool, who directed the first one?", "ok I watched Fargo last week"])
def test_a_turn_that_says_something_is_no_acknowledgement(agent, message):
    agent.respond("s", REQUEST)
    assert not agent.respond("s", message).trace.act.acknowledges, message
