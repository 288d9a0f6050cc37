"""Slack room fixtures: the real Bolt app over an agent on the small test catalog, a loopback
stand-in for Slack's Web API, and helpers that send requests signed like Slack's."""

from __future__ import annotations

import pytest
from slack_support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, Sender, wait_until

from chatrec.slack import SlackBot, SlackSettings
from chatrec.slack.serve import HttpServerThread, socket_mode_handler
from chatrec.testing.slack import SlackAPI, SocketModeServer


@pytest.fixture
def slack_api():
    with SlackAPI() as api:
        yield api


@pytest.fixture
def slack_settings(slack_api):
    return SlackSettings(
        _env_file=None,
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=slack_api.url,
        rate_burst=5,
        rate_per_minute=20,
        workers=4,
    )


@pytest.fixture
def make_bot(make_agent, slack_settings):
    """A factory for bots (``**overrides`` change settings); all closed after the test."""
    bots = []

    def make(agent=None, **overrides):
        settings = slack_settings.model_copy(update=overrides)
        bot = SlackBot(agent or make_agent(), settings)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.close(wait=True)


@pytest.fixture
def bot(make_bot):
    return make_bot()


@pytest.fixture
def server(bot):
    with HttpServerThread(bot) as srv:
        yield srv


@pytest.fixture
def send(server):
    sender = Sender(server.url)
    yield sender
    sender.http.close()


@pytest.fixture
def socket(slack_api, bot):
    with SocketModeServer() as server:
        slack_api.socket_url = server.url
        handler = socket_mode_handler(bot)
        handler.connect()
        try:
            assert server.connected.wait(15)
            yield server
        finally:
            # Hang up from the server side first: the built-in client otherwise waits out its
            # receive timeout (seconds) before it closes. Wait until it has noticed: closing
            # while it tears the socket down races in slack_sdk.
            handler.client.auto_reconnect_enabled = False
            server.drop()
            wait_until(lambda: not handler.client.is_connected(), timeout=10)
            handler.close()
