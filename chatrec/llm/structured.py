"""Structured output that works without ``json_schema`` support (llama.cpp answers HTTP 500 to
it): forced tool calling, else JSON mode, else a prompt; then a validating parse of whatever came
back (the first JSON object in it), and one repair request. A method the server refuses is
remembered and not tried again."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from chatrec.llm.faults import UNSUPPORTED, classify, describe
from chatrec.llm.jsonparse import extract_json_object
from chatrec.prompts.schemas import schema_outline

if TYPE_CHECKING:
    from chatrec.llm.client import TurnBudget, _Meter

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class UnusableOutput(Exception):
    """The server answered, but nothing valid could be read from the answer."""


def message_text(message: BaseMessage) -> str:
    """The text of a chat message, whatever shape its content has."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(block if isinstance(block, str) else str(block.get("text", ""))
                   for block in content if isinstance(block, (str, dict)))


class StructuredOutput:
    """Asks for an object of a pydantic schema by the first method the server supports.

    Args:
        model: the LangChain chat model (tools are bound on it).
        methods: the order to try ("tools", "json_mode", "prompt").
        request: sends one request within the turn's budget (``LLM._request``).
        min_attempt_s: no repair request with less time than this left in the turn.
    """

    def __init__(self, model: Any, methods: Sequence[str], request: Callable[..., Any], min_attempt_s: float):
        self.model = model
        self.methods = list(methods)
        self.unsupported: set[str] = set()
        self.request = request
        self.min_attempt_s = min_attempt_s

    def __call__(self, lc_messages: list[BaseMessage], schema: type[M], shown_schema: dict[str, Any],
                 kwargs: dict[str, Any], budget: TurnBudget, meter: _Meter, max_chars: int) -> M:
        """The object, or ``UnusableOutput`` when no method gave one."""
        name = _tool_name(schema)
        for method in [m for m in self.methods if m not in self.unsupported]:
            try:
                raw, data = self._ask(method, lc_messages, name, shown_schema, kwargs, budget,
                                      meter, max_chars)
            except Exception as exc:
                if classify(exc) != UNSUPPORTED:
                    raise
                logger.info("llm: structured output via %s unsupported (%s)", method, describe(exc, 120))
                self.unsupported.add(method)
                continue
            meter.method = method
            value, problem = _validate(schema, data)
            if value is not None:
                return value
            return self._repair(lc_messages, raw, problem, schema, name, shown_schema, kwargs,
                                budget, meter, max_chars)
        raise UnusableOutput("the server supports none of the structured-output methods")

    def _repair(self, lc_messages: list[BaseMessage], raw: str, problem: str, schema: type[M],
                name: str, shown_schema: dict[str, Any], kwargs: dict[str, Any],
                budget: TurnBudget, meter: _Meter, max_chars: int) -> M:
        """The one repair request: show the model its answer and what was wrong with it."""
        if budget.remaining_s < self.min_attempt_s:
            raise UnusableOutput(f"{problem} (no time left to repair)")
        repair = [
            *lc_messages,
            AIMessage(content=raw[:1500] or "(nothing)"),
            HumanMessage(content=(
                f"That answer could not be used: {problem}. Reply with only one JSON object "
                f"with these fields:\n{schema_outline(shown_schema)}")),
        ]
        for method in ("json_mode", "prompt"):
            if method not in self.methods or method in self.unsupported:
                continue
            try:
                _, data = self._ask(method, repair, name, shown_schema, kwargs, budget, meter,
                                    max_chars)
            except Exception as exc:
                if classify(exc) != UNSUPPORTED:
                    raise
                self.unsupported.add(method)
                continue
            meter.method += "+repair"
            value, problem = _validate(schema, data)
            if value is not None:
                return value
            break
        raise UnusableOutput(problem)

    def _ask(self, method: str, lc_messages: list[BaseMessage], name: str,
             shown_schema: dict[str, Any], kwargs: dict[str, Any], budget: TurnBudget,
             meter: _Meter, max_chars: int) -> tuple[str, dict[str, Any] | None]:
        """One structured request by ``method``: ``(raw text, parsed object or None)``."""
        if method == "tools":
            tool = {"type": "function", "function": {
                "name": name, "description": "Record the answer.", "parameters": shown_schema}}
            runnable = self.model.bind_tools([tool], tool_choice=name)
            reply = self.request(runnable, lc_messages, kwargs, budget, meter, max_chars)
            if reply.tool_calls:
                args = reply.tool_calls[0].get("args")
                return json.dumps(args), args if isinstance(args, dict) else None
            invalid = getattr(reply, "invalid_tool_calls", None) or []
            raw = str(invalid[0].get("args") or "") if invalid else message_text(reply)
            return raw, extract_json_object(raw)
        if method == "json_mode":
            reply = self.request(self.model, lc_messages,
                                  {**kwargs, "response_format": {"type": "json_object"}},
                                  budget, meter, max_chars)
        else:
            reply = self.request(self.model, lc_messages, kwargs, budget, meter, max_chars)
        raw = message_text(reply)
        return raw, extract_json_object(raw)


def _validate(schema: type[M], data: dict[str, Any] | None) -> tuple[M | None, str]:
    if data is None:
        return None, "no complete JSON object was found"
    try:
        return schema.model_validate(data), ""
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc']) or 'object'}: {err['msg']}"
                    for err in exc.errors()[:3]]
        return None, "; ".join(problems)


def _tool_name(schema: type[BaseModel]) -> str:
    return "record_" + "".join(ch if ch.isalnum() else "_" for ch in schema.__name__).lower()
