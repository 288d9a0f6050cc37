"""``chatrec serve``: the web page (Gradio) over the agent.

The server answers within seconds: the agent loads in a background thread while Gradio imports
and starts, and the page shows "loading" until it is ready. On a fresh install the same thread
first builds what the agent needs at once (data, catalog, knowledge graph, collaborative model);
a missing vector index is built in another background thread while the agent already answers
from the knowledge graph and ratings, with its progress on the page and in the terminal.
"""

from __future__ import annotations

import logging
import os
import time

import typer

from chatrec.cli.options import catalog_option

logger = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _parse_auth(auth: list[str] | None) -> list[tuple[str, str]] | None:
    """``user:password`` accounts (each person their own: a login is an identity, and whoever
    shares one shares its data)."""
    if not auth:
        return None
    accounts = []
    for account in auth:
        user, sep, password = account.partition(":")
        if not sep or not user or not password:
            raise typer.BadParameter("use --auth user:password (repeat it for each account)",
                                     param_hint="--auth")
        accounts.append((user, password))
    if len({user for user, _ in accounts}) != len(accounts):
        raise typer.BadParameter("each --auth account needs its own user name", param_hint="--auth")
    return accounts


def _warm_up(agent) -> None:
    """Touch what the first message would otherwise pay for: the embedding model."""
    index = getattr(agent.resources, "index", None)
    if index is not None:
        index.query("a warm-up query", k=1)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: all)."),
    port: int = typer.Option(7860, "--port", help="Port to listen on."),
    auth: list[str] = typer.Option(None, "--auth", envvar="CHATREC_AUTH",
                                   help="Require a login: user:password, repeated for each person "
                                        "(or CHATREC_AUTH, accounts separated by spaces)."),
    catalog: str = catalog_option("-c"),
    rate_limit: float = typer.Option(30.0, "--rate-limit",
                                     help="Messages per minute per session after a burst (0: no limit)."),
    burst: int = typer.Option(10, "--burst", help="Messages a session may send back to back."),
    concurrency: int = typer.Option(
        0, "--concurrency", min=0,
        help="Agent calls running at once; the rest queue (0: one per CPU core, 4 per core with an LLM)."),
) -> None:
    """Serve the chat page (and its API) in the browser: http://HOST:PORT."""
    started = time.perf_counter()
    credentials = _parse_auth(auth)
    from chatrec.config import get_settings
    from ui.loader import AgentLoader

    settings = get_settings()
    spec = catalog or settings.catalog
    first_start = not (settings.index_dir.exists() and any(settings.index_dir.iterdir()))
    if first_start:
        typer.echo(f"First start in {settings.home}: building the catalog and knowledge graph, then "
                   "the search index in the background (progress below). The page is up meanwhile, "
                   "answers from the knowledge graph and ratings within seconds, and shows the "
                   "index's progress; vector retrieval joins when it is ready.")

    def factory():
        from chatrec.agent import Agent

        return Agent.from_config(spec, settings, progress=True, index_in_background=True)

    # Gradio first, the agent right after: both are mostly Python work competing for one GIL,
    # and a page that says "loading" beats no page. (Measured: loading them side by side delays
    # the page by the whole agent load and makes the agent no sooner.)
    loader = AgentLoader(factory, warm_up=_warm_up)

    from ui.app import build_app, launch
    from ui.ratelimit import RateLimiter
    from ui.service import ChatService

    limiter = RateLimiter(rate=rate_limit / 60.0, burst=burst) if rate_limit > 0 else None
    if concurrency <= 0:
        # Without an LLM a turn is CPU work under one GIL: more threads than cores only slow each
        # turn down (measured: same throughput, 2-3x the per-turn time). LLM calls mostly wait.
        concurrency = (os.cpu_count() or 2) * (4 if settings.llm else 1)
    service = ChatService(loader, limiter)
    demo = build_app(service, concurrency=concurrency,
                     films=spec.strip().lower() in ("movielens", "redial"))
    from chatrec.cli.health import HEALTH_PATH, health_route

    launch(demo, server_name=host, server_port=port, auth=credentials, prevent_thread_lock=True,
           quiet=True, show_error=False, app_kwargs={"routes": [health_route(loader)]},
           auth_message="chatrec: sign in to continue" if credentials else None)
    loader.start()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"chatrec is up at http://{shown_host}:{port} ({time.perf_counter() - started:.1f}s); "
               "Ctrl-C to stop.")
    try:
        loader.get(timeout=None)
        typer.echo(f"agent ready {time.perf_counter() - started:.1f}s after start (loaded in "
                   f"{loader.status().elapsed_s:.1f}s: {_stages(loader)}); "
                   f"API: http://{shown_host}:{port}/?view=api, health: {HEALTH_PATH}")
        import kg.render  # noqa: F401  (matplotlib, for the first "Why this?", off the critical path)
    except Exception as exc:  # noqa: BLE001 - the page shows it too; keep serving the message
        typer.echo(f"error: {exc}", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        demo.close()


def _stages(loader) -> str:
    try:
        timings = loader.get(timeout=0).resources.timings_s
    except Exception:  # noqa: BLE001
        return ""
    return ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
