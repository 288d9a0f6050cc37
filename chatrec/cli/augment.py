"""``chatrec augment``: LLM summaries of items (embedded with their documents) and of users'
tastes (for the reranker), cached and resumable, then a re-index (``chatrec.llm.augment``)."""

from __future__ import annotations

import typer
from rich.console import Console

from chatrec.cli.options import catalog_option
from chatrec.config import get_settings
from chatrec.errors import ConfigError

console = Console()

NO_LLM = ("`chatrec augment` needs an LLM: set CHATREC_LLM=<model> and "
          "CHATREC_LLM_BASE_URL=http://host:port/v1 (any OpenAI-compatible server), or "
          "CHATREC_LLM=openai:<model> with OPENAI_API_KEY.")


def register(app: typer.Typer) -> None:
    app.command("augment")(augment)


def augment(
    catalog: str | None = catalog_option(),
    limit: int | None = typer.Option(
        None, "--limit", min=0, help="Summarise the N most popular items (default: all)."),
    users: int | None = typer.Option(
        None, "--users", min=0,
        help="Summarise the tastes of N users with a rating history, by id "
             "(default: all; 0: none)."),
    no_reindex: bool = typer.Option(
        False, "--no-reindex", help="Only make summaries; `chatrec build` embeds them later."),
    price_per_1k: float | None = typer.Option(
        None, "--price-per-1k", min=0.0,
        help="Show a cost estimate at this price per 1,000 tokens (prompt + completion)."),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, help="Seconds per request (default CHATREC_LLM_TIMEOUT)."),
) -> None:
    """Ask the LLM for short item summaries and user-taste summaries (KAR / LLM-Rec), cache them
    under CHATREC_HOME, and re-index so vector retrieval uses them. Rerunning continues where a
    run stopped; summaries are never shown to users."""
    from chatrec.catalog.loader import load_catalog
    from chatrec.llm.augment import augment as run
    from chatrec.llm.client import LLM

    settings = get_settings()
    llm = LLM.from_settings(settings, **({"timeout": timeout} if timeout else {}))
    if llm is None:
        raise ConfigError(NO_LLM)
    with console.status("Loading the catalog…"):
        cat = load_catalog(catalog or settings.catalog, settings, progress=True)
    console.print(f"augment {cat.name} ({len(cat):,} items) with {llm.model_id}", highlight=False)
    report = run(cat, llm, settings, limit=limit, users=users, reindex=not no_reindex,
                 progress=True, price_per_1k=price_per_1k)
    console.print(report.line(price_per_1k), highlight=False, soft_wrap=True)
    console.print(f"[dim]stored: {report.stored_items:,} item and {report.stored_users:,} user "
                  f"summaries under {settings.home / 'augment'}[/]", highlight=False)
    if report.stopped == "interrupted":
        raise typer.Exit(130)
    if report.stopped:
        raise typer.Exit(1)
