"""Rate limit, session ids and the background loader."""

from __future__ import annotations

import threading

import pytest

from ui.loader import AgentLoader, AgentNotReady
from ui.ratelimit import RateLimiter
from ui.sessions import clean_user_id, is_session_id, new_session_id, session_or_new


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate():
    clock = Clock()
    limiter = RateLimiter(rate=0.5, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")                       # other sessions are not affected
    assert limiter.retry_after("a") == pytest.approx(2.0)
    clock.now = 2.0
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(rate=0).allow("a")           # 0 disables


def test_token_bucket_forgets_old_sessions():
    limiter = RateLimiter(rate=0.1, burst=1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        assert limiter.allow(key)
    assert limiter.allow("a")                       # "a" was dropped: a full bucket again


def test_session_ids_are_random_and_checked():
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_session_id(i) for i in ids)
    for bad in ("", None, "web-short", "../../etc", "web-" + "x" * 100, "web-<script>aaaaaaaaaaaaaaa"):
        assert not is_session_id(bad)
        assert session_or_new(bad) != bad
    good = new_session_id()
    assert session_or_new(good) == good


def test_user_ids():
    assert clean_user_id("ml:42") == "ml:42" and clean_user_id("web:alice") == "web:alice"
    assert clean_user_id("") is None and clean_user_id("<script>:x") is None
    assert clean_user_id("ml:4 2") is None


def test_loader_hands_out_the_agent_once_loaded():
    gate = threading.Event()
    loader = AgentLoader(lambda: (gate.wait(5), "agent")[1])
    loader.start()
    assert loader.status().state == "loading" and not loader.ready
    with pytest.raises(AgentNotReady, match="still getting ready"):
        loader.get(timeout=0.05)
    gate.set()
    assert loader.get(timeout=5) == "agent" and loader.status().state == "ready"


def test_loader_reports_a_failure():
    def broken():
        raise RuntimeError("no index and no data to build it")

    loader = AgentLoader(broken).start()
    with pytest.raises(AgentNotReady, match="no index and no data"):
        loader.get(timeout=5)
    assert loader.status().state == "failed"
