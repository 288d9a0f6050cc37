"""The index folder's side files, written atomically and readable by everyone the umask allows
(an index may be shared: a team's home)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.catalog.atomic import atomic_write


def write_json(path: Path, payload: dict[str, Any]) -> None:
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
    readable(path)


def write_vectors(folder: Path, ids: Sequence[str], matrix: np.ndarray) -> None:
    """``vectors.npy`` (float32, row i ↔ ``ids[i]``) and ``ids.json`` in ``folder``."""
    with atomic_write(folder / "vectors.npy") as handle:
        np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
    with atomic_write(folder / "ids.json", "w", encoding="utf-8") as handle:
        json.dump(list(ids), handle)
    readable(folder / "vectors.npy", folder / "ids.json")


def readable(*paths: Path) -> None:
    """Temporary files are created private (0600); an index may be shared (a team's home),
    so give the finished files the permissions the umask allows, like any other file."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.chmod(0o666 & ~_UMASK)


def _current_umask() -> int:
    # Read once at import: os.umask can only be read by setting it, which is racy in threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
