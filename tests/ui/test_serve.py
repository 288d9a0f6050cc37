"""``chatrec serve`` as a user runs it: a fresh install builds what is missing while the page is
already up, then the page and its API answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from chatrec.bench.serve import free_port
from chatrec.cli import app

FILMS = [
    {"id": "f1", "title": "<script>alert(1)</script> Night", "year": 1999, "genres": ["Horror"],
     "directors": ["Ann Dark"], "cast": ["Bo Fear"], "description": "A haunted house by the sea."},
    {"id": "f2", "title": "Fog Harbour", "year": 1998, "genres": ["Horror"], "directors": ["Ann Dark"],
     "description": "Sailors vanish in the fog."},
    {"id": "f3", "title": "Sunny Days", "year": 2005, "genres": ["Comedy"], "directors": ["Cy Bright"],
     "description": "Two friends open a lemonade stand."},
    {"id": "f4", "title": "Laugh Track", "year": 2007, "genres": ["Comedy"], "directors": ["Cy Bright"],
     "description": "A sitcom writer loses his jokes."},
    {"id": "f5", "title": "Deep Space Nine Lives", "year": 2012, "genres": ["Sci-Fi"],
     "directors": ["Dee Star"], "description": "A cat on a space station."},
    {"id": "f6", "title": "Cold Stars", "year": 2015, "genres": ["Sci-Fi", "Drama"],
     "directors": ["Dee Star"], "description": "An astronaut alone near Jupiter."},
]


def test_bad_auth_is_refused_before_anything_loads():
    result = CliRunner().invoke(app, ["serve", "--auth", "nopassword"])
    assert result.exit_code == 2 and "user:password" in result.output


@pytest.mark.slow
def test_fresh_install_serves_at_once_then_builds_and_answers(tmp_path):
    catalog = tmp_path / "films.jsonl"
    catalog.write_text("\n".join(json.dumps({**f, "kind": "movie"}) for f in FILMS) + "\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "CHATREC_HOME": str(tmp_path / "home")}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "chatrec", "serve", "--port", str(port),
                             "--catalog", str(catalog)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            assert proc.poll() is None, proc.stdout.read()
            assert time.perf_counter() - started < 120, "no page within 120 s"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        from gradio_client import Client

        client = Client(url, verbose=False)
        sid = client.predict(api_name="/new_session")
        deadline = time.perf_counter() + 300
        while True:   # while the index builds, /chat says so instead of failing
            try:
                reply = client.predict(sid, "a horror film by Ann Dark", "", api_name="/chat")
                break
            except Exception as exc:  # noqa: BLE001
                assert "getting ready" in str(exc), exc
                assert time.perf_counter() < deadline, "agent not ready within 300 s"
        titles = [r["title"] for r in reply["recommendations"]]
        # Both films that match come first; the others leave a constraint out, and the reply says so.
        assert set(titles[:2]) == {"<script>alert(1)</script> Night", "Fog Harbour"}, reply
        assert all("horror" in r["genres"] for r in reply["recommendations"][:2])
        assert all("horror" in r["genres"] for r in reply["recommendations"]) or "Only 2 films match" in reply["text"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "First start" in output and "chatrec is up at" in output, output
