"""``LLM`` over chat models that are not OpenAI-compatible, and across threads."""

from __future__ import annotations

import threading
import time
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from chatrec.llm.client import LLM
from chatrec.prompts.schemas import LLMReading
from chatrec.testing.llm_servers import Respond


class SlowChatModel(BaseChatModel):
    """A LangChain chat model that takes ``delay`` seconds to say ``text`` (a real model class,
    just a slow one: no protocol is imitated)."""

    delay: float = 5.0
    text: str = "late"

    @property
    def _llm_type(self) -> str:
        return "slow-test-model"

    def _generate(self, messages: list[Any], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        time.sleep(self.delay)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.text))])


def test_any_langchain_chat_model_gets_structured_output_via_the_prompt():
    model = FakeListChatModel(responses=['Here: {"intent": "greeting"} bye'])
    llm = LLM(model)
    reading, call = llm.structured([("user", "hello")], LLMReading, "understand")
    assert reading is not None and reading.intent == "greeting"
    assert call.ok
    assert call.prompt_tokens > 0 and call.completion_tokens > 0   # estimated: no usage reported


def test_deadline_holds_for_a_model_without_http_timeouts():
    llm = LLM(SlowChatModel(delay=5.0), timeout=10.0, max_retries=2)
    started = time.monotonic()
    with llm.turn(deadline_s=0.5) as turn:
        text, call = llm.complete([("user", "hi")], "phrase")
    assert text is None and "DeadlineExceeded" in call.error
    assert time.monotonic() - started < 1.0
    assert turn.failure


def test_turns_in_different_threads_are_separate(scripted):
    server = scripted(default=Respond("fine"))
    llm = LLM(server.chat_model())
    results: dict[str, int] = {}

    def session(name: str, calls: int) -> None:
        with llm.turn(deadline_s=5) as turn:
            for _ in range(calls):
                llm.complete([("user", name)], "phrase")
        results[name] = len(turn.calls)

    threads = [threading.Thread(target=session, args=(f"s{i}", i + 1)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"s0": 1, "s1": 2, "s2": 3, "s3": 4}
    assert llm.stats["calls"] == 10 and llm.stats["ok"] == 10


def test_calls_outside_a_turn_get_their_own_deadline(scripted):
    server = scripted(default=Respond("fine"))
    llm = LLM(server.chat_model(), timeout=1.0, max_retries=0)
    text, call = llm.complete([("user", "hi")], "summarize")
    assert text == "fine" and call.ok
