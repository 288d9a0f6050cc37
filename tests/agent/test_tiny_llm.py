"""The agent against a real OpenAI-compatible server (llama.cpp) running a tiny, weak model
(SmolLM2-135M): it misnames directors and drifts off format. Every turn must still return
grounded, constraint-respecting recommendations. Prints per-turn calls, tokens and latency."""

from __future__ import annotations

import pytest

from chatrec.agent.llm_bridge import AgentLLM
from chatrec.llm import LLM
from chatrec.testing.checks import assert_grounded
from chatrec.testing.llm_servers import LlamaCppServer, llama_server_missing

pytestmark = [pytest.mark.llm_server, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_server():
    missing = llama_server_missing()
    if missing:
        pytest.skip(missing)
    server = LlamaCppServer().start()
    yield server
    server.stop()


def test_tiny_model_never_breaks_grounding_or_constraints(make_agent, tiny_server):
    from langchain_openai.chat_models.base import BaseChatOpenAI as ChatOpenAI  # sends max_tokens

    model = ChatOpenAI(model="smollm2", base_url=tiny_server.url, api_key="dummy", max_retries=0,
                       timeout=60, stream_usage=True)
    agent = make_agent(llm=AgentLLM(LLM(model, timeout=60, max_retries=0), turn_deadline_s=90))
    script = ["I'd love a 90s comedy", "something like Toy Story", "I could use a good laugh tonight honestly",
              "no animation please"]
    rows = []
    for message in script:
        reply = agent.respond("tiny", message)
        assert reply.recommendations, (message, reply.text)
        assert_grounded(agent, reply)
        for rec in reply.recommendations:
            assert 1990 <= rec.item.year <= 1999 and "comedy" in rec.item.genres, rec.item.display
        assert len(reply.trace.llm_calls) <= 2
        rows.append((message, [(c.purpose, c.ok, c.prompt_tokens, c.completion_tokens, round(c.latency_ms))
                               for c in reply.trace.llm_calls], reply.trace.guard.text_source,
                     bool(reply.trace.guard.llm_rejected)))
    assert all("animation" not in r.item.genres for r in reply.recommendations)
    print("\nper turn (message, calls (purpose, ok, prompt, completion, ms), text used, verifier rejected):")
    for row in rows:
        print("  ", row)
