"""Two ``chatrec serve`` workers on two ports share one PostgreSQL store and one Chroma server; the
turns of one session alternate between them through the Gradio API, and each turn honours what
the other worker recorded (constraints, films already shown). Real servers, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from chatrec.testing.postgres import free_port
from tests.conftest import FILMS

pytestmark = pytest.mark.slow


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker exited"
        try:
            response = httpx.get(f"{url}/healthz", timeout=5)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} not healthy after {timeout} s")


def _films(reply: dict) -> list[dict]:
    return reply["recommendations"]


def test_turns_of_one_session_alternate_between_two_workers(tmp_path, postgres_url, chroma_server_url):
    env = {**os.environ, "CHATREC_HOME": str(tmp_path / "home"), "CHATREC_STORE_URL": postgres_url,
           "CHATREC_CHROMA_URL": chroma_server_url, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    build = subprocess.run([sys.executable, "-m", "chatrec", "build", "--catalog", str(FILMS)], env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    ports = [free_port(), free_port()]
    workers = [subprocess.Popen([sys.executable, "-m", "chatrec", "serve", "--catalog", str(FILMS), "--port", str(p),
                                 "--rate-limit", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True) for p in ports]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, worker in zip(urls, workers):
            health = _wait_healthy(url, worker)
            assert health["store"]["backend"] == "postgresql" and health["items"] == 48

        from gradio_client import Client

        # One visitor behind a load balancer: the same cookie reaches both workers (they share
        # CHATREC_HOME, so both accept the visitor cookie the first one signed).
        a = Client(urls[0], verbose=False)
        sid = a.predict(api_name="/new_session")
        assert "chatrec_visitor" in a.cookies
        b = Client(urls[1], verbose=False, httpx_kwargs={"cookies": dict(a.cookies)})
        first = a.predict(sid, "a 90s comedy, no horror", "", api_name="/chat")
        second = b.predict(sid, "something else", "", api_name="/chat")
        third = a.predict(sid, "more please", "", api_name="/chat")
        shown: set[str] = set()
        for reply in (first, second, third):
            assert reply["session_id"] == sid
            # The films fixture has 8 such films: once they run out, a reply relaxes a constraint, says
            # so, and shows the films that keep every constraint first.
            keeps = [1990 <= f["year"] <= 1999 and "comedy" in f["genres"] and "horror" not in f["genres"]
                     for f in _films(reply)]
            if not all(keeps):
                assert "everything you asked" in reply["text"], reply["text"]
                assert keeps == sorted(keeps, reverse=True), keeps
            for film in _films(reply):
                assert film["item_id"] not in shown, "a worker showed a film the other had already shown"
                shown.add(film["item_id"])
        assert _films(first) and _films(second)
        session = b.predict(sid, api_name="/session")
        assert session["turns"] == 6          # three messages and three replies, from two workers
        latest = _films(third) or _films(second)
        assert set(session["last_shown"]) == {f["item_id"] for f in latest}
        constraints = session["constraints"]
        assert (constraints["year_min"], constraints["year_max"]) == (1990, 1999)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
