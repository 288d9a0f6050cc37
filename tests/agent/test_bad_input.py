"""Bad input gets a clear, friendly reply, no exception escapes ``respond``, and the session keeps
working: after each piece of junk, a valid request still returns grounded recommendations."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatrec.testing.checks import assert_grounded

JUNK = [
    "",
    "   \n\t  ",
    "x" * 100_000,
    "hello\x00\x07\x1b[31m world\u200b",
    "Je voudrais un film d'amour, s'il vous plaît",
    "我想看一部电影",
    "🎬🍿😀😀😀",
    "<script>alert('x')</script><b>bold</b>",
    "'; DROP TABLE sessions; --",
    "Robert'); DELETE FROM profiles WHERE ('1'='1",
    "I loved Blorptastic 3",
    "asdfghjkl qwertyuiop",
    "?!?!?!",
    "1234567890",
]


@pytest.mark.parametrize("junk", JUNK, ids=lambda s: repr(s[:20]))
def test_junk_gets_a_friendly_reply_and_the_session_survives(agent, junk):
    agent.respond("s", "a 90s comedy")
    reply = agent.respond("s", junk)
    assert isinstance(reply.text, str) and reply.text.strip()
    assert "Traceback" not in reply.text and "Error" not in reply.text
    assert "internal error" not in " ".join(reply.trace.notes)
    after = agent.respond("s", "something like Toy Story")
    assert after.recommendations
    assert_grounded(agent, after)
    # the earlier constraint survived the junk
    assert all(1990 <= r.item.year <= 1999 for r in after.recommendations)


def test_too_long_message_is_refused_and_loses_nothing(agent):
    agent.respond("s", "a 90s comedy")
    before = agent.session("s")
    reply = agent.respond("s", "I love " * 20_000)
    assert "too long" in reply.text
    after = agent.session("s")
    assert after.turns == before.turns and after.constraints == before.constraints


def test_unknown_title_is_named_in_the_reply(agent):
    reply = agent.respond("s", "I loved Blorptastic 3")
    assert "Blorptastic 3" in reply.text and "couldn't find" in reply.text


def test_html_is_not_executed_or_mangled(agent):
    reply = agent.respond("s", "<script>alert(1)</script>")
    assert "<script>" not in reply.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=300))
def test_any_text_never_raises(agent, text):
    reply = agent.respond("prop", text)
    assert isinstance(reply.text, str) and reply.text
    assert "internal error" not in " ".join(reply.trace.notes), (text, reply.trace.notes)
    for rec in reply.recommendations:
        assert rec.item.id in agent.catalog


def test_after_random_junk_a_valid_request_is_grounded(agent):
    import random

    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz <>'\";%$#@!{}[]()\\/\n\t0123456789éüß漢字🙂"
    for _ in range(15):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200)))
        agent.respond("j", junk)
    reply = agent.respond("j", "movies with Tom Hanks")
    assert reply.recommendations
    assert_grounded(agent, reply)
