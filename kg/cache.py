"""Disk cache helpers for the knowledge graph and the linker's lexicon.

Cache files live under ``settings.cache_dir / "kg"``, are written atomically (a reader never sees
half a file) and are keyed by the catalog fingerprint plus a hash of the code that builds them,
so a change of data *or* of code rebuilds by itself.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@cache
def code_hash(*modules: str) -> str:
    """A short hash of the source files of ``modules`` (names of files in this package)."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in modules:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:10]


def safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60]


@contextmanager
def _gc_paused():
    """Unpickling ~10^5 small objects triggers full collections that double the load time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_pickle(path: Path, state: Any) -> None:
    """Write ``state`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_pickle(path: Path) -> Any | None:
    """The cached object, or None when the file is absent or unreadable (then rebuilt)."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle, _gc_paused():
            state = pickle.load(handle)  # our own file under CHATREC_HOME
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
        logger.warning("cache %s unreadable (%s); rebuilding", path, exc)
        return None
    settle()
    return state


def settle() -> None:
    """Call after loading or building a big long-lived structure. Its ~10^6 objects live as long
    as the process; left young, the collector's next passes walk all of them during a user's
    message (measured: a 300-400 ms stall); frozen, it never looks at them again. Acyclic
    garbage is still freed by reference counting."""
    gc.freeze()
