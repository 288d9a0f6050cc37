"""``LLM``: one fault-tolerant wrapper over any LangChain chat model.

What it adds to a bare chat model, and why:

- **Deadlines.** A turn has a time budget (``with llm.turn(deadline_s=...)``); every request
  gets what is left of it, both as the HTTP timeout (OpenAI-compatible models) and as a hard
  wait limit (any model), so a hung server can never hold a turn past its deadline.
- **Retries** with exponential backoff (tenacity) for transient failures, honouring a 429's
  ``Retry-After`` when the wait fits in the deadline and giving up at once when it does not.
- **A circuit breaker** (pybreaker) across turns, and a per-turn failure latch: once the server
  failed in a turn, the turn's other calls are skipped, and after ``fail_max`` failed calls the
  breaker opens, so a dead server costs one fast failure per turn, not a timeout per call.
- **Structured output that works without ``json_schema`` support** (llama.cpp answers HTTP 500
  to it): forced tool calling, else JSON mode, else a prompt, then a validating parse of
  whatever came back (the first JSON object in it), one repair request, then None.
- **Bounded replies.** A server that ignores ``max_tokens`` cannot make a turn read, parse or
  split megabytes: the HTTP client stops at ``transport.MAX_REPLY_BYTES`` (``make_chat_model``
  installs it), and a reply longer than ``max_tokens`` allows (``MAX_CHARS_PER_TOKEN``) is
  unusable before any JSON is looked for in it; a stream is dropped the moment it passes that.
- **Accounting.** Every logical call yields a ``chatrec.tracing.LLMCall`` (purpose, ok,
  latency, tokens from the server's reported usage, error); a turn collects them for the trace.

Nothing here raises into a turn: failures come back as ``None`` with an ``LLMCall`` saying why.
"""

from __future__ import annotations

import contextvars
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pybreaker
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
)
from pydantic import BaseModel
from tenacity import Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from chatrec.config import Settings, get_settings
from chatrec.llm.faults import (
    TRANSIENT,
    UNSUPPORTED,
    DeadlineExceeded,
    SkippedCall,
    classify,
    describe,
    retry_after,
)
from chatrec.llm.structured import StructuredOutput, UnusableOutput, message_text
from chatrec.prompts.base import Prompt, TokenEstimator
from chatrec.prompts.schemas import inline_schema
from chatrec.tracing import LLMCall

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MIN_ATTEMPT_S = 0.2          # no point starting a request with less time than this left
MIN_PROMPT_TOKENS = 150      # a turn with fewer prompt tokens left makes no further calls
# A token is about 4 characters of English; twice that is more than any server that honours
# max_tokens sends, and far less than one that ignores it.
MAX_CHARS_PER_TOKEN = 8
MAX_TOKENS_DEFAULT = 2000    # the cap of a call that sets no max_tokens
STRUCTURED_METHODS = ("tools", "json_mode", "prompt")

_TURN: contextvars.ContextVar[TurnBudget | None] = contextvars.ContextVar("chatrec_llm_turn",
                                                                           default=None)


def current_turn() -> TurnBudget | None:
    """The budget of the turn in progress (inside ``LLM.turn()``), or None."""
    return _TURN.get()


@dataclass
class TurnBudget:
    """The LLM budget of one turn, and what was spent of it.

    Attributes:
        deadline: ``time.monotonic()`` value after which no request is started or awaited.
        max_calls: logical calls allowed (None: no limit).
        max_prompt_tokens: prompt tokens allowed, as reported by the server (None: no limit).
        calls: one ``LLMCall`` per logical call, in order (skipped ones included).
        requests: HTTP requests made (retries and repairs included).
        prompt_tokens, completion_tokens: the server's reported usage, summed.
        failure: set when the server failed in this turn; later calls are skipped.
    """

    deadline: float
    max_calls: int | None = None
    max_prompt_tokens: int | None = None
    calls: list[LLMCall] = field(default_factory=list)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failure: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def remaining_prompt_tokens(self) -> int | None:
        if self.max_prompt_tokens is None:
            return None
        return self.max_prompt_tokens - self.prompt_tokens

    @property
    def latency_ms(self) -> float:
        return sum(c.latency_ms for c in self.calls)

    def skip_reason(self) -> str | None:
        """Why the next call should not be made, or None."""
        if self.failure:
            return "the LLM failed earlier in this turn"
        if self.remaining_s < MIN_ATTEMPT_S:
            return "the turn's LLM deadline has passed"
        if self.max_calls is not None and len(self.calls) >= self.max_calls:
            return f"the turn's budget of {self.max_calls} LLM calls is spent"
        remaining = self.remaining_prompt_tokens
        if remaining is not None and remaining < MIN_PROMPT_TOKENS:
            return "the turn's prompt-token budget is spent"
        return None

    def record(self, call: LLMCall, requests: int) -> None:
        with self._lock:
            self.calls.append(call)
            self.requests += requests
            self.prompt_tokens += call.prompt_tokens
            self.completion_tokens += call.completion_tokens


