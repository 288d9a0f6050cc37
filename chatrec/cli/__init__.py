"""The ``chatrec`` command. Each sub-command lives in its own module and registers on ``app``;
library errors (``ChatrecError``) become one clear line and a non-zero exit code."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer
from rich.console import Console

from chatrec.errors import ChatrecError

app = typer.Typer(
    name="chatrec",
    help="chatrec: a conversational recommender grounded in a catalog and a knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)

# Modules that add commands to ``app`` (each defines ``register(app)``). Missing modules are
# skipped so that a partial checkout still runs the commands it has.
COMMAND_MODULES = (
    "chatrec.cli.build",
    "chatrec.cli.chat",
    "chatrec.cli.bench",
    "chatrec.cli.serve",
    "chatrec.cli.slack",
    "chatrec.cli.eval",
    "chatrec.cli.augment",
    "chatrec.cli.users",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


@app.callback()
def _root() -> None:
    """chatrec: a conversational recommender grounded in a catalog and a knowledge graph."""


@app.command()
def version() -> None:
    """Print chatrec's version."""
    from chatrec import __version__

    typer.echo(__version__)


_register_all()


def _pin_hash_seed_for_evaluations() -> None:
    """Run ``chatrec eval …`` again under PYTHONHASHSEED=0 unless a seed is set: the agent breaks
    ties in set order, which follows string hashing, so two runs of one evaluation differed
    (seeker replay success@5 0.354 vs 0.352) and only a fixed seed makes a rerun give the same
    numbers."""
    if sys.argv[1:2] == ["eval"] and "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "chatrec", *sys.argv[1:]])


def main() -> None:
    _pin_hash_seed_for_evaluations()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ChatrecError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
