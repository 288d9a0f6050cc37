"""Command-line options that several ``chatrec`` commands share, declared once."""

from __future__ import annotations

from typing import Any

import typer

CATALOG_HELP = "movielens, redial, or a .jsonl/.csv file (default CHATREC_CATALOG)."


def catalog_option(*short: str) -> Any:
    """``--catalog`` (plus short flags such as ``"-c"``): which catalog a command works on."""
    return typer.Option(None, "--catalog", *short, help=CATALOG_HELP)


#: Settings of a command that hands its arguments to a module's own ``main(argv)`` (argparse):
#: ``chatrec bench kg --help`` then shows that module's options.
PASS_THROUGH: dict[str, Any] = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True},
    "add_help_option": False,
}
