"""Bounded work per LLM reply: a server that ignores ``max_tokens`` gets its reply cut off —
in bytes before anything is parsed, and in tokens (characters) before any splitting or
validation — and a flood is not read to its end, streamed or not."""

from __future__ import annotations

import time

from chatrec.llm.client import LLM
from chatrec.llm.phrase import LLMPhraser
from chatrec.prompts.schemas import LLMReading
from chatrec.testing.bounds import finishes
from chatrec.testing.llm_servers import Flood, Respond

FACTS = [("Heat (1995)", ["directed by Michael Mann"])]
SENTENCES = "Heat (1995) is directed by Michael Mann. "


def test_a_reply_past_max_tokens_is_refused_before_it_is_parsed(scripted):
    server = scripted([Flood(SENTENCES, 500_000)])
    text, call = LLM(server.chat_model(), max_retries=0).complete("hi", "phrase", max_tokens=100)
    assert text is None
    assert not call.ok and "max_tokens" in (call.error or "")


def test_a_streamed_reply_past_max_tokens_is_not_read_to_its_end(scripted):
    server = scripted([Flood(SENTENCES, 2_000_000)])
    stream = LLM(server.chat_model(), max_retries=0).stream("hi", "phrase", max_tokens=100)
    received = finishes(lambda: "".join(stream))
    assert len(received) <= 100 * 8
    assert stream.call is not None and not stream.call.ok and "max_tokens" in (stream.call.error or "")


def test_a_body_past_the_byte_cap_is_not_read(scripted):
    # 20 MB in one JSON body: more than loopback socket buffers hold, so the server notices
    # when the client stops reading; one request (no retry of a flood).
    server = scripted([Flood("x" * 1000, 20_000_000)], default=Respond("should not be asked"))
    text, call = LLM(server.chat_model(), max_retries=1).complete("hi", "phrase", max_tokens=100)
    assert text is None and "bytes" in (call.error or "")
    assert len(server.seen) == 1
    waited = time.monotonic() + 5   # the server notices the hang-up when its next write fails
    while server.hangups == 0 and time.monotonic() < waited:
        time.sleep(0.05)
    assert server.hangups == 1


def test_structured_output_past_max_tokens_is_not_validated(scripted):
    # 60,000 liked titles in a forced tool call: validating them de-duplicated each against all
    # the others (quadratic); the reply is refused on its size instead.
    titles = [f"Film number {i}" for i in range(60_000)]
    server = scripted([Respond({"intent": "recommend", "liked_titles": titles})])
    reading, call = finishes(lambda: LLM(server.chat_model(), max_retries=0).structured(
        "hi", LLMReading, "understand", max_tokens=300))
    assert reading is None and "max_tokens" in (call.error or "")


def test_the_phraser_stops_a_run_on_stream(scripted):
    # No sentence ever ends: the stream is dropped once a "sentence" outgrows any real one.
    server = scripted([Flood("and then ", 3_000_000)])
    phraser = LLMPhraser(LLM(server.chat_model(), max_retries=0))
    sentences = finishes(lambda: list(phraser.stream_sentences(FACTS, [])))
    assert sentences == []


def test_the_phraser_gives_up_on_a_flooding_reply(scripted):
    server = scripted([Flood(SENTENCES, 500_000), Flood(SENTENCES, 500_000)])
    phraser = LLMPhraser(LLM(server.chat_model(), max_retries=0))
    assert finishes(lambda: phraser.phrase(FACTS, [])) is None
    streamed = finishes(lambda: list(phraser.stream_sentences(FACTS, [])))
    assert sum(len(s) + 1 for s in streamed) <= phraser.max_chars


def test_a_cooperative_reply_within_max_tokens_is_used(scripted):
    server = scripted([Respond(SENTENCES.strip()), Respond(SENTENCES.strip())])
    llm = LLM(server.chat_model(), max_retries=0)
    assert llm.complete("hi", "phrase", max_tokens=100)[0] == SENTENCES.strip()
    stream = llm.stream("hi", "phrase", max_tokens=100)
    assert "".join(stream) == SENTENCES.strip() and stream.call is not None and stream.call.ok
