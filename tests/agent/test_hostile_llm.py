"""The agent against a hostile OpenAI-compatible server: no lie of the adversarial corpus is
ever shown, streamed or not (a streamed reply shows the verified sentences before the lie, never
the lie), and replies that flood or drip past ``max_tokens`` cost a bounded turn that ends on the
template text."""

from __future__ import annotations

import pytest

from chatrec.agent.llm_bridge import AgentLLM
from chatrec.llm import LLM
from chatrec.testing.bounds import finishes
from chatrec.testing.checks import assert_grounded
from chatrec.testing.llm_lies import LIES, SHAPES, HonestTeller, LieTeller, lie_shown
from chatrec.testing.llm_servers import Flood, ScriptedLLMServer

MESSAGE = "something like Toy Story"


def _agent(make_agent, server: ScriptedLLMServer, deadline: float = 8.0):
    llm = LLM(server.chat_model(timeout=5.0), timeout=5.0, max_retries=1)
    return make_agent(llm=AgentLLM(llm, tasks=("phrase",), max_calls=2, turn_deadline_s=deadline))


def _turn(agent, session: str, stream: bool) -> list:
    """Every reply version a user saw in one turn (a stream shows several)."""
    if stream:
        return list(agent.respond_stream(session, MESSAGE))
    return [agent.respond(session, MESSAGE)]


def _tell(make_agent, small_resources, lies, stream: bool) -> list[str]:
    """Tell each lie in its own turn; the names of the lies that were shown."""
    teller = LieTeller(small_resources.catalog, small_resources.kg, lies=list(lies))
    shown = []
    with ScriptedLLMServer(teller) as server:
        agent = _agent(make_agent, server)
        for n, lie in enumerate(lies):
            replies = _turn(agent, f"lie-{n}", stream)
            assert len(teller.served) == n + 1, "every turn asks for phrasing"
            assert_grounded(agent, replies[-1])
            sentence = lie.sentence_in(teller.served[-1][1])
            if lie_shown(sentence, [r.text for r in replies]):
                shown.append(lie.name)
            assert replies[-1].trace.guard is not None and replies[-1].trace.guard.text_source == "template", \
                (lie.name, sentence, replies[-1].text)
    return shown


ONE_PER_SHAPE = [next(lie for lie in LIES if lie.shape == shape) for shape in SHAPES]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_no_lie_is_shown_one_of_each_shape(make_agent, small_resources, stream):
    assert _tell(make_agent, small_resources, ONE_PER_SHAPE, stream) == []


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_no_lie_of_the_corpus_is_shown(make_agent, small_resources, stream):
    assert _tell(make_agent, small_resources, LIES, stream) == []


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("flood", [
    Flood("Heat (1995) is directed by Michael Mann. ", 500_000),
    Flood("and then ", 500_000),
    Flood("Heat (1995) is a great pick. ", 100_000, drip=0.2),   # one sentence every 0.2 s, for hours
], ids=["sentences", "run-on", "drip"])
def test_a_flooding_server_costs_a_bounded_turn(make_agent, stream, flood):
    with ScriptedLLMServer(default=flood) as server:
        agent = _agent(make_agent, server, deadline=3.0)
        replies = finishes(lambda: _turn(agent, "s", stream))
        assert replies[-1].recommendations
        assert_grounded(agent, replies[-1])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_cooperative_servers_phrasing_is_still_shown(make_agent, stream):
    # A closed world that rejected everything would pass every test above: the honest server,
    # phrasing the prompt's facts in the prompt's forms, must be shown in >= 80% of the turns
    # where it phrased.
    messages = ["something like Toy Story", "a 90s comedy please", "something older", "no animation",
                "more like the second one", "movies with Tom Hanks"]
    with ScriptedLLMServer(HonestTeller()) as server:
        agent = _agent(make_agent, server)
        phrased = shown = 0
        for message in messages:
            reply = (list(agent.respond_stream("s", message)) if stream else [agent.respond("s", message)])[-1]
            assert_grounded(agent, reply)
            if any(c.purpose == "phrase" and c.ok for c in reply.trace.llm_calls):
                phrased += 1
                shown += reply.trace.guard is not None and reply.trace.guard.text_source == "llm"
        assert phrased >= 4 and shown >= 0.8 * phrased, (shown, phrased)
