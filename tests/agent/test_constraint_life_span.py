"""How long what the user asked for filters (the understanding issue, item 4), on the real
MovieLens films: a request filters while it is current — the turn it is said and the turns that
carry it on ("something else", "any others?") — and becomes a preference once the conversation
moves on or the user likes a film that breaks it; exclusions ("no horror") filter for the whole
conversation."""

from __future__ import annotations

from chatrec.agent.memory import MOVED_ON_TURNS


def _comedy_90s(item) -> bool:
    return "comedy" in item.genres and item.year is not None and 1990 <= item.year <= 1999


def test_a_request_filters_over_the_turns_that_carry_it_on(agent):
    first = agent.respond("s", "a 90s comedy")
    assert first.recommendations and all(_comedy_90s(r.item) for r in first.recommendations)
    # a question about its films does not end it; carrying it on renews it
    for message in ["who directed the first one?", "something else", "any others?",
                    "I've seen those, what else do you have?", "more please"]:
        reply = agent.respond("s", message)
        state = agent.session("s")
        assert set(state.constraints.hard_units()) == {"year", "genres_all:comedy"}, message
        assert not any(n.startswith("softened") for n in reply.trace.notes), message
        for rec in reply.recommendations:
            assert _comedy_90s(rec.item), (message, rec.item.display)
    ranked = agent.rank("s", k=30)
    assert len(ranked) == 30 and all(_comedy_90s(r.item) for r in ranked)


def test_a_request_becomes_a_preference_once_the_conversation_moves_on(agent):
    agent.respond("s", "a 90s comedy")
    chat = ["I watched Heat with my brother last week.", "We both thought it was way too long."]
    replies = [agent.respond("s", message) for message in chat[:MOVED_ON_TURNS]]
    softened = [n for n in replies[-1].trace.notes if n.startswith("softened")]
    assert "softened: comedy: hard → soft (the conversation moved on)" in softened
    assert "softened: from 1990–1999: hard → soft (the conversation moved on)" in softened
    state = agent.session("s")
    # still what the user wanted (the profile, the explanations), no longer a filter
    c = state.constraints
    assert c.genres_all == ["comedy"] and (c.year_min, c.year_max) == (1990, 1999)
    assert c.hard_units() == [] and set(c.soft_units()) == {"year", "genres_all:comedy"}
    assert c.origin("genres_all:comedy").softened == "the conversation moved on"
    assert "genre:comedy" in c.nodes()
    query = agent.query("s")
    assert query.constraints.clauses() == [] and len(query.constraints.preferred()) == 2
    # the others are no longer ruled out; the films meeting it still come first
    others = [i for i in agent.catalog if not _comedy_90s(i)][:50]
    assert all(query.constraints.matches(i) for i in others)
    assert agent.retriever.table.mask(query.constraints, query.exclude).sum() > len(others)
    assert all(_comedy_90s(r.item) for r in agent.rank("s", k=10))
    # a new request of the same kind is hard again
    agent.respond("s", "any good thrillers?")
    c = agent.session("s").constraints
    assert "genres_all:thriller" in c.hard_units() and c.genres_all == ["thriller"]
    assert all("thriller" in r.item.genres for r in agent.rank("s", k=20))


def test_an_exclusion_filters_for_the_whole_conversation(agent):
    agent.respond("s", "a comedy please, but no horror")
    for message in ["I watched Heat with my brother last week.", "We both thought it was way too long.",
                    "My brother liked it more than I did.", "Anyway."]:
        agent.respond("s", message)
    c = agent.session("s").constraints
    assert "genres_none:horror" in c.hard_units() and "genres_all:comedy" in c.soft_units()
    ranked = agent.rank("s", k=100)
    assert len(ranked) == 100 and not any("horror" in r.item.genres for r in ranked)
    assert all("comedy" in r.item.genres for r in ranked[:10])


def test_liking_a_film_that_breaks_a_request_makes_it_a_preference_at_once(agent):
    agent.respond("s", "I'm looking for a comedy")
    reply = agent.respond("s", "I loved Heat")
    assert "softened: comedy: hard → soft (a film you liked does not meet it)" in reply.trace.notes
    c = agent.session("s").constraints
    assert c.soft_units() == ["genres_all:comedy"] and c.clauses() == []
    # a film that meets it, liked while asking for more, leaves it hard
    agent.respond("t", "I'm looking for a comedy")
    reply = agent.respond("t", "I loved Groundhog Day, what else?")
    assert not any(n.startswith("softened") for n in reply.trace.notes)
    assert agent.session("t").constraints.hard_units() == ["genres_all:comedy"]


def test_a_question_about_its_films_keeps_a_request_current(agent):
    agent.respond("s", "I'm looking for a horror movie")
    for message in ["who directed the second one?", "what is the first one about?"]:
        reply = agent.respond("s", message)
        assert not any(n.startswith("softened") for n in reply.trace.notes), message
    assert agent.session("s").constraints.hard_units() == ["genres_all:horror"]
    reply = agent.respond("s", "I watched Heat with my brother last week.")
    assert "softened: horror: hard → soft (the conversation moved on)" in reply.trace.notes
    assert all("horror" in r.item.genres for r in agent.rank("s", k=5))


def test_a_request_whose_own_example_breaks_it_is_a_preference_at_once(agent):
    reply = agent.respond("s", "I'm looking for a comedy, something like Heat")
    assert "softened: comedy: hard → soft (a film you liked does not meet it)" in reply.trace.notes
    assert agent.session("s").constraints.soft_units() == ["genres_all:comedy"]
    # an example that meets it, or a film liked beside the request, leaves it hard
    agent.respond("t", "I'm looking for a comedy, something like Groundhog Day")
    assert agent.session("t").constraints.hard_units() == ["genres_all:comedy"]
    agent.respond("u", "I loved Heat. Any good comedies?")
    assert agent.session("u").constraints.hard_units() == ["genres_all:comedy"]
