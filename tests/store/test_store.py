"""Sessions and profiles: round trips, forget/export, restarts across processes, concurrency —
each in SQLite and in PostgreSQL (``location`` / ``store`` fixtures)."""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from chatrec.store import SCHEMA_VERSION, Store

STATE = {"schema_version": 3, "session_id": "web:a", "liked_items": ["1", "3114"],
         "turns": [{"role": "user", "text": "J'ai adoré Amélie 🎬 <script>x</script>"}],
         "constraints": {"year_min": 1990, "year_max": None}}


def test_a_new_path_gets_the_current_schema_in_wal_mode(tmp_path):
    path = tmp_path / "deeper" / "store.sqlite3"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert path.is_file()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_an_empty_file_is_a_new_store(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.load_session("x") is None


def test_session_round_trip_replace_list_and_delete(store):
    assert store.load_session("web:a") is None
    store.save_session("web:a", STATE, user_id="web:alice")
    assert store.load_session("web:a") == STATE
    first = store.list_sessions("web:alice")
    assert [s["session_id"] for s in first] == ["web:a"] and first[0]["state_version"] == 3

    changed = {**STATE, "liked_items": ["260"]}
    store.save_session("web:a", changed, user_id="web:alice")
    store.save_session("web:b", {"x": 1}, user_id="web:alice")
    store.save_session("web:c", {"x": 2}, user_id="web:bob")
    store.save_session("anon", {"x": 3})
    assert store.load_session("web:a") == changed
    listed = store.list_sessions("web:alice")
    assert [s["session_id"] for s in listed] == ["web:b", "web:a"]      # most recent first
    again = next(s for s in listed if s["session_id"] == "web:a")
    assert again["created_at"] == first[0]["created_at"] <= again["updated_at"]
    assert listed[0]["state_version"] is None

    assert store.delete_session("web:a") is True
    assert store.delete_session("web:a") is False
    assert store.load_session("web:a") is None
    assert store.load_session("anon") == {"x": 3}


def test_profiles_round_trip_and_atomic_update(store):
    assert store.load_profile("web:alice") is None
    store.save_profile("web:alice", {"schema_version": 1, "liked_items": ["1"]})
    assert store.load_profile("web:alice") == {"schema_version": 1, "liked_items": ["1"]}
    result = store.update_profile("web:alice",
                                  lambda p: {**p, "liked_items": p["liked_items"] + ["2"]})
    assert result["liked_items"] == ["1", "2"] == store.load_profile("web:alice")["liked_items"]
    created = store.update_profile("web:new", lambda p: {"seen": p is None})
    assert created == {"seen": True}


def test_a_failing_update_changes_nothing(store):
    store.save_profile("u", {"n": 1})

    def broken(profile):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.update_profile("u", broken)
    assert store.load_profile("u") == {"n": 1}
    store.save_profile("u", {"n": 2})       # the connection is usable after the rollback
    assert store.load_profile("u") == {"n": 2}


def test_forget_deletes_the_profile_and_only_that_users_sessions(store):
    store.save_profile("web:alice", {"liked_items": ["1"]})
    store.save_profile("web:bob", {"liked_items": ["2"]})
    store.save_session("s1", STATE, user_id="web:alice")
    store.save_session("s2", {"x": 1}, user_id="web:alice")
    store.save_session("s3", {"x": 2}, user_id="web:bob")
    store.save_session("s4", {"x": 3})

    exported = store.export("web:alice")
    assert exported["profile"] == {"liked_items": ["1"]}
    assert [s["session_id"] for s in exported["sessions"]] == ["s1", "s2"]
    assert exported["sessions"][0]["state"] == STATE
    json.dumps(exported)    # exportable as is

    deleted = store.forget("web:alice")
    assert deleted == {"user_id": "web:alice", "profile_deleted": True,
                       "sessions_deleted": ["s1", "s2"], "feedback_deleted": 0}
    assert store.load_profile("web:alice") is None
    assert store.load_session("s1") is None and store.load_session("s2") is None
    after = store.export("web:alice")
    assert after["sessions"] == [] and after["profile"] is None
    assert store.load_profile("web:bob") == {"liked_items": ["2"]}
    assert store.load_session("s3") == {"x": 2} and store.load_session("s4") == {"x": 3}
    assert store.forget("web:alice") == {"user_id": "web:alice", "profile_deleted": False,
                                         "sessions_deleted": [], "feedback_deleted": 0}


def test_only_dicts_of_json_values_are_stored(store):
    with pytest.raises(TypeError):
        store.save_session("s", ["not", "a", "dict"])
    with pytest.raises(TypeError):
        store.save_profile("u", {"when": object()})
    assert store.load_session("s") is None


def test_a_reopened_store_continues(location):
    with Store(location) as store:
        store.save_session("web:a", STATE, user_id="web:alice")
        store.save_profile("web:alice", {"liked_items": ["1"]})
    with Store(location) as reopened:
        assert reopened.load_session("web:a") == STATE
        assert reopened.load_profile("web:alice") == {"liked_items": ["1"]}


def _run(code: str, path) -> str:
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_another_process_sees_what_this_one_wrote_and_vice_versa(location):
    with Store(location) as store:
        store.save_session("from-parent", STATE, user_id="web:alice")
        out = _run("import sys, json\nfrom chatrec.store import Store\n"
                   "s = Store(sys.argv[1])\n"
                   "print(json.dumps(s.load_session('from-parent')))\n"
                   "s.save_session('from-child', {'n': 7}, user_id='web:alice')\n"
                   "s.update_profile('web:alice', lambda p: {'n': (p or {}).get('n', 0) + 1})\n",
                   location)
        assert json.loads(out) == STATE
        # This process's open connection sees the child's committed writes.
        assert store.load_session("from-child") == {"n": 7}
        assert store.load_profile("web:alice") == {"n": 1}


def test_twenty_threads_fifty_writes_each_lose_nothing(store):
    threads_n, writes_n = 20, 50
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(writes_n):
                store.save_session(f"t{t}-{i}", {"thread": t, "i": i}, user_id=f"user{t % 4}")
                store.update_profile("shared", lambda p: {"count": (p or {}).get("count", 0) + 1})
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.load_profile("shared") == {"count": threads_n * writes_n}
    for t in range(threads_n):
        for i in range(writes_n):
            assert store.load_session(f"t{t}-{i}") == {"thread": t, "i": i}
    assert sum(len(store.list_sessions(f"user{u}")) for u in range(4)) == threads_n * writes_n
    gc.collect()
    assert store.engine.pool.checkedout() == 0, "finished threads must not keep connections checked out"


_BUMP = ("def bump(who):\n"
         "    def update(p):\n"
         "        p = dict(p or {'count': 0, 'last': None, 'switches': 0})\n"
         "        p['switches'] += p['last'] not in (None, who)\n"
         "        p.update(count=p['count'] + 1, last=who)\n"
         "        return p\n"
         "    return update\n")


def _race_two_processes(location, rounds: int) -> dict:
    """The parent and a child process each add 1 to one profile ``rounds`` times."""
    exec(_BUMP, namespace := {})
    # Each side pauses a moment between writes, as real processes do: SQLite's busy handler
    # is not fair, and a writer in a tight loop can hold the other off until it is done.
    code = ("import sys, time\nfrom chatrec.store import Store\n" + _BUMP +
            "s = Store(sys.argv[1])\ns.load_profile('shared')\nprint('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            f"for _ in range({rounds}):\n    s.update_profile('shared', bump('child'))\n"
            "    time.sleep(0.001)\n")
    with Store(location) as store:
        store.load_profile("shared")                           # connection open before the start
        child = subprocess.Popen([sys.executable, "-c", code, str(location)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")                              # both start writing now
        child.stdin.flush()
        for _ in range(rounds):
            store.update_profile("shared", namespace["bump"]("parent"))
            time.sleep(0.001)
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr
        return store.load_profile("shared")


@pytest.fixture
def fresh_location(location, request, tmp_path):
    """More fresh stores of the same backend as ``location``."""
    def make(name: str):
        if isinstance(location, str):
            return request.getfixturevalue("postgres_server").create_database(f"race_{name}")
        return tmp_path / f"{name}.sqlite3"
    return make


def test_two_processes_updating_one_profile_lose_nothing(fresh_location):
    rounds = 300
    # Whether the OS interleaves the two writers is up to the scheduler (a busy CI machine may run
    # one to completion first), so try a few fresh stores: every try must lose nothing, and at
    # least one must really interleave, or the test proves nothing about concurrent updates.
    interleaved = False
    for attempt in range(4):
        profile = _race_two_processes(fresh_location(f"race{attempt}"), rounds)
        assert profile["count"] == 2 * rounds
        if profile["switches"] >= 2:
            interleaved = True
            break
    assert interleaved, "the two writers never interleaved in 4 tries"
