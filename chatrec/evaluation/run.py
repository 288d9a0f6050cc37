"""One evaluation run on disk: its configuration, per-unit checkpoints (so an interrupted run
resumes where it stopped), provenance (git commit, data checksums, package versions) and timings.

Layout of an ``--out`` directory::

    config.json               the run's configuration (a rerun with another config is refused)
    checkpoints/<name>.jsonl  one JSON line per finished unit (user, dialogue, turn)
    results.json              metrics + config + provenance + timings
    report.md, *.png          the human report and its plots
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from chatrec.errors import ConfigError

logger = logging.getLogger(__name__)

#: Config keys that may change between a run and its resumption (they select how much of the
#: same work is done, or where it is shown, not what the work is).
RESUME_NEUTRAL = frozenset({"limit", "out", "progress", "fresh"})
REPO_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = (
    "chatrec",
    "numpy",
    "scipy",
    "pandas",
    "chromadb",
    "implicit",
    "scikit-learn",
    "networkx",
)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class RunDir:
    """An output directory for one evaluation command.

    Args:
        out: the directory (created when missing).
        command: "sim", "redial", "offline", "explain".
        config: everything that determines the results (seed, users, k, paths, ...).
        fresh: discard earlier checkpoints instead of resuming them.

    Raises:
        ConfigError: ``out`` holds a run of another command or configuration (resuming it would
            mix two experiments); pass ``fresh`` or another ``out``.
    """

    def __init__(self, out: Path, command: str, config: dict[str, Any], fresh: bool = False):
        self.out = Path(out)
        self.command = command
        self.config = _jsonable(config)
        self.started = time.time()
        # The code that runs is the code of the moment the run starts (edits made while it runs
        # do not change the loaded modules): record that state, not the one at the end.
        self.git = git_state()
        self.timings: dict[str, float] = {}
        self.out.mkdir(parents=True, exist_ok=True)
        self.checkpoint_dir = self.out / "checkpoints"
        config_file = self.out / "config.json"
        if fresh and self.checkpoint_dir.exists():
            for file in self.checkpoint_dir.glob("*.jsonl"):
                file.unlink()
        elif config_file.exists():
            old = json.loads(config_file.read_text(encoding="utf-8"))
            if old.get("command") != command or _essential(old.get("config", {})) != _essential(
                self.config
            ):
                raise ConfigError(
                    f"{self.out} holds a `{old.get('command')}` run with another configuration; "
                    "use another --out, or --fresh to discard it"
                )
        self.checkpoint_dir.mkdir(exist_ok=True)
        config_file.write_text(
            json.dumps({"command": command, "config": self.config}, indent=2), encoding="utf-8"
        )

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint(self, name: str) -> Path:
        return self.checkpoint_dir / f"{name}.jsonl"

    def done(self, name: str = "units") -> dict[str, dict]:
        """Finished units of a checkpoint file: key → record. A half-written last line (the run
        was killed while writing it) is ignored, so that unit is simply redone."""
        return read_checkpoint(self._checkpoint(name))

    def record(self, key: str, record: dict, name: str = "units") -> None:
        """Append one finished unit (flushed and fsynced: a crash loses at most this unit)."""
        line = json.dumps({"key": str(key), "record": _jsonable(record)}, ensure_ascii=False)
        with open(self._checkpoint(name), "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    # ------------------------------------------------------------------ timings
    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[label] = round(
                self.timings.get(label, 0.0) + time.perf_counter() - started, 3
            )

    # ------------------------------------------------------------------ outputs
    def path(self, name: str) -> Path:
        return self.out / name

    def write_results(self, metrics: dict[str, Any], provenance: dict[str, Any]) -> Path:
        """``results.json``: the metrics at the top level, then config, provenance and timings."""
        self.timings["total"] = round(time.time() - self.started, 3)
        results = dict(metrics)
        provenance = {**provenance, "git": self.git}
        results.update(
            {
                "command": self.command,
                "config": self.config,
                "provenance": provenance,
                "timings_s": self.timings,
            }
        )
        path = self.out / "results.json"
        tmp = path.with_suffix(".json.part")
        tmp.write_text(
            json.dumps(_jsonable(results), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        os.replace(tmp, path)
        return path

    def write_report(self, markdown: str) -> Path:
        path = self.out / "report.md"
        path.write_text(markdown, encoding="utf-8")
        return path


def read_checkpoint(path: Path) -> dict[str, dict]:
    """key → record of a checkpoint file (empty when missing; a truncated line is skipped)."""
    found: dict[str, dict] = {}
    if not Path(path).exists():
        return found
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("ignoring a truncated checkpoint line in %s", path)
                continue
            found[str(entry["key"])] = entry["record"]
    return found


def _essential(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in RESUME_NEUTRAL}


def git_state(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """The commit the code was run from and whether tracked files had local changes."""

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def file_checksums(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of each file (the dialogues a run read, for instance)."""
    from chatrec.catalog.fetch import sha256_file

    return {str(p): sha256_file(Path(p)) for p in paths}


def provenance(
    catalog=None, files: Iterable[Path] = (), extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything needed to say which code and which data produced a result."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    info: dict[str, Any] = {
        "git": git_state(),
        "python": platform.python_version(),
        # Set orders follow string hashing: runs compare only under one hash seed (`chatrec eval` pins 0).
        "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
        "platform": platform.platform(),
        "packages": versions,
        "files": file_checksums(files),
    }
    if catalog is not None:
        info["catalog"] = {
            "name": catalog.name,
            "items": len(catalog),
            "fingerprint": catalog.fingerprint(),
            "sources_sha256": dict(catalog.sources),
        }
        if catalog.interactions is not None:
            info["catalog"]["interactions"] = len(catalog.interactions)
            info["catalog"]["interactions_fingerprint"] = catalog.interactions.fingerprint()
    if extra:
        info.update(extra)
    return info


class LogTally(logging.Handler):
    """Counts the warnings of noisy loggers during a run instead of printing each one (thousands
    of "guard rejected a reply" lines would bury the progress bar); the counts go into the
    results, a few examples into the report.

    Args:
        names: logger names to capture ("chatrec.agent").
    """

    def __init__(self, names: tuple[str, ...] = ("chatrec.agent", "chatrec.llm", "kg")):
        super().__init__(logging.WARNING)
        self.names = names
        self.counts: dict[str, int] = {}
        self.examples: dict[str, str] = {}
        self._saved: list[tuple[logging.Logger, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.name}: {str(record.msg).split('%')[0].strip()[:60]}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self.examples.setdefault(key, record.getMessage()[:300])

    def __enter__(self) -> LogTally:
        for name in self.names:
            log = logging.getLogger(name)
            self._saved.append((log, log.propagate))
            log.addHandler(self)
            log.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        for log, propagate in self._saved:
            log.removeHandler(self)
            log.propagate = propagate
        self._saved.clear()

    def summary(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items(), key=lambda kv: -kv[1])),
            "examples": self.examples,
        }


def progress(iterable, total: int | None = None, description: str = "", enabled: bool = True):
    """A progress bar (tqdm on stderr) around ``iterable``; a plain iterator when disabled."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, unit="it", dynamic_ncols=True, leave=True)
