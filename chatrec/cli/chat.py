"""``chatrec chat``: a terminal chat over the same ``Agent`` API the other surfaces use."""

from __future__ import annotations

import uuid

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from chatrec.catalog.users import user_address
from chatrec.cli.options import catalog_option


def render_reply(console: Console, reply, show_trace: bool = False) -> None:
    """Print a Reply: its text, then each recommendation's evidence (the KG facts behind it)."""
    console.print(Markdown(reply.text))
    for i, rec in enumerate(reply.recommendations, 1):
        if rec.evidence:
            facts = "; ".join(f"{f.subject_label} {f.relation.replace('_', ' ')} {f.object_label}"
                              for f in rec.evidence)
            console.print(f"   [dim]{i}. evidence: {facts}[/dim]", highlight=False)
    if show_trace:
        table = Table(title="trace", show_header=True)
        table.add_column("step")
        table.add_column("ms", justify="right")
        for step, ms in reply.trace.timings_ms.items():
            table.add_row(step, f"{ms:.1f}")
        console.print(table)
        if reply.trace.guard:
            console.print(f"[dim]guard: {reply.trace.guard.model_dump(mode='json')}[/dim]")


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        user: str = typer.Option(None, "--user", "-u",
                                 help="A user of the catalog's interaction log (e.g. 42: their history is "
                                      "used), or any id with a colon (web:alice)."),
        catalog: str = catalog_option("-c"),
        session: str = typer.Option(None, "--session", "-s", help="Continue a stored session by id."),
        trace: bool = typer.Option(False, "--trace", help="Show per-step timings and the guard result."),
        message: list[str] = typer.Option(None, "--message", "-m",
                                          help="Send these messages and exit (scriptable)."),
    ) -> None:
        """Chat with chatrec in the terminal. Type 'quit' to leave, 'reset' to start over."""
        from chatrec.agent import Agent
        from chatrec.agent.arguments import session_id_arg, user_id_arg
        from chatrec.config import get_settings

        try:
            user_id_arg(user or None)   # bounded before minutes of loading; addressed below
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--user") from exc
        try:
            session_id = session_id_arg(session or f"cli:{uuid.uuid4().hex[:12]}")
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--session") from exc
        console = Console()
        settings = get_settings()
        with console.status("Loading catalog, knowledge graph and index…"):
            agent = Agent.from_config(catalog or settings.catalog, settings, progress=True)
        user_id = None
        if user:
            user_id = user if ":" in user else user_address(agent.catalog.name, user)
        if message:
            for text in message:
                console.print(f"[bold cyan]you>[/] {text}", highlight=False)
                render_reply(console, agent.respond(session_id, text, user_id=user_id), trace)
            return
        llm_note = "with an LLM" if agent.llm is not None else "no LLM (deterministic)"
        who = f"user {user_id}" if user_id else "anonymous"
        console.print(Panel(f"chatrec — {agent.catalog.name} catalog, {len(agent.catalog):,} items, "
                            f"{llm_note}, {who}. Session {session_id}.\n"
                            "Try: \"something like Inception but from the 90s\". 'quit' to leave.",
                            expand=False))
        while True:
            try:
                text = console.input("[bold cyan]you>[/] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            if text.strip().lower() in {"quit", "exit", ":q"}:
                break
            render_reply(console, agent.respond(session_id, text, user_id=user_id), trace)
