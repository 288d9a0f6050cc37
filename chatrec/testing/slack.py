"""Loopback stand-ins for Slack, for tests and the benchmark: the Web API (records
``chat.postMessage`` / ``chat.update`` / ``chat.postEphemeral`` and ``response_url`` posts,
answers ``auth.test`` and ``apps.connections.open``), a Socket Mode WebSocket server speaking
Slack's envelope (``hello``, ``events_api``, ``interactive``, ``slash_commands``, acks), and
builders for the request bodies Slack sends, signed like Slack signs them.

Nothing here mocks the Slack client libraries: the real ``WebClient``, Bolt ``App`` and
``SocketModeHandler`` talk to these servers over real sockets.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger(__name__)

TEAM = "T0CHATREC"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"


@dataclass
class Call:
    """One request the stand-in received.

    Attributes:
        method: Web API method ("chat.postMessage") or ``respond:<name>`` for response_url posts.
        data: the payload (JSON or form fields; ``blocks`` decoded to a list).
        at: ``time.perf_counter()`` when it arrived.
        authorization: the Authorization header, to check which token was used.
        response: what the stand-in answered (``ts`` of a posted message, errors).
    """

    method: str
    data: dict
    at: float
    authorization: str = ""
    response: dict = field(default_factory=dict)


@dataclass
class SlackAPI:
    """A stand-in for ``https://slack.com/api/`` on 127.0.0.1.

    Use as a context manager; point a ``WebClient(base_url=api.url)`` (or ``SLACK_API_URL``)
    at ``url``. ``fail(method, error)`` makes the next call of a method answer
    ``{"ok": false, "error": error}`` as Slack does.
    """

    team: str = TEAM
    bot_user: str = BOT_USER
    socket_url: str | None = None
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Condition()
        self._failures: dict[str, list[str]] = {}
        self._ts = itertools.count(1)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                return

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                status, body = stand_in._answer(self.path, raw, self.headers)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header(
                    "content-type",
                    "application/json; charset=utf-8" if body.startswith("{") else "text/plain",
                )
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/"

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        threading.Thread(
            target=self._server.serve_forever, name="slack-api-stand-in", daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def fail(self, method: str, error: str) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append(error)

    # ------------------------------------------------------------ reading what arrived
    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """The first ``count`` calls of ``method`` (raises TimeoutError when they don't come)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} {method} calls after {timeout} s")
                self._lock.wait(left)

    # ------------------------------------------------------------ answering
    def _answer(self, path: str, raw: str, headers) -> tuple[int, str]:
        data = _decode(raw, headers.get("content-type", ""))
        if path.startswith("/respond/"):
            method = "respond:" + path.split("/", 2)[2]
        else:
            method = path.rsplit("/", 1)[-1]
        call = Call(method, data, time.perf_counter(), headers.get("authorization", ""))
        with self._lock:
            failures = self._failures.get(method) or []
            error = failures.pop(0) if failures else None
            if method.startswith("respond:"):
                call.response = {"ok": True}
            elif error:
                call.response = {"ok": False, "error": error}
            else:
                call.response = self._result(method, data)
            self.calls.append(call)
            self._lock.notify_all()
        return 200, "ok" if method.startswith("respond:") else json.dumps(call.response)

    def message(self, call: Call) -> dict:
        """The posted message as Slack echoes it in a ``block_actions`` payload."""
        return {
            "type": "message",
            "ts": call.response["ts"],
            "text": call.data.get("text", ""),
            "user": self.bot_user,
            "bot_id": BOT_ID,
            "blocks": call.data.get("blocks", []),
            **({"thread_ts": call.data["thread_ts"]} if call.data.get("thread_ts") else {}),
        }

    def _result(self, method: str, data: dict) -> dict:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://chatrec-test.slack.com/",
                "team": "chatrec test",
                "user": "chatrec",
                "team_id": self.team,
                "user_id": self.bot_user,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            if not self.socket_url:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}
        if method in ("chat.postMessage", "chat.update"):
            ts = data.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": data.get("channel"),
                "ts": ts,
                "message": {
                    "type": "message",
                    "text": data.get("text", ""),
                    "ts": ts,
                    "user": self.bot_user,
                    "bot_id": BOT_ID,
                    "blocks": data.get("blocks", []),
                },
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        return {"ok": True}


def _decode(raw: str, content_type: str) -> dict:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    data = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in ("blocks", "attachments"):
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data


