"""Downloading and verifying the public data, against a real loopback HTTP server that mirrors
the pinned URLs (GroupLens zip built on the fly from the shared CSVs, GitHub raw files)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chatrec.catalog import sources
from chatrec.catalog.fetch import HashCache, ensure_data, fetch_data
from chatrec.config import Settings
from chatrec.errors import ChecksumError, DataUnavailableError

Route = Callable[[], bytes]


class Mirror:
    """A loopback server for the pinned URLs. ``routes`` maps URL paths to byte producers;
    ``truncate`` holds paths whose connection is dropped halfway through the body."""

    def __init__(self, data_dir: Path):
        self.routes: dict[str, Route] = {}
        self.truncate: set[str] = set()
        self.requests: list[str] = []
        for file in sources.FILES:
            if file.host == "github":
                self.routes[f"/gh/{file.remote}"] = (lambda p=data_dir / file.path: p.read_bytes())
        self.routes["/gl/ml-latest-small.zip"] = lambda: movielens_zip(data_dir)
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                mirror.requests.append(self.path)
                route = mirror.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                body = route()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in mirror.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        port = self.server.server_address[1]
        self.base_urls = {"grouplens": f"http://127.0.0.1:{port}/gl",
                          "github": f"http://127.0.0.1:{port}/gh"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def movielens_zip(data_dir: Path, replace: dict[str, bytes] | None = None) -> bytes:
    """ml-latest-small.zip as GroupLens serves it, built from the shared CSVs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in sources.FILES:
            if file.member:
                data = (replace or {}).get(file.member) or (data_dir / file.path).read_bytes()
                zipped.writestr(file.member, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mirror(data_dir) -> Iterator[Mirror]:
    server = Mirror(data_dir)
    yield server
    server.close()


@pytest.fixture
def fresh(mirror, tmp_path) -> Iterator[tuple[Settings, Mirror]]:
    """Settings with no data dir and an empty home; the mirror's routes restored afterwards."""
    saved = dict(mirror.routes)
    mirror.truncate.clear()
    mirror.requests.clear()
    yield Settings(home=tmp_path / "home", data_dir=None), mirror
    mirror.routes.clear()
    mirror.routes.update(saved)
    mirror.truncate.clear()


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".download-")]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_full_download_verifies_every_file(fresh, data_dir):
    settings, mirror = fresh
    root = ensure_data(settings, progress=False, base_urls=mirror.base_urls)
    assert root == settings.downloads_dir
    for file in sources.FILES:
        assert _sha(root / file.path) == file.sha256, file.path
    # One request for the MovieLens zip (five files), one per GitHub file.
    assert mirror.requests.count("/gl/ml-latest-small.zip") == 1
    assert len(mirror.requests) == 1 + sum(f.host == "github" for f in sources.FILES)
    # The derived table is regenerated locally, never downloaded.
    derived = root / sources.REDIAL_TO_MOVIELENS.path
    assert derived.is_file() and not any("redial_to_movielens" in r for r in mirror.requests)
    assert _leftovers(root) == [] and not list(root.rglob("*.zip"))
    # Second run: everything verified from the stamps, nothing fetched.
    mirror.requests.clear()
    report = fetch_data(settings, progress=False, base_urls=mirror.base_urls)
    assert mirror.requests == [] and {s.status for s in report.files} == {"ok"}


def test_interrupted_download_leaves_no_partial_file(fresh):
    settings, mirror = fresh
    facts = sources.FILES_BY_PATH["redial/ievalm/id2info.json"]
    mirror.truncate.add(f"/gh/{facts.remote}")
    with pytest.raises(DataUnavailableError) as caught:
        ensure_data(settings, ["redial/ievalm/id2info.json"], progress=False,
                    base_urls=mirror.base_urls)
    message = str(caught.value)
    assert "interrupted" in message and "\n" not in message and "chatrec build" in message
    root = settings.downloads_dir
    assert not (root / facts.path).exists() and _leftovers(root) == []


def test_corrupted_file_raises_checksum_error_and_is_removed(fresh, data_dir):
    settings, mirror = fresh
    names = sources.FILES_BY_PATH["redial/original/movies_with_mentions.csv"]
    good = (data_dir / names.path).read_bytes()
    mirror.routes[f"/gh/{names.remote}"] = lambda: good.replace(b"Headhunter", b"Headhuntex")
    with pytest.raises(ChecksumError, match="sha256"):
        ensure_data(settings, [names.path], progress=False, base_urls=mirror.base_urls)
    assert not (settings.downloads_dir / names.path).exists()
    assert _leftovers(settings.downloads_dir) == []


