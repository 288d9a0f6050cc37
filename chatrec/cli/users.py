"""``chatrec forget`` and ``chatrec export``: a user's data in the configured store (the SQLite
file under ``CHATREC_HOME``, or PostgreSQL with ``CHATREC_STORE_URL``), without loading a catalog."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def forget(user_id: str = typer.Argument(..., help="The user id, e.g. web:alice or slack:T1:U1."),
               yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
        """Delete everything stored about a user: profile, sessions, feedback. Turns of that user
        still in flight in running workers are not written back."""
        from chatrec.config import get_settings
        from chatrec.store import open_store

        if not yes:
            typer.confirm(f"Delete everything stored about {user_id}?", abort=True)
        with open_store(get_settings()) as store:
            deleted = store.forget(user_id)
        typer.echo(f"forgot {user_id}: profile {'deleted' if deleted['profile_deleted'] else 'absent'}, "
                   f"{len(deleted['sessions_deleted'])} sessions, {deleted['feedback_deleted']} feedback events")

    @app.command()
    def export(user_id: str = typer.Argument(..., help="The user id, e.g. web:alice."),
               indent: int = typer.Option(2, help="JSON indentation (0: one line).")) -> None:
        """Print everything stored about a user as JSON: profile, sessions, feedback."""
        from chatrec.config import get_settings
        from chatrec.store import open_store

        with open_store(get_settings()) as store:
            data = store.export(user_id)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=indent or None))
