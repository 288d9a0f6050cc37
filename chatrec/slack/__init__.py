"""chatrec in Slack: a Bolt app over the ``Agent`` (DMs, @mentions, Block Kit replies with
feedback buttons, ``/chatrec``), served over Socket Mode or HTTP. See docs/slack.md.

    from chatrec.agent import Agent
    from chatrec.slack import SlackBot, SlackSettings, serve_socket_mode

    bot = SlackBot(Agent.from_config(), SlackSettings())
    serve_socket_mode(bot)
"""

from chatrec.slack.app import SlackBot, web_client
from chatrec.slack.config import SlackSettings
from chatrec.slack.serve import http_app, serve_http, serve_socket_mode

__all__ = ["SlackBot", "SlackSettings", "http_app", "serve_http", "serve_socket_mode", "web_client"]
