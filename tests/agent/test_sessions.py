"""The session repository: bounded caches in front of the store, one lock per session, and a
fresh start instead of a failed turn when stored data cannot be read. No data needed."""

from __future__ import annotations

import threading
import time

import pytest

from chatrec.agent.config import CachePolicy
from chatrec.agent.lru import LRU
from chatrec.agent.sessions import SessionRepository
from chatrec.agent.state import SessionState
from chatrec.store import Store


def test_lru_forgets_the_least_recently_used():
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1          # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_sessions_and_profiles_stay_bounded_and_the_store_keeps_everything(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    repo = SessionRepository(store, CachePolicy(sessions=3, profiles=2, locks=4))
    for i in range(10):
        with repo.lock(f"s{i}"):
            state = repo.load(f"s{i}", user_id=f"u{i}")
            state.add_turn("user", f"hello {i}")
            repo.save(state, profile_edit=lambda p, i=i: p.like_items([str(i)]))
    assert len(repo._sessions) == 3 and len(repo._profiles) == 2 and len(repo._locks) <= 4
    # Evicted from memory, not lost: read back from the store.
    assert repo.load("s0").turns[0].text == "hello 0"
    profile = repo.profile("u0")
    assert profile is not None and profile.liked_items == ["0"]
    store.close()


def test_a_held_lock_is_never_evicted():
    repo = SessionRepository(None, CachePolicy(locks=1))
    inside, release = threading.Event(), threading.Event()

    def hold():
        with repo.lock("busy"):
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(5)
    for i in range(5):                  # other sessions come and go
        with repo.lock(f"other{i}"):
            pass
    entered = threading.Event()

    def second():
        with repo.lock("busy"):
            entered.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.2)
    assert not entered.is_set(), "a second turn of the same session must wait for the first"
    release.set()
    holder.join(5)
    waiter.join(5)
    assert entered.is_set()


def test_unreadable_stored_state_starts_fresh(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    store.save_session("s", {"schema_version": 1, "session_id": "s", "turns": "not a list"})
    store.save_profile("u", {"schema_version": 99, "user_id": "u"})
    repo = SessionRepository(store)
    state = repo.load("s", user_id="u")
    assert state.turns == [] and state.user_id == "u"
    profile = repo.profile("u")
    assert profile is not None and profile.liked_items == []
    store.close()


def test_two_sessions_of_a_user_share_one_profile_object():
    repo = SessionRepository(None)
    assert repo.profile("u") is repo.profile("u")
    assert repo.profile(None) is None


def test_forget_and_export_without_a_store():
    repo = SessionRepository(None)
    for sid, user in (("a", "u"), ("b", "u"), ("c", "v")):
        repo.save(SessionState(session_id=sid, user_id=user))
    assert sorted(s["session_id"] for s in repo.export("u")) == ["a", "b"]
    repo.forget("u")
    assert repo.export("u") == [] and [s["session_id"] for s in repo.export("v")] == ["c"]


def test_a_session_evicted_from_the_cache_mid_turn_is_redone_not_written_over(tmp_path):
    from chatrec.store.records import VersionConflict

    store = Store(tmp_path / "s.sqlite3")
    repo = SessionRepository(store, CachePolicy(sessions=1))
    other_worker = SessionRepository(store)
    repo.save(repo.load("a", user_id="u"))
    state = repo.load("a", user_id="u")            # a turn starts ...
    state.add_turn("user", "mine")
    other_worker.update("a", lambda s: s.add_turn("user", "theirs") or s)
    repo.load("b", user_id="v")                    # ... and its entry leaves the one-entry cache
    with pytest.raises(VersionConflict):
        repo.save(state)
    assert [t.text for t in repo.load("a").turns] == ["theirs"]
    store.close()