@dataclass
class _Meter:
    """Usage of one logical call (possibly several requests)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    method: str = ""
    estimated: bool = False

    def add_usage(self, message: BaseMessage) -> bool:
        """Add the server's reported usage; False if the message carries none."""
        usage = getattr(message, "usage_metadata", None) or {}
        prompt = usage.get("input_tokens")
        completion = usage.get("output_tokens")
        if prompt is None:   # back-ends that only fill response_metadata
            raw = (getattr(message, "response_metadata", None) or {}).get("token_usage") or {}
            prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
        if prompt is None and completion is None:
            return False
        self.prompt_tokens += int(prompt or 0)
        self.completion_tokens += int(completion or 0)
        return True

    def add_estimate(self, lc_messages: list[BaseMessage], completion_tokens: int,
                     estimator: TokenEstimator) -> None:
        """For servers that report no usage (llama.cpp streams): prompt tokens from the
        calibrated estimator, completion tokens as counted by the caller."""
        self.prompt_tokens += sum(estimator.estimate(message_text(m)) + estimator.per_message
                                  for m in lc_messages)
        self.completion_tokens += completion_tokens
        self.estimated = True


def max_reply_chars(max_tokens: int | None) -> int:
    """The longest reply (characters) a call asking for ``max_tokens`` accepts."""
    return (max_tokens or MAX_TOKENS_DEFAULT) * MAX_CHARS_PER_TOKEN


def _reply_size(message: BaseMessage) -> int:
    """Characters of text plus the raw arguments of any tool calls."""
    calls = (getattr(message, "additional_kwargs", None) or {}).get("tool_calls") or []
    raw = sum(len(str((call.get("function") or {}).get("arguments") or "")) for call in calls
              if isinstance(call, dict))
    return len(message_text(message)) + raw


def to_messages(messages: Prompt | Sequence[Any]) -> list[BaseMessage]:
    """LangChain messages from a ``Prompt``, LangChain messages, ``(role, text)`` pairs or
    ``{"role", "content"}`` dicts."""
    if isinstance(messages, Prompt):
        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [kinds[m.role](content=m.content) for m in messages.messages]
    return convert_to_messages(list(messages))


