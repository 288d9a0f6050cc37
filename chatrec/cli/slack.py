"""``chatrec slack``: run chatrec as a Slack app (Socket Mode by default, ``--http`` for HTTP),
and ``chatrec slack manifest`` to print the app manifest. Set-up: docs/slack.md."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from chatrec.cli.options import catalog_option

slack_app = typer.Typer(
    help="chatrec in Slack: run the bot, or print its app manifest.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@slack_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    http: bool = typer.Option(
        False,
        "--http",
        help="HTTP mode (needs SLACK_SIGNING_SECRET and a "
        "public HTTPS URL); default is Socket Mode.",
    ),
    port: int = typer.Option(3000, "--port", "-p", help="HTTP mode: port to listen on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="HTTP mode: interface (0.0.0.0 in a container)."
    ),
    catalog: str = catalog_option("-c"),
) -> None:
    """Run the Slack bot: SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or
    SLACK_SIGNING_SECRET (--http). Ctrl-C stops it after the answers in progress."""
    if ctx.invoked_subcommand is not None:
        return
    from chatrec.agent import Agent
    from chatrec.config import get_settings
    from chatrec.slack import SlackBot, SlackSettings, serve_http, serve_socket_mode, web_client
    from chatrec.slack.redact import install

    console = Console(stderr=True)
    slack_settings = SlackSettings()
    slack_settings.check("http" if http else "socket")  # fail before the slow loading
    install(slack_settings.secrets())
    logging.getLogger("chatrec.slack").setLevel(logging.INFO)        # one line per answer
    logging.getLogger("chatrec.slack.web").setLevel(logging.WARNING)  # not every API call
    client = web_client(slack_settings)
    auth = _auth_test(client, slack_settings)
    settings = get_settings()
    with console.status("Loading catalog, knowledge graph and index…"):
        # A missing vector index is built in the background: the bot answers meanwhile from
        # the knowledge graph and ratings, and vector retrieval joins when it is ready.
        agent = Agent.from_config(catalog or settings.catalog, settings, progress=True,
                                  index_in_background=True)
    building = getattr(agent.resources.index, "status_line", lambda: None)()
    if building:
        console.print(building, highlight=False)
    bot = SlackBot(agent, slack_settings, client=client)
    who = f"@{auth.get('user', 'chatrec')} in {auth.get('team', 'the workspace')}"
    about = f"{agent.catalog.name}, {len(agent.catalog):,} items, " + (
        "with an LLM" if agent.llm is not None else "no LLM"
    )
    if http:
        console.print(
            f"chatrec is {who} ({about}); listening on http://{host}:{port}/slack/events",
            highlight=False,
        )
        serve_http(bot, host, port)
    else:
        console.print(
            f"chatrec is {who} ({about}); connecting over Socket Mode. Ctrl-C to stop.",
            highlight=False,
        )
        serve_socket_mode(bot)


def _auth_test(client, slack_settings) -> dict:
    """Slack's ``auth.test`` for the bot token, its failure turned into one actionable line."""
    from slack_sdk.errors import SlackApiError

    from chatrec.errors import ConfigError

    try:
        return client.auth_test().data
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "error"
        raise ConfigError(
            f"Slack did not accept SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth "
            "Token (xoxb-…) again after installing the app to the workspace."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Could not reach Slack at {slack_settings.api_url} ({type(exc).__name__}: "
            f"{exc}); check the network or SLACK_API_URL."
        ) from None


@slack_app.command("manifest")
def manifest(
    request_url: str = typer.Option(
        None, "--request-url", help="HTTP mode: your public https URL ending in /slack/events."
    ),
) -> None:
    """Print the Slack app manifest (Socket Mode; --request-url for HTTP mode)."""
    from chatrec.slack.manifest import manifest_yaml

    typer.echo(manifest_yaml(request_url), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(slack_app, name="slack")
