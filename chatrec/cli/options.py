"""Command-line options that several ``chatrec`` commands share, declared once."""

from __future__ import annotations

from typing import Any

import typer

CATALOG_HELP = "movielens, redial, or a .jsonl/.csv file (default CHATREC_CATALOG)."


def catalog_option(*short: str) -> Any:
    """``--catalog`` (plus short flags such as ``"-c"``): which catalog a command works on."""
    return typer.Option(None, "--catalog", *short, help=CATALOG_HELP)
