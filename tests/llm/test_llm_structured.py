"""Structured output against servers with and without tool calling / JSON mode: every path
ends in a validated object, and ``json_schema`` (which llama.cpp rejects) is never sent."""

from __future__ import annotations

from chatrec.llm.client import LLM
from chatrec.prompts.schemas import LLMReading
from chatrec.testing.llm_servers import Prose, Respond, Truncated

READING = {"intent": "recommend", "liked_titles": ["Inception"], "year_min": 1990,
           "year_max": 1999, "excluded_genres": ["horror"]}
ASK = [("system", "Read the message."), ("user", "I loved Inception, 90s please, no horror")]


def _check(reading):
    assert reading is not None
    assert reading.intent == "recommend"
    assert reading.liked_titles == ["Inception"]
    assert (reading.year_min, reading.year_max) == (1990, 1999)
    assert reading.excluded_genres == ["horror"]


def test_forced_tool_call_path(scripted):
    server = scripted([Respond(READING)])
    reading, call = LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    _check(reading)
    assert call.ok and call.error is None
    assert [s.mode for s in server.seen] == ["tools"]
    tool_choice = server.seen[0].body["tool_choice"]
    assert tool_choice["function"]["name"] == server.seen[0].body["tools"][0]["function"]["name"]
    # the schema sent is bounded: every array has maxItems
    params = server.seen[0].body["tools"][0]["function"]["parameters"]
    arrays = [p for p in params["properties"].values() if p.get("type") == "array"]
    assert arrays and all("maxItems" in p for p in arrays)


def test_json_mode_path_when_tools_are_unsupported(scripted):
    server = scripted([Respond(READING), Respond(READING)], supports_tools=False)
    llm = LLM(server.chat_model())
    reading, call = llm.structured(ASK, LLMReading, "understand")
    _check(reading)
    assert call.ok
    assert [s.mode for s in server.seen] == ["tools", "json_object"]
    # the rejection is remembered: the next call goes straight to JSON mode
    reading, _ = llm.structured(ASK, LLMReading, "understand")
    _check(reading)
    assert [s.mode for s in server.seen] == ["tools", "json_object", "json_object"]


def test_prompt_path_reads_json_amid_prose(scripted):
    server = scripted([Prose('Sure! Here it is:\n```json\n{"intent": "recommend", '
                             '"liked_titles": ["Inception"], "year_min": "the 90s", '
                             '"year_max": 1999, "excluded_genres": "horror",}\n```\nEnjoy!')],
                      supports_tools=False, supports_json_mode=False)
    reading, call = LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    _check(reading)
    assert call.ok
    assert [s.mode for s in server.seen] == ["tools", "json_object", "text"]


def test_prose_then_one_repair_succeeds(scripted):
    server = scripted([Prose("I think they want a recommendation."), Respond(READING)])
    reading, call = LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    _check(reading)
    assert call.ok
    assert [s.mode for s in server.seen] == ["tools", "json_object"]
    repair = server.seen[1].messages
    assert repair[-2]["role"] == "assistant" and "recommendation" in repair[-2]["content"]
    assert "could not be used" in repair[-1]["content"]


def test_truncated_then_repair_succeeds(scripted):
    server = scripted([Truncated(READING), Respond(READING)])
    reading, call = LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    _check(reading)
    assert len(server.seen) == 2


def test_invalid_values_then_repair_gives_up_after_one_retry(scripted):
    bad = {"intent": "launch the rockets", "liked_titles": ["Inception"]}
    server = scripted([Respond(bad), Respond(bad)])
    reading, call = LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    assert reading is None
    assert not call.ok and call.error.startswith("unusable output") and "intent" in call.error
    assert len(server.seen) == 2          # one attempt, ONE repair, then give up


def test_json_schema_is_never_requested(scripted):
    server = scripted([Respond(READING)], supports_tools=False)
    LLM(server.chat_model()).structured(ASK, LLMReading, "understand")
    assert "json_schema" not in [s.mode for s in server.seen]


def test_lenient_validation_keeps_near_misses():
    reading = LLMReading.model_validate({
        "intent": "Recommendation", "liked_titles": "Heat", "genres": ["a", "b", "c", "d", "e",
                                                                       "f", "g"],
        "refinements": ["Older", "spicier"], "item_question": "budget", "year_max": "2005",
        "query_text": "x" * 500, "unexpected": 1})
    assert reading.intent == "recommend"
    assert reading.liked_titles == ["Heat"]
    assert len(reading.genres) == 5
    assert reading.refinements == ["older"]
    assert reading.item_question == "general"
    assert reading.year_max == 2005
    assert len(reading.query_text) == 200
