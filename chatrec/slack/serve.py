"""Serving a ``SlackBot``: Socket Mode (an outgoing WebSocket, no public URL) or HTTP (Slack
posts signed requests to ``/slack/events``; uvicorn + starlette, Bolt's own adapter functions).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Self

from chatrec.slack.admission import TOO_LARGE, read_capped, refuse_headers
from chatrec.slack.app import SlackBot

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"


def http_app(bot: SlackBot, path: str = EVENTS_PATH):
    """A starlette app: ``POST {path}`` for events, interactivity and slash commands (Bolt checks
    every request's signature and timestamp: 401 otherwise), ``GET /health`` for probes.
    Requests that cannot be Slack's are refused from their headers, unread; a body is read
    only up to ``MAX_BODY_BYTES`` (413 beyond)."""
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def events(request: Request):
        refusal = refuse_headers(request.headers)
        body = None if refusal is not None else await read_capped(request.stream())
        if body is None:
            refusal = refusal or TOO_LARGE
            return PlainTextResponse(refusal.text, status_code=refusal.status,
                                     headers={"connection": "close"})
        # dispatch only acks (the work is lazy) but may touch the network once (auth.test):
        # keep it off the event loop.
        response = await run_in_threadpool(bot.app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    async def health(_request: Request):
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[Route(path, events, methods=["POST"]), Route(HEALTH_PATH, health, methods=["GET"])]
    )


def _uvicorn_server(bot: SlackBot, log_level: str = "warning"):
    import uvicorn

    config = uvicorn.Config(
        http_app(bot),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=15,
        server_header=False,
    )
    return uvicorn.Server(config)


def serve_http(bot: SlackBot, host: str = "127.0.0.1", port: int = 3000) -> None:
    """Serve until interrupted, then let the turns already started finish."""
    server = _uvicorn_server(bot)
    server.config.host, server.config.port = host, port
    try:
        server.run()
    finally:
        bot.close(wait=True)


class HttpServerThread:
    """The HTTP app on a loopback port in a background thread (tests, benchmark).

    Attributes:
        url: the events URL (``http://127.0.0.1:<port>/slack/events``).
    """

    def __init__(self, bot: SlackBot, host: str = "127.0.0.1"):
        self.bot = bot
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}{EVENTS_PATH}"
        self.server = _uvicorn_server(bot)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="chatrec-slack-http",
            daemon=True,
        )

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the Slack HTTP server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def socket_mode_handler(bot: SlackBot):
    """Bolt's built-in Socket Mode handler for the bot (``SLACK_APP_TOKEN``); it opens the
    connection through ``apps.connections.open`` at the bot's ``SLACK_API_URL``."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = bot.settings.app_token.get_secret_value() if bot.settings.app_token else None
    return SocketModeHandler(
        bot.app,
        app_token=token,
        web_client=bot.client,
        logger=logging.getLogger("chatrec.slack.socket"),
    )


def serve_socket_mode(bot: SlackBot) -> None:
    """Connect and serve until interrupted, then let the turns already started finish."""
    handler = socket_mode_handler(bot)
    try:
        handler.start()
    finally:
        try:
            handler.close()
        finally:
            bot.close(wait=True)
