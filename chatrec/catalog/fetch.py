"""Find or download the public data, verified by sha256.

``ensure_data`` returns a data root with the ``shared/data`` layout:

- ``CHATREC_DATA_DIR`` set: that folder, after checking the sha256 of every file asked for. A
  verified file is remembered by (path, size, mtime) in ``cache_dir/file-hashes.json`` so the next
  run does not hash it again.
- otherwise: ``CHATREC_HOME/data``, downloading what is missing from the pinned URLs
  (``chatrec.catalog.sources``). A download streams into a temporary file next to its destination
  and is renamed into place only once its sha256 matches, so an interrupted or corrupted download
  leaves nothing behind. MovieLens comes as one zip; its CSVs are verified after unzipping.

With neither data nor network the error is one line saying what to do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel

from chatrec.catalog.atomic import atomic_write
from chatrec.catalog.sources import REDIAL_TO_MOVIELENS, DataFile, select
from chatrec.config import Settings
from chatrec.errors import ChecksumError, DataUnavailableError

logger = logging.getLogger(__name__)

CHUNK = 1 << 16
CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 30.0
WHAT_TO_DO = ("set CHATREC_DATA_DIR to a folder holding the chatrec data (layout of shared/data), "
              "or connect to the internet and rerun `chatrec build`")

Status = Literal["ok", "downloaded", "missing", "bad checksum"]


class FileStatus(BaseModel):
    """What ``fetch_data`` found or did for one file.

    Attributes:
        path: data-layout path.
        status: ok (present and verified), downloaded, missing, bad checksum.
        size: bytes on disk (0 when absent).
        sha256: the checksum on disk ("" when absent).
    """

    path: str
    status: Status
    size: int = 0
    sha256: str = ""


class DataReport(BaseModel):
    """Result of ``fetch_data``: the data root and one status per file asked for.

    Attributes:
        root: the folder with the shared/data layout.
        mode: "data_dir" (CHATREC_DATA_DIR) or "downloads" (CHATREC_HOME/data).
        files: per-file statuses, in ``sources.FILES`` order.
    """

    root: Path
    mode: Literal["data_dir", "downloads"]
    files: list[FileStatus]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------- hashing with a stamp cache
class HashCache:
    """sha256 of files, remembered by (absolute path, size, mtime_ns) in a small JSON file.

    Args:
        path: the JSON file (under ``Settings.cache_dir``).
    """

    def __init__(self, path: Path):
        self.path = path
        self._dirty = False
        try:
            self._stamps: dict[str, list] = json.loads(path.read_text())
        except (OSError, ValueError):
            self._stamps = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> HashCache:
        return cls(settings.cache_dir / "file-hashes.json")

    def sha256(self, file: Path) -> str:
        """The file's sha256, hashing it only when its size or mtime changed."""
        stat = file.stat()
        key = str(file.resolve())
        stamp = self._stamps.get(key)
        if stamp and stamp[0] == stat.st_size and stamp[1] == stat.st_mtime_ns:
            return stamp[2]
        digest = sha256_file(file)
        self._stamps[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if not self._dirty:
            return
        try:
            with atomic_write(self.path, "w", encoding="utf-8") as handle:
                json.dump(self._stamps, handle)
            self._dirty = False
        except OSError as exc:  # a read-only home only costs a rehash next time
            logger.warning("could not save file hashes to %s: %s", self.path, exc)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- public entry points
def ensure_data(settings: Settings, needed: Iterable[str] | None = None, progress: bool = True,
                base_urls: Mapping[str, str] | None = None) -> Path:
    """A data root with the shared/data layout holding every file of ``needed``, verified.

    Args:
        settings: ``data_dir`` (use it) or ``downloads_dir`` (download into it).
        needed: data-layout paths or folder prefixes (see ``sources.select``); ``None`` = all.
        progress: show a progress bar per download.
        base_urls: host → base URL overrides (a mirror, a test server).

    Raises:
        DataUnavailableError: files missing from ``CHATREC_DATA_DIR``, or not downloadable.
        ChecksumError: a file does not match its pinned sha256 (a bad download is removed).
    """
    return fetch_data(settings, needed, progress=progress, base_urls=base_urls).root


def fetch_data(settings: Settings, needed: Iterable[str] | None = None, progress: bool = True,
               base_urls: Mapping[str, str] | None = None, download: bool = True) -> DataReport:
    """Like ``ensure_data`` but returns a per-file report (``chatrec data`` prints it). With
    ``download=False`` nothing is fetched or raised: missing and bad files are only reported."""
    files = select(needed)
    hashes = HashCache.for_settings(settings)
    try:
        if settings.data_dir is not None:
            report = _verify_data_dir(settings.data_dir, files, hashes, strict=download)
        else:
            report = _fill_downloads(settings.downloads_dir, files, hashes, progress, base_urls,
                                     download)
    finally:
        hashes.save()
    return report


def _verify_data_dir(root: Path, files: list[DataFile], hashes: HashCache,
                     strict: bool) -> DataReport:
    statuses = [_check(root, f, hashes) for f in files]
    if strict:
        missing = [s.path for s in statuses if s.status == "missing"]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise DataUnavailableError(
                f"CHATREC_DATA_DIR={root} has no {missing[0]}{more}: point it at a complete copy "
                "of the chatrec data (layout of shared/data), or unset it so that `chatrec build` "
                "downloads the files")
        bad = next((s for s in statuses if s.status == "bad checksum"), None)
        if bad is not None:
            expected = next(f.sha256 for f in files if f.path == bad.path)
            raise ChecksumError(
                f"{root / bad.path} has sha256 {bad.sha256[:12]}…, expected {expected[:12]}…: "
                "restore the original file, or unset CHATREC_DATA_DIR so that `chatrec build` "
                "downloads it")
    return DataReport(root=root, mode="data_dir", files=statuses)


def _check(root: Path, file: DataFile, hashes: HashCache) -> FileStatus:
    target = root / file.path
    if not target.is_file():
        return FileStatus(path=file.path, status="missing")
    digest = hashes.sha256(target)
    status: Status = "ok" if digest == file.sha256 else "bad checksum"
    return FileStatus(path=file.path, status=status, size=target.stat().st_size, sha256=digest)


def _fill_downloads(root: Path, files: list[DataFile], hashes: HashCache, progress: bool,
                    base_urls: Mapping[str, str] | None, download: bool) -> DataReport:
    statuses = {f.path: _check(root, f, hashes) for f in files}
    todo = [f for f in files if statuses[f.path].status != "ok"]
    if todo and download:
        root.mkdir(parents=True, exist_ok=True)
        for file in todo:
            if statuses[file.path].status == "bad checksum":
                logger.warning("%s does not match its sha256; downloading it again", file.path)
                (root / file.path).unlink(missing_ok=True)
        # One request per URL: the MovieLens zip serves several files.
        by_url: dict[str, list[DataFile]] = {}
        for file in todo:
            by_url.setdefault(file.url(base_urls), []).append(file)
        for url, group in by_url.items():
            _download(url, group, root, progress)
            for file in group:
                statuses[file.path] = _check(root, file, hashes).model_copy(
                    update={"status": "downloaded"})
    if download and all(p in statuses and statuses[p].status in ("ok", "downloaded")
                        for p in REDIAL_TO_MOVIELENS.inputs):
        derived = root / REDIAL_TO_MOVIELENS.path
        if not derived.exists() or todo:
            from chatrec.catalog.redial_map import write_redial_map

            write_redial_map(root)
    return DataReport(root=root, mode="downloads", files=[statuses[f.path] for f in files])


# ---------------------------------------------------------------- downloading
def _download(url: str, files: list[DataFile], root: Path, progress: bool) -> None:
    """Fetch ``url`` and install ``files`` from it (the body itself, or members of a zip)."""
    archive = files[0].member is not None
    first = root / files[0].path
    first.parent.mkdir(parents=True, exist_ok=True)
    with _temp_file(first.parent) as (handle, tmp):
        digest = _stream(url, handle, progress, label=Path(files[0].remote).name)
        handle.close()
        if not archive:
            _install(tmp, digest, root, files[0], source=url)
            return
        try:
            with zipfile.ZipFile(tmp) as zipped:
                for file in files:
                    _extract(zipped, file, root, url)
        except zipfile.BadZipFile as exc:
            raise ChecksumError(f"{url} is not a valid zip archive ({_one_line(exc)}); nothing was "
                                "kept: rerun `chatrec build`, or " + WHAT_TO_DO) from exc


def _stream(url: str, handle: IO[bytes], progress: bool, label: str) -> str:
    """Stream ``url`` into ``handle``; returns the body's sha256. Network failures become one-line
    ``DataUnavailableError``s."""
    import httpx  # only when downloading: the import costs ~0.1 s on every catalog load

    digest = hashlib.sha256()
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise DataUnavailableError(
                    f"{url} answered HTTP {response.status_code}; " + WHAT_TO_DO)
            total = int(response.headers.get("content-length") or 0) or None
            with _progress_bar(label, total, progress) as advance:
                for chunk in response.iter_bytes(CHUNK):
                    handle.write(chunk)
                    digest.update(chunk)
                    advance(len(chunk))
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
        raise DataUnavailableError(
            f"cannot download {url} ({_one_line(exc) or type(exc).__name__}); " + WHAT_TO_DO) from exc
    except httpx.HTTPError as exc:
        raise DataUnavailableError(
            f"download of {url} was interrupted ({_one_line(exc) or type(exc).__name__}); nothing was "
            "kept: rerun `chatrec build` to try again, or " + WHAT_TO_DO) from exc
    return digest.hexdigest()


def _extract(zipped: zipfile.ZipFile, file: DataFile, root: Path, url: str) -> None:
    assert file.member is not None
    try:
        info = zipped.getinfo(file.member)
    except KeyError as exc:
        raise ChecksumError(f"{url} has no {file.member}: the archive changed upstream; "
                            + WHAT_TO_DO) from exc
    target = root / file.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temp_file(target.parent) as (handle, tmp):
        digest = hashlib.sha256()
        with zipped.open(info) as member:
            for block in iter(lambda: member.read(CHUNK), b""):
                handle.write(block)
                digest.update(block)
        handle.close()
        _install(tmp, digest.hexdigest(), root, file, source=f"{url}:{file.member}")


def _install(tmp: Path, digest: str, root: Path, file: DataFile, source: str) -> None:
    """Rename ``tmp`` into place if its checksum is the pinned one; else raise (the caller's
    ``_temp_file`` removes it)."""
    if digest != file.sha256:
        raise ChecksumError(
            f"{source} has sha256 {digest[:12]}…, expected {file.sha256[:12]}…; the file was "
            "removed: rerun `chatrec build`, and if this persists the source changed or the "
            "download is being altered")
    os.replace(tmp, root / file.path)
    logger.info("installed %s", file.path)


@contextmanager
def _temp_file(folder: Path) -> Iterator[tuple[IO[bytes], Path]]:
    """A temporary file in ``folder`` that is deleted unless renamed away."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
    tmp = Path(name)
    handle = os.fdopen(fd, "wb")
    try:
        yield handle, tmp
    finally:
        handle.close()
        tmp.unlink(missing_ok=True)


@contextmanager
def _progress_bar(label: str, total: int | None, enabled: bool):
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
