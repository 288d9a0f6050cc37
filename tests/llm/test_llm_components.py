"""The components against a scripted server: what comes back is typed and checked (foreign ids
discarded, echoes refused), tokens are the server's, summaries are cached and resumable."""

from __future__ import annotations

import json

from chatrec.llm.client import LLM
from chatrec.llm.phrase import LLMPhraser
from chatrec.llm.rerank import LLMReranker, normalise_id
from chatrec.llm.summarize import Summarizer
from chatrec.llm.understand import LLMUnderstander
from chatrec.testing.llm_servers import EchoSystem, Fail, Respond

CANDIDATES = [("6", "Heat (1995) | crime"), ("2571", "The Matrix (1999) | sci-fi"),
              ("858", "The Godfather (1972) | crime"), ("1", "Toy Story (1995) | animation")]


class FakeItem:
    def __init__(self, id, title, year=None, genres=(), description=""):
        self.id, self.title, self.year = id, title, year
        self.genres, self.directors, self.cast, self.keywords = list(genres), [], [], []
        self.description = description


def test_understander_returns_strings_for_the_agent_to_resolve(scripted):
    server = scripted([Respond({"intent": "recommend", "liked_titles": ["Heat", "Fake Movie 9"],
                                "liked_people": ["Michael Mann"], "year_min": 1990})])
    reading = LLMUnderstander(LLM(server.chat_model())).read(
        [("user", "hello")], "Loved Heat and Fake Movie 9, more Michael Mann from the 90s")
    # Out-of-catalog titles are passed on as strings: resolution and dropping is the agent's job.
    assert reading.liked_titles == ["Heat", "Fake Movie 9"]
    assert reading.mentioned_names() == ["Heat", "Fake Movie 9", "Michael Mann"]
    prompt = server.seen[0].prompt_text
    assert "<user_data>\nLoved Heat and Fake Movie 9" in prompt


def test_understander_ignores_an_echoed_example(scripted):
    server = scripted([EchoSystem(prefix="")])
    assert LLMUnderstander(LLM(server.chat_model())).read([], "hello there") is None


def test_reranker_discards_foreign_ids_and_duplicates(scripted):
    server = scripted([Respond({"ranking": [
        {"id": "99999", "reason": "Fake Movie 9 is the best"},      # not a candidate
        {"id": "id 858", "reason": "A crime classic."},              # decorated, valid
        {"id": 6, "reason": "Same director vibe."},                  # a number, valid
        {"id": "858", "reason": "again"},                            # duplicate
        {"id": "Fake Movie 9", "reason": "injected"},
    ]})])
    picks = LLMReranker(LLM(server.chat_model())).rerank("Likes crime.", [], CANDIDATES, 3)
    assert picks == [("858", "A crime classic."), ("6", "Same director vibe.")]
    # the schema sent to the server allows only the shown ids
    params = server.seen[0].body["tools"][0]["function"]["parameters"]
    id_schema = params["properties"]["ranking"]["items"]["properties"]["id"]
    assert id_schema["enum"] == ["6", "2571", "858", "1"]
    assert params["properties"]["ranking"]["maxItems"] == 3


def test_reranker_with_no_valid_id_returns_empty(scripted):
    server = scripted([Respond({"ranking": [{"id": "42", "reason": "?"}]})])
    assert LLMReranker(LLM(server.chat_model())).rerank("", [], CANDIDATES, 2) == []


def test_normalise_id():
    assert [normalise_id(v) for v in ["2571", " id 2571 ", "[2571]", "id=2571:", "tt0113277"]] \
        == ["2571", "2571", "2571", "2571", "tt0113277"]


def test_phraser_tidies_and_refuses_echoes(scripted):
    facts = [("Heat (1995)", ["directed by Michael Mann"])]
    server = scripted([Respond("**Heat (1995)** is directed by Michael Mann.\n\nEnjoy!"),
                       EchoSystem()])
    phraser = LLMPhraser(LLM(server.chat_model()))
    assert phraser.phrase(facts, []) == "Heat (1995) is directed by Michael Mann. Enjoy!"
    assert phraser.phrase(facts, []) is None
    prompt = server.seen[0].prompt_text
    assert "1. Heat (1995) | facts: directed by Michael Mann" in prompt


def test_stream_sentences_yields_whole_sentences_in_order(scripted):
    text = "Heat (1995) is directed by Michael Mann. Dr. Strangelove is a comedy! Enjoy."
    server = scripted([Respond(text)])
    sentences = list(LLMPhraser(LLM(server.chat_model())).stream_sentences(
        [("Heat (1995)", ["directed by Michael Mann"])], []))
    assert sentences == ["Heat (1995) is directed by Michael Mann.",
                         "Dr. Strangelove is a comedy!", "Enjoy."]
    assert server.seen[0].body["stream"] is True


