"""The page with an LLM configured (a scripted OpenAI-compatible server on loopback): the header
names the model, the reply streams in versions, the trace lists the LLM calls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatrec.agent.llm_bridge import AgentLLM
from chatrec.bench.serve import free_port
from chatrec.llm import LLM
from chatrec.testing.llm_servers import Respond, ScriptedLLMServer
from ui.identity import Caller
from ui.loader import AgentLoader
from ui.service import ChatService
from ui.sessions import new_session_id
from ui.views import trace_html

FACT_LINE = re.compile(r"^\d+\. (?P<title>.+?) \((?P<year>\d{4})\) \|", re.M)
ID_LINE = re.compile(r"^- id (\S+):", re.M)


def helpful(seen):
    """Keeps the fused order, reads every message as a request, praises each film by title."""
    tools = seen.body.get("tools") or []
    tool = tools[0]["function"]["name"] if tools else ""
    if "rerank" in tool:
        return Respond({"ranking": [{"id": i, "reason": "fits"} for i in ID_LINE.findall(seen.prompt_text)[:5]]})
    if "reading" in tool:
        return Respond({"intent": "recommend", "liked_titles": []})
    return Respond(" ".join(f"**{m['title']}** ({m['year']}) is worth a look."
                            for m in FACT_LINE.finditer(seen.prompt_text)) or "Here you go.")


@pytest.fixture(scope="module")
def llm_service(small_resources, tmp_path_factory):
    from chatrec.agent import Agent
    from chatrec.store import Store

    with ScriptedLLMServer(helpful) as server:
        bridge = AgentLLM(LLM(server.chat_model(), timeout=5.0, max_retries=0), max_calls=2,
                          turn_deadline_s=8.0)
        store = Store(tmp_path_factory.mktemp("ui-llm") / "store.sqlite3")
        yield ChatService(AgentLoader.ready_made(Agent(small_resources, store=store, llm=bridge)))
        store.close()


def test_reply_streams_in_versions_and_trace_lists_llm_calls(llm_service):
    label, on = llm_service.llm_label()
    assert on and label.startswith("LLM: ")
    versions = list(llm_service.chat(new_session_id(), "something like Toy Story", None, Caller(None, "127.0.0.1")))
    assert len(versions) >= 2 and versions[0].recommendations
    final = versions[-1]
    assert final.trace.guard.text_source == "llm" and "worth a look" in final.text
    assert final.trace.llm_calls and "LLM call" in trace_html(final.trace, label)


@pytest.mark.browser
@pytest.mark.slow
def test_page_names_the_model_and_shows_the_phrased_reply(llm_service, browser):
    from ui.app import build_app, launch

    demo = build_app(llm_service)
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        assert page.locator("#header .pill.on").inner_text().startswith("LLM: ")
        page.wait_for_function("sessionStorage.getItem('chatrec.sid') !== null")
        page.fill("#msg textarea", "something like Toy Story")
        page.click("#send")
        page.wait_for_function("document.querySelector('#chat').innerText.includes('worth a look')",
                               timeout=30_000)
        page.wait_for_selector("#cards article.card")
        page.locator("#trace-acc").get_by_text("Trace of the last turn").click()
        expect(page.locator("#trace")).to_contain_text("rerank")
    finally:
        page.close()
        demo.close()
