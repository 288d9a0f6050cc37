"""What went wrong in an LLM request, and what to do about it.

Every failure is one of four kinds, whatever the back-end:

- ``TRANSIENT``: worth another attempt if time allows (timeouts, connection errors, HTTP 429,
  HTTP 5xx). LangChain's provider-neutral ``ModelError.is_retryable`` says so for its
  integrations; raw ``openai``/``httpx`` errors are recognised too.
- ``UNSUPPORTED``: the server is alive but rejects this kind of request (HTTP 400/422, a
  back-end without tool calling). The structured-output path tries its next method.
- ``DEADLINE``: the turn's time is up; nothing more is tried this turn.
- ``FATAL``: anything else (bad key, unknown model, a bug, a reply past the size cap). Not
  retried.

The circuit breaker counts TRANSIENT, DEADLINE and FATAL failures, never UNSUPPORTED ones: a
server that says "no" quickly is healthy.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any

import httpx
import openai
from langchain_core.exceptions import ContextOverflowError, ModelError, ModelInvalidRequestError

TRANSIENT, UNSUPPORTED, DEADLINE, FATAL = "transient", "unsupported", "deadline", "fatal"

_UNSUPPORTED_WORDS = re.compile(r"not (?:be )?supported|unsupported|not implemented|unknown "
                                r"(?:field|parameter)|unrecognized", re.I)
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-*]{4,}|Bearer\s+\S+|api[_-]?key[=:]\s*\S+)", re.I)


class DeadlineExceeded(TimeoutError):
    """The per-turn (or per-call) deadline passed before the LLM answered."""


class ReplyTooLarge(Exception):
    """The server sent more than chatrec reads for one reply: it ignores ``max_tokens``, or it is
    hostile. Not retried (it would send as much again)."""


def too_large(exc: BaseException) -> ReplyTooLarge | None:
    """The ``ReplyTooLarge`` behind ``exc`` (HTTP clients wrap what their transport raised), or
    None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ReplyTooLarge):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class SkippedCall(Exception):
    """A call was not made: the breaker is open, the turn's budget is spent, or the server
    already failed earlier in this turn."""


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> str:
    """The kind of failure ``exc`` is (``TRANSIENT``, ``UNSUPPORTED``, ``DEADLINE``, ``FATAL``)."""
    if isinstance(exc, DeadlineExceeded):
        return DEADLINE
    if too_large(exc) is not None:
        return FATAL
    if isinstance(exc, NotImplementedError):
        return UNSUPPORTED
    status = _status(exc)
    message = str(exc)
    if status in (500, 501) and _UNSUPPORTED_WORDS.search(message):
        return UNSUPPORTED   # llama.cpp answers 500 to a response_format it cannot do
    if isinstance(exc, ContextOverflowError):
        return FATAL
    if isinstance(exc, ModelError):
        if exc.is_retryable:
            return TRANSIENT
        return UNSUPPORTED if isinstance(exc, ModelInvalidRequestError) else FATAL
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                        openai.InternalServerError, httpx.TimeoutException,
                        httpx.TransportError, TimeoutError, ConnectionError)):
        return TRANSIENT
    if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return UNSUPPORTED
    if status is not None:
        if status == 429 or status >= 500:
            return TRANSIENT
        if status in (400, 422):
            return UNSUPPORTED
    return FATAL


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``, in seconds or
    as an HTTP date), or None."""
    response = getattr(exc, "response", None)
    headers: Any = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def describe(exc: BaseException, limit: int = 200) -> str:
    """A one-line description for traces and logs: the type, the HTTP status if any, and the
    message with anything that looks like a credential masked."""
    exc = too_large(exc) or exc
    status = _status(exc)
    text = _SECRET.sub("***", " ".join(str(exc).split()))
    head = type(exc).__name__ + (f" {status}" if status else "")
    return f"{head}: {text}"[:limit] if text else head