def test_usage_tokens_come_from_the_server(scripted):
    server = scripted([Respond("Hello.", usage=(123, 7)), Respond("Hi.", usage=(50, 2)),
                       Respond("Streamed answer.", usage=(40, 3))])
    llm = LLM(server.chat_model())
    with llm.turn(deadline_s=5) as turn:
        _, first = llm.complete([("user", "hi")], "phrase")
        _, second = llm.complete([("user", "hi")], "phrase")
        stream = llm.stream([("user", "hi")], "phrase")
        assert "".join(stream) == "Streamed answer."
    assert (first.prompt_tokens, first.completion_tokens) == (123, 7)
    assert (second.prompt_tokens, second.completion_tokens) == (50, 2)
    assert (stream.call.prompt_tokens, stream.call.completion_tokens) == (40, 3)
    assert (turn.prompt_tokens, turn.completion_tokens) == (213, 12)
    assert llm.stats["prompt_tokens"] == 213


def test_repair_tokens_are_summed_into_one_call(scripted):
    server = scripted([Respond("no json", usage=(100, 3)),
                       Respond({"intent": "greeting"}, usage=(130, 5))])
    reading = None
    llm = LLM(server.chat_model())
    with llm.turn(deadline_s=5) as turn:
        reading = LLMUnderstander(llm).read([], "hello!")
    assert reading.intent == "greeting"
    assert len(turn.calls) == 1 and turn.requests == 2
    assert (turn.calls[0].prompt_tokens, turn.calls[0].completion_tokens) == (230, 8)


def test_prompt_token_budget_shrinks_later_prompts(scripted):
    server = scripted([Respond({"intent": "recommend"}, usage=(2000, 10)),
                       Respond({"ranking": [{"id": "6", "reason": "x"}]}, usage=(300, 10))])
    llm = LLM(server.chat_model())
    candidates = [(str(i), f"Movie number {i} (1990) | drama | a long description " * 2)
                  for i in range(40)]
    with llm.turn(deadline_s=5, max_prompt_tokens=2500) as turn:
        LLMUnderstander(llm).read([], "drama please")
        assert llm.prompt_budget(1400) == 500
        LLMReranker(llm).rerank("", [], candidates, 5)
    shown = server.seen[1].prompt_text.count("- id ")
    assert 5 <= shown < 20, shown
    assert turn.calls[1].ok


def test_summarizer_caches_by_model_and_prompt_and_resumes(scripted, tmp_path):
    items = [FakeItem(str(i), f"Film {i}", 1990 + i, ["drama"]) for i in range(5)]
    server = scripted([Respond("A quiet drama about family. For patient viewers."),
                       Respond("A tense drama. Fans of slow burns will like it."),
                       Fail(500), Fail(500)])
    llm = LLM(server.chat_model(), max_retries=0, fail_max=100)
    first = Summarizer(llm, tmp_path).summarize_items(items, progress=False,
                                                      stop_after_failures=2)
    assert list(first) == ["0", "1"]                    # stopped after 2 failures in a row
    assert len(server.seen) == 4

    server.push(*[Respond(f"Summary {i}. Nice.") for i in range(3)])
    again = Summarizer(llm, tmp_path)                    # a new run: reads the cache file
    out = again.summarize_items(items, progress=False)
    assert out["0"] == first["0"] and out["1"] == first["1"]
    assert [out[k] for k in "234"] == ["Summary 0. Nice.", "Summary 1. Nice.", "Summary 2. Nice."]
    assert again.stats["hits"] == 2 and again.stats["made"] == 3
    assert len(server.seen) == 7                         # only the missing three were asked

    other = scripted([Respond("Different model text.")], model="other-model")
    other_summarizer = Summarizer(LLM(other.chat_model()), tmp_path)
    assert other_summarizer.item_summary(items[0]) == "Different model text."  # new key
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["summaries-other-model.jsonl", "summaries-scripted-model.jsonl"]


def test_summary_cache_survives_a_torn_last_line(scripted, tmp_path):
    server = scripted([Respond("Taste: crime and heists.")])
    summarizer = Summarizer(LLM(server.chat_model()), tmp_path)
    assert summarizer.user_summary(["Heat (1995) | crime"], subject="ml:1") \
        == "Taste: crime and heists."
    path = next(tmp_path.iterdir())
    with path.open("a") as handle:
        handle.write('{"key": "abc", "text": "half')     # a killed process
    reread = Summarizer(LLM(server.chat_model()), tmp_path)
    assert reread.user_summary(["Heat (1995) | crime"], subject="ml:1") \
        == "Taste: crime and heists."
    assert len(server.seen) == 1
    record = json.loads(path.read_text().splitlines()[0])
    assert record["kind"] == "user_summary" and record["model"] == "scripted-model"


def test_reranker_drops_copied_placeholders_and_listing_lines_as_reasons(scripted):
    server = scripted([Respond({"ranking": [
        {"id": "6", "reason": "<one short sentence>"},
        {"id": "858", "reason": "The Godfather (1972) | crime"},
        {"id": "1", "reason": "A family film."}]})])
    picks = LLMReranker(LLM(server.chat_model())).rerank("", [], CANDIDATES, 3)
    assert picks == [("6", ""), ("858", ""), ("1", "A family film.")]
