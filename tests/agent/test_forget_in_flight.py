"""Forget while a turn of the forgotten user is still running: the turn answers, but nothing of
it is stored — neither the session it was loading when the user was forgotten (held before its
save, in the LLM's reranking) nor the wording it keeps after it (held in the LLM's phrasing).
Before forget refused such writes, the turn wrote the old session back."""

from __future__ import annotations

import threading

import pytest

from chatrec.agent.llm_bridge import AgentLLM
from chatrec.llm import LLM
from chatrec.store import Store
from chatrec.testing.llm_personas import cooperative
from chatrec.testing.llm_servers import ScriptedLLMServer

USER = "web:quillon"
SECRET = "my neighbour Quillon loves comedies from the 90s"


def _task(seen) -> str:
    tools = seen.body.get("tools") or []
    if tools:
        return "rerank" if "rerank" in tools[0]["function"]["name"] else "understand"
    return "phrase" if "facts:" in seen.prompt_text else "other"


@pytest.mark.parametrize("held", ["rerank", "phrase"])
def test_a_turn_in_flight_when_its_user_is_forgotten_stores_nothing(make_agent, tmp_path, held):
    armed, arrived, release = threading.Event(), threading.Event(), threading.Event()

    def script(seen):
        if armed.is_set() and _task(seen) == held and not arrived.is_set():
            arrived.set()
            assert release.wait(60)
        return cooperative(seen)

    with ScriptedLLMServer(script) as server:
        llm = LLM(server.chat_model(timeout=90.0), timeout=90.0, max_retries=0)
        agent = make_agent(llm=AgentLLM(llm, max_calls=2, turn_deadline_s=90.0))
        agent.respond("web-quillon", "something like Toy Story", user_id=USER)
        armed.set()
        replies = []
        turn = threading.Thread(target=lambda: replies.append(
            agent.respond("web-quillon", SECRET, user_id=USER)))
        turn.start()
        try:
            assert arrived.wait(120), f"the turn never asked the LLM to {held}"
            agent.forget(USER)
        finally:
            release.set()
            turn.join(120)
        assert replies and replies[0].recommendations        # the turn still answered

    with Store(tmp_path / "store.sqlite3") as store:
        assert store.load_session("web-quillon") is None
        assert store.export(USER)["sessions"] == []
    stored = [p.name for p in tmp_path.rglob("*") if p.is_file() and b"Quillon" in p.read_bytes()]
    assert stored == []