# ================================================================== Socket Mode
class SocketModeServer:
    """A loopback WebSocket server speaking Socket Mode to one client at a time: ``hello`` on
    connect, then the envelopes you ``send``; records the acks (``{"envelope_id": ...}``)."""

    def __init__(self):
        from websockets.sync.server import serve

        self._server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=stand-in"
        self.acks: dict[str, tuple[dict, float]] = {}
        self.connected = threading.Event()
        self._conn = None
        self._cond = threading.Condition()

    def __enter__(self) -> Self:
        threading.Thread(
            target=self._server.serve_forever, name="socket-mode-stand-in", daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()

    def drop(self) -> None:
        """Close the client's connection from the server side (as Slack does on a refresh).
        Closing a built-in Socket Mode client first makes it wait out its receive timeout."""
        if self._conn is not None:
            self._conn.close()

    def _handle(self, conn) -> None:
        conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0CHATREC"},
                    "debug_info": {
                        "host": "applink-stand-in",
                        "approximate_connection_time": 18060,
                    },
                }
            )
        )
        self._conn = conn
        self.connected.set()
        try:
            for message in conn:
                data = json.loads(message)
                if "envelope_id" in data:
                    with self._cond:
                        self.acks[data["envelope_id"]] = (data, time.perf_counter())
                        self._cond.notify_all()
        except Exception as exc:  # noqa: BLE001 - the client went away
            logger.debug("Socket Mode stand-in: connection ended (%s)", type(exc).__name__)

    def send(self, kind: str, payload: dict, retry_attempt: int = 0) -> tuple[str, float]:
        """Send one envelope (``events_api``, ``interactive``, ``slash_commands``); returns its
        id and the ``perf_counter`` when it was sent."""
        if not self.connected.wait(15):
            raise TimeoutError("no Socket Mode client connected")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope.update(
                retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else ""
            )
        sent = time.perf_counter()
        if self._conn is None:
            raise ConnectionError("the Socket Mode client is gone")
        self._conn.send(json.dumps(envelope))
        return envelope_id, sent

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> tuple[dict, float]:
        """The ack and the ``perf_counter`` when it arrived."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id}")
            return self.acks[envelope_id]


# ================================================================== what Slack sends
_event_ids = itertools.count(1)
_message_ts = itertools.count(1)


def next_ts() -> str:
    return f"1710000000.{next(_message_ts):06d}"


def mention_event(
    text: str,
    user: str = "U0ALICE",
    channel: str = "C0MOVIES",
    ts: str | None = None,
    thread_ts: str | None = None,
    team: str = TEAM,
    bot_user: str = BOT_USER,
    event_id: str | None = None,
) -> dict:
    """An ``event_callback`` body with an ``app_mention`` ("<@bot> text")."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{bot_user}> {text}",
        "ts": ts or next_ts(),
        "channel": channel,
        "team": team,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event, team, event_id)


def dm_event(
    text: str,
    user: str = "U0ALICE",
    channel: str = "D0ALICE",
    ts: str | None = None,
    thread_ts: str | None = None,
    team: str = TEAM,
    event_id: str | None = None,
) -> dict:
    """An ``event_callback`` body with a direct ``message`` (channel_type im)."""
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts or next_ts(),
        "channel": channel,
        "team": team,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event, team, event_id)


def event_callback(event: dict, team: str = TEAM, event_id: str | None = None) -> dict:
    event.setdefault("event_ts", event.get("ts"))
    return {
        "token": "legacy-unused",
        "team_id": team,
        "api_app_id": "A0CHATREC",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
    }


def block_action(
    message: dict,
    channel: str,
    action_id: str,
    value: str,
    user: str = "U0ALICE",
    team: str = TEAM,
    response_url: str = "",
    block_id: str = "",
) -> dict:
    """A ``block_actions`` payload for a button pressed on ``message`` (as Slack echoes it)."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "chatrec-test"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0CHATREC",
        "trigger_id": f"trig.{uuid.uuid4().hex[:10]}",
        "response_url": response_url,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "movies"},
        "message": message,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }


def command(
    text: str,
    response_url: str,
    user: str = "U0ALICE",
    channel: str = "C0MOVIES",
    team: str = TEAM,
    name: str = "/chatrec",
) -> dict:
    """A slash command's fields."""
    return {
        "token": "legacy-unused",
        "team_id": team,
        "team_domain": "chatrec-test",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "movies",
        "user_id": user,
        "user_name": user.lower(),
        "command": name,
        "text": text,
        "api_app_id": "A0CHATREC",
        "response_url": response_url,
        "trigger_id": f"trig.{uuid.uuid4().hex[:10]}",
    }


def signed(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The signature headers Slack adds to an HTTP request."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature or ""}


def http_body(kind: str, payload: dict) -> tuple[str, str]:
    """(body, content type) of an HTTP request: events are JSON, interactivity is a form with a
    ``payload`` field, slash commands are a form."""
    if kind == "events_api":
        return json.dumps(payload), "application/json"
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    return urlencode(payload), "application/x-www-form-urlencoded"