def test_corrupted_zip_member_is_caught_after_unzipping(fresh, data_dir):
    settings, mirror = fresh
    ratings = (data_dir / "movielens/ml-latest-small/ratings.csv").read_bytes()
    bad = movielens_zip(data_dir, {"ml-latest-small/ratings.csv": ratings[:-10] + b"0000000000"})
    mirror.routes["/gl/ml-latest-small.zip"] = lambda: bad
    with pytest.raises(ChecksumError, match="ratings.csv"):
        ensure_data(settings, ["movielens/ml-latest-small/ratings.csv"], progress=False,
                    base_urls=mirror.base_urls)
    folder = settings.downloads_dir / "movielens/ml-latest-small"
    assert not (folder / "ratings.csv").exists()
    assert _leftovers(settings.downloads_dir) == [] and not list(folder.glob("*.zip"))


def test_a_truncated_zip_is_rejected(fresh, data_dir):
    settings, mirror = fresh
    whole = movielens_zip(data_dir)
    mirror.routes["/gl/ml-latest-small.zip"] = lambda: whole[: len(whole) // 3]
    with pytest.raises(ChecksumError, match="not a valid zip"):
        ensure_data(settings, ["movielens/"], progress=False, base_urls=mirror.base_urls)
    assert [p for p in settings.downloads_dir.rglob("*") if p.is_file()] == []


def test_no_network_gives_one_line_saying_what_to_do(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(home=tmp_path / "home", data_dir=None)
    dead = {"grouplens": f"http://127.0.0.1:{port}", "github": f"http://127.0.0.1:{port}"}
    with pytest.raises(DataUnavailableError) as caught:
        ensure_data(settings, ["movielens/"], progress=False, base_urls=dead)
    message = str(caught.value)
    assert "\n" not in message
    assert "CHATREC_DATA_DIR" in message and "rerun `chatrec build`" in message
    assert [p for p in settings.downloads_dir.rglob("*") if p.is_file()] == []


def test_http_error_is_reported(fresh):
    settings, mirror = fresh
    names = sources.FILES_BY_PATH["redial/original/datasheet.md"]
    del mirror.routes[f"/gh/{names.remote}"]
    with pytest.raises(DataUnavailableError, match="HTTP 404"):
        ensure_data(settings, [names.path], progress=False, base_urls=mirror.base_urls)


def test_a_damaged_local_copy_is_downloaded_again(fresh):
    settings, mirror = fresh
    path = "redial/original/datasheet.md"
    root = ensure_data(settings, [path], progress=False, base_urls=mirror.base_urls)
    (root / path).write_text("tampered")
    mirror.requests.clear()
    ensure_data(settings, [path], progress=False, base_urls=mirror.base_urls)
    assert len(mirror.requests) == 1
    assert _sha(root / path) == sources.FILES_BY_PATH[path].sha256


# ---------------------------------------------------------------- CHATREC_DATA_DIR
def _copy_data(data_dir: Path, dest: Path, paths: list[str]) -> Path:
    for path in paths:
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(data_dir / path, dest / path)
    return dest


def test_data_dir_is_used_and_verified(data_dir, tmp_path):
    settings = Settings(home=tmp_path / "home", data_dir=data_dir)
    assert ensure_data(settings, ["redial/ievalm/"], progress=False) == data_dir
    stamps = HashCache.for_settings(settings)
    assert stamps.path.is_file()
    assert str((data_dir / "redial/ievalm/kg.json").resolve()) in stamps._stamps


def test_data_dir_missing_file_is_one_actionable_line(data_dir, tmp_path):
    copy = _copy_data(data_dir, tmp_path / "data", ["redial/ievalm/kg.json"])
    settings = Settings(home=tmp_path / "home", data_dir=copy)
    with pytest.raises(DataUnavailableError) as caught:
        ensure_data(settings, ["redial/ievalm/"], progress=False)
    message = str(caught.value)
    assert "\n" not in message and "CHATREC_DATA_DIR" in message
    assert "redial/ievalm/id2info.json" in message and "more" in message


def test_data_dir_checksum_is_cached_by_size_and_mtime(data_dir, tmp_path):
    path = "redial/original/datasheet.md"
    copy = _copy_data(data_dir, tmp_path / "data", [path])
    settings = Settings(home=tmp_path / "home", data_dir=copy)
    ensure_data(settings, [path], progress=False)
    target = copy / path
    stat = target.stat()
    # Same size and mtime: trusted from the stamp, not rehashed (that is the point of stamps).
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    ensure_data(settings, [path], progress=False)
    # Any change of mtime makes it hash again, and the damage is found (the file is the user's:
    # it is reported, not deleted).
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ChecksumError, match="restore the original"):
        ensure_data(settings, [path], progress=False)
    assert target.exists()


def test_check_only_reports_without_downloading(tmp_path):
    settings = Settings(home=tmp_path / "home", data_dir=None)
    report = fetch_data(settings, ["movielens/"], progress=False, download=False)
    assert {s.status for s in report.files} == {"missing"}
    assert not settings.downloads_dir.exists() or not any(settings.downloads_dir.rglob("*.csv"))
