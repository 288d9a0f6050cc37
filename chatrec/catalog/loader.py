"""``load_catalog``: one call for any catalog, cached on disk.

The parsed catalog is pickled under ``Settings.cache_dir/catalogs``, keyed by the sha256 of its
input files, ``LOADER_VERSION`` and a fingerprint of the catalog code, so a second load skips the
CSV/JSON parsing and a change of data or code rebuilds it by itself.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import pickle
import shutil
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from chatrec.catalog.atomic import atomic_write
from chatrec.catalog.custom import SUFFIXES, count_records, find_interactions, load_custom, stream_custom
from chatrec.catalog.fetch import HashCache, ensure_data
from chatrec.catalog.models import Catalog, Interactions
from chatrec.catalog.movielens import load_movielens
from chatrec.catalog.redial import load_redial
from chatrec.catalog.sources import FILES_BY_PATH, MOVIELENS_INPUTS, REDIAL_INPUTS
from chatrec.config import Settings, get_settings
from chatrec.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bump when a loader's output changes in a way the code fingerprint would not catch.
LOADER_VERSION = 1
BUILTIN = {"movielens": (load_movielens, MOVIELENS_INPUTS), "redial": (load_redial, REDIAL_INPUTS)}
# (The columnar layout is versioned by ``columnar.COLUMNAR_VERSION``, checked when a folder opens.)
_CODE_FILES = ("custom.py", "enrich.py", "genres.py", "models.py", "movielens.py", "normalize.py",
               "raw.py", "redial.py", "redial_map.py", "redial_merge.py", "loader.py")


def load_catalog(spec: str = "movielens", settings: Settings | None = None, progress: bool = False,
                 rebuild: bool = False) -> Catalog:
    """Load a catalog by name or path, from the disk cache when it is current.

    Args:
        spec: "movielens", "redial", or the path of a ``.jsonl``/``.csv`` catalog (see
            ``docs/custom-catalog.md``).
        settings: where the data and the cache live; default ``get_settings()``.
        progress: show download progress when data must be fetched.
        rebuild: ignore (and overwrite) the cached catalog.

    Raises:
        ConfigError: ``spec`` is neither a known catalog nor an existing .jsonl/.csv file.
        DataUnavailableError, ChecksumError: the public data cannot be found or verified.
        CatalogFormatError: a custom catalog file is malformed.
    """
    settings = settings or get_settings()
    name, sources, build = _resolve(spec, settings, progress)
    key = _cache_key(name, sources)
    large = _large_custom(spec, settings)
    if large is not None:
        return _columnar(large, name, key, sources, settings, rebuild)
    cache_file = settings.cache_dir / "catalogs" / f"{_safe(name)}-{key}.pkl"
    if not rebuild:
        cached = _read_cache(cache_file)
        if cached is not None:
            return cached
    started = time.perf_counter()
    catalog = build()
    logger.info("parsed catalog %s (%d items) in %.2f s", name, len(catalog),
                time.perf_counter() - started)
    _write_cache(cache_file, catalog)
    return catalog


def _resolve(spec: str, settings: Settings, progress: bool
             ) -> tuple[str, dict[str, str], Callable[[], Catalog]]:
    """(catalog name, input → sha256, builder) for a spec."""
    builtin = BUILTIN.get(spec.strip().lower())
    if builtin is not None:
        loader, inputs = builtin
        root = ensure_data(settings, needed=inputs, progress=progress)
        # ensure_data verified each input against its pinned checksum.
        sources = {path: FILES_BY_PATH[path].sha256 for path in inputs}
        return spec.strip().lower(), sources, lambda: loader(root, sources)

    path = Path(spec).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"unknown catalog {spec!r}: use movielens, redial, or the path of a "
                          ".jsonl or .csv catalog file")
    if not path.is_file():
        raise ConfigError(f"catalog file {path} does not exist (CHATREC_CATALOG / --catalog)")
    path = path.resolve()
    hashes = HashCache.for_settings(settings)
    interactions = find_interactions(path)
    sources = {str(path): hashes.sha256(path)}
    if interactions is not None:
        sources[str(interactions)] = hashes.sha256(interactions)
    hashes.save()
    return path.stem, sources, lambda: load_custom(path, interactions, sources)


def _large_custom(spec: str, settings: Settings) -> Path | None:
    """The file of a custom catalog large enough to be kept as columns, else None."""
    if spec.strip().lower() in BUILTIN:
        return None
    path = Path(spec).expanduser().resolve()
    return path if count_records(path) >= settings.columnar_min_items else None


def _columnar(path: Path, name: str, key: str, sources: dict[str, str], settings: Settings,
              rebuild: bool) -> Catalog:
    """A large custom catalog as memory-mapped columns, built once under the cache (streamed:
    the items are never all in memory) and opened by every later load in milliseconds."""
    from chatrec.catalog.columnar import ColumnarCatalog, build_columnar

    folder = settings.cache_dir / "catalogs" / f"{_safe(name)}-{key}.columns"
    if not rebuild and ColumnarCatalog.is_columnar(folder):
        try:
            return ColumnarCatalog(folder)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("rebuilding the unreadable columnar catalog %s (%s)", folder, exc)
    started = time.perf_counter()
    items, interactions = stream_custom(path)
    build_columnar(items, folder, name, sources, interactions)
    logger.info("built columnar catalog %s in %.1f s", folder, time.perf_counter() - started)
    for stale in folder.parent.glob(f"{_safe(name)}-*.columns"):
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    return ColumnarCatalog(folder)


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(name: str, sources: dict[str, str]) -> str:
    blob = json.dumps({"version": LOADER_VERSION, "code": _code_fingerprint(), "name": name,
                       "sources": sources}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]


def _read_cache(path: Path) -> Catalog | None:
    # Unpickling ~10k models allocates ~1M small objects; the cyclic GC would rescan them many
    # times over (4x slower measured), and nothing here creates garbage cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as handle:
            payload = pickle.load(handle)
        if payload.get("version") != LOADER_VERSION:
            return None
        frame = payload["interactions"]
        return Catalog(payload["name"], payload["items"],
                       Interactions(frame) if frame is not None else None, payload["sources"],
                       payload.get("id_aliases"))
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged cache is only a cache: rebuild it
        logger.warning("ignoring unreadable catalog cache %s (%s)", path, exc)
        return None
    finally:
        if gc_was_enabled:
            gc.enable()


def _write_cache(path: Path, catalog: Catalog) -> None:
    frame = None
    if catalog.interactions is not None:
        # Categorical ids pickle as codes: 200k id strings would cost more than the items.
        frame = catalog.interactions.frame.astype({"user_id": "category", "item_id": "category"})
    payload = {
        "version": LOADER_VERSION, "name": catalog.name, "items": list(catalog),
        "interactions": frame,
        "sources": catalog.sources, "id_aliases": catalog.id_aliases,
    }
    try:
        with atomic_write(path) as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
        # Older versions of the same catalog are dead weight.
        for stale in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.pkl"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("could not cache catalog at %s: %s", path, exc)