def _run_with_deadline(fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` in a daemon thread and wait at most ``timeout`` seconds for it.

    A daemon thread (not a pool) so that a request stuck in a server that never answers cannot
    keep the process from exiting; the HTTP client's own timeout ends it soon after anyway.
    """
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def target() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(context.run(fn))
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            future.set_exception(exc)

    threading.Thread(target=target, name="chatrec-llm-request", daemon=True).start()
    try:
        return future.result(timeout=max(0.0, timeout))
    except TimeoutError:
        if future.done():
            raise   # the request itself raised a TimeoutError: let it be classified
        raise DeadlineExceeded(f"no answer within {timeout:.1f} s") from None


class _StopWhenOutOfTime(stop_base):
    """tenacity stop condition: the next attempt (after its wait) would start too late, or the
    server asked for a wait longer than we are willing to make."""

    def __init__(self, budget: TurnBudget, max_retry_after: float):
        self.budget = budget
        self.max_retry_after = max_retry_after

    def __call__(self, retry_state: Any) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = retry_after(exc) if exc is not None else None
        if hinted is not None and hinted > self.max_retry_after:
            return True
        return time.monotonic() + retry_state.upcoming_sleep + MIN_ATTEMPT_S > self.budget.deadline


class LLM:
    """Any LangChain chat model, with deadlines, retries, a circuit breaker, structured output
    and accounting.

    Args:
        model: the chat model (e.g. from ``make_chat_model``, or any ``BaseChatModel``).
        timeout: longest single request, seconds (also capped by the turn's deadline).
        max_retries: extra attempts after a transient failure (each within the deadline).
        call_deadline: the deadline of a call made outside ``turn()`` (default: long enough
            for every attempt at ``timeout``).
        fail_max: failed calls in a row that open the circuit breaker.
        reset_timeout: seconds the breaker stays open before letting one trial call through.
        max_retry_after: the longest ``Retry-After`` we wait for; longer means give up now.
        breaker: a breaker to share between several ``LLM`` objects on the same server.
        structured_methods: the order to try structured output in (default: tools, json_mode,
            prompt; json_mode only for OpenAI-compatible models).

    Attributes:
        model_id: the model's name ("gpt-4o-mini", "smollm2"), part of cache keys.
        estimator: chars-per-token estimate, calibrated from the server's usage.
        breaker: the ``pybreaker.CircuitBreaker``.
        stats: running totals (calls, ok, failed, skipped, requests, tokens).
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        timeout: float = 20.0,
        max_retries: int = 1,
        call_deadline: float | None = None,
        fail_max: int = 3,
        reset_timeout: float = 30.0,
        max_retry_after: float = 10.0,
        breaker: pybreaker.CircuitBreaker | None = None,
        structured_methods: Sequence[str] | None = None,
    ):
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.call_deadline = call_deadline or timeout * (max_retries + 1) + 2.0
        self.max_retry_after = max_retry_after
        self.breaker = breaker or pybreaker.CircuitBreaker(
            fail_max=fail_max, reset_timeout=reset_timeout, name=f"llm:{self.model_id}",
            # A quick "no" (unsupported request) means the server is up: not a breaker failure.
            exclude=[lambda exc: classify(exc) == UNSUPPORTED],
        )
        self.estimator = TokenEstimator()
        self._openai = _is_openai_compatible(model)
        methods = list(structured_methods or STRUCTURED_METHODS)
        if not self._openai:
            methods = [m for m in methods if m != "json_mode"]   # no portable response_format
        self._structured = StructuredOutput(model, methods, self._request, MIN_ATTEMPT_S)
        self._stats_lock = threading.Lock()
        self.stats = {"calls": 0, "ok": 0, "failed": 0, "skipped": 0, "requests": 0,
                      "prompt_tokens": 0, "completion_tokens": 0}

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> LLM | None:
        """The LLM configured by ``CHATREC_LLM`` (None when it is unset/none).

        The openai client's own retries are turned off (``max_retries=0``): this class retries
        itself, within the turn's deadline, ``CHATREC_LLM_MAX_RETRIES`` times.

        Raises:
            ConfigError: the LLM settings are invalid.
        """
        from chatrec.llm.factory import make_chat_model

        settings = settings or get_settings()
        model = make_chat_model(settings, max_retries=0)
        if model is None:
            return None
        kwargs.setdefault("timeout", settings.llm_timeout)
        kwargs.setdefault("max_retries", settings.llm_max_retries)
        return cls(model, **kwargs)

    # ---- identity ----
    @property
    def model_id(self) -> str:
        name = getattr(self.model, "model_name", None) or getattr(self.model, "model", None)
        return str(name or type(self.model).__name__)

    def __repr__(self) -> str:
        base = getattr(self.model, "openai_api_base", None)
        where = f", base_url={base!r}" if base else ""
        return f"LLM(model={self.model_id!r}{where}, breaker={self.breaker.current_state})"

    # ---- turns and budgets ----
    @contextmanager
    def turn(self, deadline_s: float | None = None, max_calls: int | None = None,
             max_prompt_tokens: int | None = None) -> Iterator[TurnBudget]:
        """Scope one conversational turn: every call inside shares its deadline and budget, and
        is recorded in the yielded ``TurnBudget`` (``.calls`` goes into ``reply.trace``).

        Args:
            deadline_s: seconds from now for all LLM work of the turn (default: ``timeout``).
            max_calls: logical calls allowed this turn (skipped beyond).
            max_prompt_tokens: server-reported prompt tokens allowed this turn; prompt
                builders size themselves with ``prompt_budget()``.
        """
        with self.use(self.new_turn(deadline_s, max_calls, max_prompt_tokens)) as budget:
            yield budget

    def new_turn(self, deadline_s: float | None = None, max_calls: int | None = None,
                 max_prompt_tokens: int | None = None) -> TurnBudget:
        """A fresh turn budget (see ``turn``), to be made current with ``use``."""
        return TurnBudget(deadline=time.monotonic() + (deadline_s or self.timeout),
                          max_calls=max_calls, max_prompt_tokens=max_prompt_tokens)

    @contextmanager
    def use(self, budget: TurnBudget) -> Iterator[TurnBudget]:
        """Make ``budget`` the current turn's for the calls inside. Scope it to code that does
        not yield: a streamed reply re-enters it for each step, so the context variable is set
        and reset in the same context even when a server runs each step in another thread."""
        token = _TURN.set(budget)
        try:
            yield budget
        finally:
            _TURN.reset(token)

    def prompt_budget(self, wanted: int) -> int:
        """The token budget a prompt may use now: ``wanted``, or less if the turn has less left."""
        budget = _TURN.get()
        remaining = budget.remaining_prompt_tokens if budget else None
        return wanted if remaining is None else max(0, min(wanted, remaining))

    def _budget(self) -> TurnBudget:
        return _TURN.get() or TurnBudget(deadline=time.monotonic() + self.call_deadline)

    # ---- public calls ----
    def complete(self, messages: Prompt | Sequence[Any], purpose: str, *,
                 max_tokens: int | None = None,
                 temperature: float | None = None) -> tuple[str | None, LLMCall]:
        """Plain text completion.

        Returns:
            ``(text, call)``; ``text`` is None on any failure (``call.error`` says why).
        """
        lc_messages = to_messages(messages)
        kwargs = self._gen_kwargs(max_tokens, temperature)
        cap = max_reply_chars(max_tokens)

        def body(meter: _Meter, budget: TurnBudget) -> str:
            reply = self._request(self.model, lc_messages, kwargs, budget, meter, cap)
            text = message_text(reply).strip()
            if not text:
                raise UnusableOutput("empty answer")
            return text

        return self._call(purpose, lc_messages, body)

    def structured(self, messages: Prompt | Sequence[Any], schema: type[M], purpose: str, *,
                   json_schema: dict[str, Any] | None = None, max_tokens: int | None = None,
                   temperature: float | None = 0.0) -> tuple[M | None, LLMCall]:
        """An instance of ``schema`` read from the model, or None.

        Tries the supported methods in order (forced tool call, JSON mode, plain prompt); from
        whatever comes back it takes the tool arguments or the first JSON object in the text
        and validates it; if that fails it asks once more with the validation error (one
        repair), then gives up. A method the server rejects is remembered and not tried again.

        Args:
            messages: the prompt (it should already describe the fields; ``Prompt`` templates do).
            schema: the pydantic model to validate against.
            purpose: for the ``LLMCall`` ("understand", "rerank", ...).
            json_schema: the schema shown to the server (tool parameters / prompt), when it
                should be tighter than ``schema`` (e.g. an ``enum`` of allowed ids).
            max_tokens: completion limit per request.
            temperature: sampling temperature (0 by default: reading, not writing).

        Returns:
            ``(instance or None, call)``.
        """
        lc_messages = to_messages(messages)
        shown_schema = json_schema or inline_schema(schema)
        kwargs = self._gen_kwargs(max_tokens, temperature)
        cap = max_reply_chars(max_tokens)

        def body(meter: _Meter, budget: TurnBudget) -> M:
            return self._structured(lc_messages, schema, shown_schema, kwargs, budget, meter, cap)

        return self._call(purpose, lc_messages, body)

    def stream(self, messages: Prompt | Sequence[Any], purpose: str, *,
               max_tokens: int | None = None, temperature: float | None = None) -> LLMStream:
        """Text chunks as the model produces them. Iterate the returned ``LLMStream``; its
        ``.call`` is set once the stream ends (finished, failed, timed out, or closed early).
        Iterating never raises."""
        return LLMStream(self, to_messages(messages), purpose,
                         self._gen_kwargs(max_tokens, temperature), max_tokens)

    # ---- internals ----
    def _gen_kwargs(self, max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
        # Generation settings are passed only to OpenAI-compatible models: other back-ends name
        # them differently, and an unknown keyword would fail every call.
        if not self._openai:
            return {}
        kwargs: dict[str, Any] = {}
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if temperature is not None:
            kwargs["temperature"] = temperature
        return kwargs

    def _call(self, purpose: str, lc_messages: list[BaseMessage],
              body: Callable[[_Meter, TurnBudget], T]) -> tuple[T | None, LLMCall]:
        """Run one logical call under the turn's budget and turn its outcome into an LLMCall."""
        budget = self._budget()
        meter = _Meter()
        started = time.perf_counter()
        result: T | None = None
        error: str | None = None
        skipped = budget.skip_reason()
        if skipped:
            error = f"skipped: {skipped}"
        else:
            try:
                result = body(meter, budget)
            except UnusableOutput as exc:
                error = f"unusable output: {exc}"
            except (SkippedCall, pybreaker.CircuitBreakerError) as exc:
                error = f"skipped: {exc}" if isinstance(exc, SkippedCall) else \
                    "skipped: circuit breaker open (the LLM failed repeatedly)"
                budget.failure = budget.failure or error
            except Exception as exc:  # never into the turn: the caller falls back
                error = describe(exc)
                if classify(exc) != UNSUPPORTED:
                    budget.failure = budget.failure or error
        call = self._finish(purpose, started, meter, error, budget)
        if meter.prompt_tokens and not meter.estimated:
            chars = sum(len(message_text(m)) for m in lc_messages)
            self.estimator.observe(chars, len(lc_messages), meter.prompt_tokens)
        return (result if error is None else None), call

    def _finish(self, purpose: str, started: float, meter: _Meter, error: str | None,
                budget: TurnBudget) -> LLMCall:
        call = LLMCall(purpose=purpose, ok=error is None,
                       latency_ms=round((time.perf_counter() - started) * 1000, 1),
                       prompt_tokens=meter.prompt_tokens,
                       completion_tokens=meter.completion_tokens, error=error)
        budget.record(call, meter.requests)
        with self._stats_lock:
            self.stats["calls"] += 1
            outcome = "ok" if error is None else (
                "skipped" if error.startswith("skipped") else "failed")
            self.stats[outcome] += 1
            self.stats["requests"] += meter.requests
            self.stats["prompt_tokens"] += meter.prompt_tokens
            self.stats["completion_tokens"] += meter.completion_tokens
        log = logger.info if error is None or error.startswith("skipped") else logger.warning
        log("llm %s %s in %.0f ms (%d requests%s, %d+%d tokens%s)%s", purpose,
            "ok" if error is None else "failed", call.latency_ms, meter.requests,
            f", {meter.method}" if meter.method else "", meter.prompt_tokens,
            meter.completion_tokens, " estimated" if meter.estimated else "",
            f": {error}" if error else "")
        return call

    def _retrying(self, budget: TurnBudget) -> Retrying:
        backoff = wait_exponential_jitter(initial=0.25, max=4.0, jitter=0.25)

        def wait(retry_state: Any) -> float:
            hinted = retry_after(retry_state.outcome.exception())
            return hinted if hinted is not None else backoff(retry_state)

        return Retrying(
            retry=retry_if_exception(lambda exc: classify(exc) == TRANSIENT),
            stop=stop_after_attempt(self.max_retries + 1)
            | _StopWhenOutOfTime(budget, self.max_retry_after),
            wait=wait,
            reraise=True,
            before_sleep=_log_retry,
        )

    def _request(self, runnable: Any, lc_messages: list[BaseMessage], kwargs: dict[str, Any],
                 budget: TurnBudget, meter: _Meter, max_chars: int) -> AIMessage:
        """One request (with retries) through the breaker, within the deadline; a reply longer
        than ``max_chars`` is unusable (and not looked into)."""

        def attempt() -> AIMessage:
            remaining = budget.remaining_s
            if remaining < MIN_ATTEMPT_S:
                raise DeadlineExceeded("the deadline passed before the request could start")
            call_kwargs = dict(kwargs)
            if self._openai:
                call_kwargs["timeout"] = min(self.timeout, remaining)
            meter.requests += 1
            return _run_with_deadline(lambda: runnable.invoke(lc_messages, **call_kwargs),
                                      min(self.timeout, remaining))

        with self.breaker.calling():
            message = self._retrying(budget)(attempt)
        size = _reply_size(message)
        if size > max_chars:
            meter.add_usage(message)
            raise UnusableOutput(f"the reply has {size:,} characters, more than max_tokens allows "
                                 f"({max_chars:,}): the server ignores max_tokens")
        if not meter.add_usage(message):
            answer = message_text(message) or json.dumps([c.get("args") for c in message.tool_calls])
            meter.add_estimate(lc_messages, self.estimator.estimate(answer), self.estimator)
        return message


def _log_retry(retry_state: Any) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
    logger.info("llm retry in %.2f s after %s", retry_state.upcoming_sleep,
                describe(exc, 120) if exc is not None else "a failure")


def _is_openai_compatible(model: BaseChatModel) -> bool:
    try:
        from langchain_openai.chat_models.base import BaseChatOpenAI
    except ImportError:   # pragma: no cover - langchain-openai is a dependency
        return False
    return isinstance(model, BaseChatOpenAI)


class LLMStream:
    """A streamed completion. Iterate it for text chunks (never raises); afterwards ``.text``
    is everything received and ``.call`` the ``LLMCall`` (``ok`` False if the stream failed or
    hit the deadline; a stream the consumer closed early is still ok).

    Only establishing the stream is retried (until the first chunk arrives): a stream that
    breaks half-way is not restarted, since its first half may already be on screen. A stream
    that runs past ``max_tokens`` (in characters or chunks) is dropped there: the server ignores
    it, and the rest is not read.
    """

    def __init__(self, llm: LLM, lc_messages: list[BaseMessage], purpose: str,
                 kwargs: dict[str, Any], max_tokens: int | None = None):
        self._llm = llm
        self._messages = lc_messages
        self._purpose = purpose
        self._kwargs = kwargs
        self._max_chars = max_reply_chars(max_tokens)
        self._max_pieces = 2 * (max_tokens or MAX_TOKENS_DEFAULT) + 16
        self.text = ""
        self.call: LLMCall | None = None
        self._iterator: Iterator[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._iterator is None:
            self._iterator = self._generate()
        return self._iterator

    def close(self) -> None:
        if self._iterator is not None:
            self._iterator.close()   # type: ignore[attr-defined]

    def _open(self, budget: TurnBudget, meter: _Meter
              ) -> tuple[queue.Queue[tuple[str, Any]], threading.Event, tuple[str, Any]]:
        llm = self._llm

        def attempt() -> tuple[queue.Queue[tuple[str, Any]], threading.Event, tuple[str, Any]]:
            remaining = budget.remaining_s
            if remaining < MIN_ATTEMPT_S:
                raise DeadlineExceeded("the deadline passed before the stream could start")
            kwargs = dict(self._kwargs)
            if llm._openai:
                kwargs["timeout"] = min(llm.timeout, remaining)
            chunks: queue.Queue[tuple[str, Any]] = queue.Queue()
            stop = threading.Event()
            context = contextvars.copy_context()

            def produce() -> None:
                try:
                    for chunk in context.run(llm.model.stream, self._messages, **kwargs):
                        chunks.put(("chunk", chunk))
                        if stop.is_set():
                            return
                    chunks.put(("end", None))
                except BaseException as exc:
                    chunks.put(("error", exc))

            meter.requests += 1
            threading.Thread(target=produce, name="chatrec-llm-stream", daemon=True).start()
            try:
                first = chunks.get(timeout=min(llm.timeout, remaining))
            except queue.Empty:
                stop.set()
                raise DeadlineExceeded(f"no first chunk within {remaining:.1f} s") from None
            if first[0] == "error":
                raise first[1]
            return chunks, stop, first

        with llm.breaker.calling():
            return llm._retrying(budget)(attempt)

    def _generate(self) -> Iterator[str]:
        llm = self._llm
        budget = llm._budget()
        meter = _Meter()
        started = time.perf_counter()
        error: str | None = None
        stop: threading.Event | None = None
        reported, pieces = False, 0
        try:
            skipped = budget.skip_reason()
            if skipped:
                error = f"skipped: {skipped}"
                return
            chunks, stop, item = self._open(budget, meter)
            while item[0] != "end":
                if item[0] == "error":
                    raise item[1]
                chunk = item[1]
                reported = meter.add_usage(chunk) or reported
                piece = message_text(chunk)
                if piece:
                    pieces += 1
                    if len(self.text) + len(piece) > self._max_chars or pieces > self._max_pieces:
                        raise UnusableOutput(f"the stream ran past max_tokens ({self._max_chars:,} "
                                             f"characters or {self._max_pieces:,} chunks): the "
                                             "server ignores max_tokens")
                    self.text += piece
                    yield piece
                remaining = budget.remaining_s
                try:
                    if remaining <= 0:
                        raise queue.Empty
                    item = chunks.get(timeout=remaining)
                except queue.Empty:
                    raise DeadlineExceeded("the stream did not finish before the deadline") \
                        from None
        except pybreaker.CircuitBreakerError:
            error = "skipped: circuit breaker open (the LLM failed repeatedly)"
            budget.failure = budget.failure or error
        except Exception as exc:   # never into the turn
            error = describe(exc)
            if classify(exc) != UNSUPPORTED:
                budget.failure = budget.failure or error
        finally:
            if stop is not None:
                stop.set()
            if pieces and not reported:   # one token per chunk is how servers stream
                meter.add_estimate(self._messages, pieces, llm.estimator)
            self.call = llm._finish(self._purpose, started, meter, error, budget)
