"""Credentials never reach the logs, even with every logger at DEBUG and things failing."""

from __future__ import annotations

import logging

from slack_support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, mention_and_like, wait_until

from chatrec.testing.slack import command, mention_event


def test_tokens_are_never_logged(caplog, slack_api, bot, send, socket):
    caplog.set_level(logging.DEBUG)
    mention_and_like(send, slack_api, "something like Inception", "1710003000.000100")
    send("commands", command("profile", slack_api.response_url("p")))
    slack_api.wait_for("respond:p")
    send("events_api", mention_event("a comedy"), secret="wrong")  # refused: 401
    slack_api.fail("chat.postMessage", "invalid_auth")
    socket.send("events_api", mention_event("a comedy", channel="C0OTHER"))  # over Socket Mode
    wait_until(lambda: len(slack_api.of("chat.postMessage")) == 2)
    wait_until(lambda: bot.stats.errors >= 1)
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "Sending a request" in logged and "chat.postMessage failed" in logged  # DEBUG was on
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in logged
