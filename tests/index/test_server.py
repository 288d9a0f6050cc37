"""The same index code against a Chroma server (``CHATREC_CHROMA_URL``), on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from chatrec.catalog.constraints import ItemFilter
from chatrec.config import get_settings
from chatrec.errors import IndexMissingError
from chatrec.index import ItemIndex
from chatrec.testing.small_index import embedding_cache

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("data_dir")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def chroma_server(tmp_path):
    """`chroma run` on a free loopback port; stopped (by its own pid) at the end."""
    chroma = shutil.which("chroma")
    if chroma is None:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "db"), "--host",
                               "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_index_on_a_chroma_server(chroma_server, tmp_path, monkeypatch, tiny_movies, embedder,
                                  index_cache_root):
    monkeypatch.setenv("CHATREC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CHATREC_CHROMA_URL", chroma_server)
    get_settings.cache_clear()
    settings = get_settings()
    cache = embedding_cache(settings, embedder, index_cache_root)
    with pytest.raises(IndexMissingError):
        ItemIndex.open(tiny_movies, settings, embedder=embedder)
    index = ItemIndex.build(tiny_movies, settings, embedder=embedder, progress=False, cache=cache)
    assert index.count() == len(tiny_movies)
    flt = ItemFilter(year_min=1990)
    hits = index.query("a love story", k=5, flt=flt)
    assert hits and all(tiny_movies[i].year >= 1990 for i, _ in hits)
    # An atomic rebuild swaps the collection: one collection remains, under its own name.
    rebuilt = ItemIndex.build(tiny_movies, settings, embedder=embedder, rebuild=True,
                              progress=False, cache=cache)
    names = [c.name for c in rebuilt._client.list_collections()]
    assert names == ["chatrec-tiny"]
    reopened = ItemIndex.open(tiny_movies, settings, embedder=embedder)
    assert reopened.query("a love story", k=5, flt=flt) == hits


class _TokenProxy:
    """An authenticating proxy in front of a Chroma server, as docs/security.md tells operators
    to run one: requests without ``Authorization: Bearer <token>`` get 401 and never reach it."""

    def __init__(self, upstream: str, token: str):
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        target = urlsplit(upstream)
        proxy = self
        self.refused = 0
        self.forwarded = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("authorization") != f"Bearer {token}":
                    proxy.refused += 1
                    answer, status, headers = b'{"error":"Unauthorized"}', 401, {}
                else:
                    proxy.forwarded += 1
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    sent = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body or None, headers=sent)
                    reply = conn.getresponse()
                    answer, status = reply.read(), reply.status
                    headers = {k: v for k, v in reply.getheaders()
                               if k.lower() not in ("transfer-encoding", "connection", "content-length")}
                    conn.close()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def test_a_chroma_server_behind_an_authenticating_proxy(chroma_server, tmp_path, monkeypatch, tiny_movies,
                                                        embedder, index_cache_root):
    from chatrec.errors import VectorIndexError

    token = "chroma-proxy-token-0123456789"
    with _TokenProxy(chroma_server, token) as proxy:
        monkeypatch.setenv("CHATREC_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("CHATREC_CHROMA_URL", proxy.url)
        get_settings.cache_clear()
        with pytest.raises(VectorIndexError) as refused:
            ItemIndex.build(tiny_movies, get_settings(), embedder=embedder, progress=False)
        assert "\n" not in str(refused.value) and proxy.forwarded == 0 and proxy.refused >= 1

        monkeypatch.setenv("CHATREC_CHROMA_TOKEN", token)
        get_settings.cache_clear()
        settings = get_settings()
        cache = embedding_cache(settings, embedder, index_cache_root)
        index = ItemIndex.build(tiny_movies, settings, embedder=embedder, progress=False, cache=cache)
        assert index.count() == len(tiny_movies) and len(index.query("a love story", k=5)) == 5
        assert proxy.forwarded > 0
