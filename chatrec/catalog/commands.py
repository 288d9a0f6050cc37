"""The exact command that builds a catalog's artefacts, for messages that ask for a build."""

from __future__ import annotations

import shlex
from pathlib import Path

from chatrec.catalog.models import Catalog


def catalog_spec(catalog: Catalog | str) -> str:
    """What ``--catalog`` takes for ``catalog``: a built-in name, or the file it was loaded from."""
    if isinstance(catalog, str):
        return catalog
    from chatrec.catalog.custom import SUFFIXES
    from chatrec.catalog.loader import BUILTIN

    if catalog.name in BUILTIN:
        return catalog.name
    # A custom catalog records the absolute path of its file; a subset of a built-in one only
    # the relative paths of the public data (no command builds it: its name is all there is).
    files = [path for path in catalog.sources
             if Path(path).is_absolute() and path.lower().endswith(tuple(SUFFIXES))]
    return files[0] if files else catalog.name


def build_command(catalog: Catalog | str, rebuild: bool = False) -> str:
    """E.g. "chatrec build --catalog redial", "chatrec build --catalog /x/products.jsonl --rebuild"."""
    command = f"chatrec build --catalog {shlex.quote(catalog_spec(catalog))}"
    return command + " --rebuild" if rebuild else command
