"""Helpers for the Slack tests: the stand-in workspace's credentials (fake values shaped like
real ones), a sender of signed HTTP requests, and an agent whose turns wait for a gate."""

from __future__ import annotations

import threading
import time

import httpx

from chatrec.testing.slack import block_action, http_body, mention_event, signed

BOT_TOKEN = "xoxb-1111-2222-stand-in-bot-token"
APP_TOKEN = "xapp-1-A0CHATREC-3333-stand-in-app-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Sender:
    """Posts Slack's request bodies to the HTTP server, signed with the signing secret."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET):
        self.url = url
        self.secret = secret
        self.http = httpx.Client(timeout=30)

    def __call__(
        self,
        kind: str,
        payload: dict,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict | None = None,
    ) -> httpx.Response:
        body, content_type = http_body(kind, payload)
        sent = {
            "content-type": content_type,
            **signed(secret or self.secret, body, timestamp),
            **(headers or {}),
        }
        return self.http.post(self.url, content=body.encode("utf-8"), headers=sent)


def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.01)


def mention_and_like(send, slack_api, text: str, ts: str):
    """Mention the bot in #C0MOVIES, press 👍 on its first suggestion, wait for the update;
    returns the reply's recorded ``chat.postMessage`` call."""
    send("events_api", mention_event(text, ts=ts))
    call = slack_api.wait_for("chat.postMessage")[0]
    message = slack_api.message(call)
    button = next(b for b in message["blocks"] if b["type"] == "actions")["elements"][0]
    send("interactive", block_action(message, "C0MOVIES", button["action_id"], button["value"]))
    slack_api.wait_for("chat.update")
    return call


class GatedAgent:
    """The real agent, whose turns wait until the test opens the gate."""

    def __init__(self, agent):
        self.agent = agent
        self.gate = threading.Event()

    def respond(self, *args, **kwargs):
        assert self.gate.wait(20)
        return self.agent.respond(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.agent, name)
