"""Versioned writes: the contract the agent builds its turns on, the same in SQLite and PostgreSQL.

A session write names the version it read; a stale one changes nothing and says so; a profile
change and feedback in the same transaction land or fail with it; a user forgotten while a turn
was in flight is not written back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from chatrec.store import FeedbackEvent, SessionGone, SessionWrite, Store, VersionConflict


def test_each_write_bumps_the_version_and_a_stale_one_changes_nothing(store):
    assert store.read_session("s") is None and store.session_version("s") == 0
    assert store.save_session("s", {"n": 1}, "u", expected_version=0) == 1
    with pytest.raises(VersionConflict) as caught:
        store.save_session("s", {"n": "other"}, "u", expected_version=0)    # created meanwhile
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert store.save_session("s", {"n": 2}, "u", expected_version=1) == 2
    with pytest.raises(VersionConflict) as caught:
        store.save_session("s", {"n": "stale"}, "u", expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    record = store.read_session("s")
    assert (record.state, record.version, record.user_id) == ({"n": 2}, 2, "u")
    assert store.save_session("s", {"n": 3}, "u") == 3         # unconditional: still a new version
    assert store.session_version("s") == 3


def test_a_write_to_a_deleted_session_is_refused_not_recreated(store):
    store.save_session("s", {"n": 1}, "u")
    assert store.delete_session("s")
    with pytest.raises(SessionGone):
        store.save_session("s", {"n": 2}, "u", expected_version=1)
    assert store.read_session("s") is None


def test_a_conflicting_turn_writes_neither_its_profile_change_nor_its_feedback(store):
    store.save_session("s", {"n": 1}, "u")
    store.save_profile("u", {"liked": ["a"]})
    store.save_session("s", {"n": 2}, "u")      # another worker's turn: version 2
    with pytest.raises(VersionConflict):
        store.write(SessionWrite("s", {"n": "stale"}, "u", expected_version=1),
                    profile=("u", lambda p: {"liked": [*p["liked"], "b"]}),
                    feedback=[FeedbackEvent("s", "b", "liked", "u")])
    assert store.load_profile("u") == {"liked": ["a"]}
    assert store.feedback_log("u") == []
    result = store.write(SessionWrite("s", {"n": 3}, "u", expected_version=2),
                         profile=("u", lambda p: {"liked": [*p["liked"], "b"]}),
                         feedback=[FeedbackEvent("s", "b", "liked", "u", at=5.0)])
    assert (result.session_version, result.profile) == (3, {"liked": ["a", "b"]})
    assert store.feedback_log("u") == [{"session_id": "s", "item_id": "b", "kind": "liked", "at": 5.0}]
    assert store.export("u")["feedback"] == store.feedback_log("u")


def test_update_session_changes_what_is_stored_now(store):
    record, profile = store.update_session("s", lambda r: {"n": 0 if r is None else r.state["n"] + 1}, "u")
    assert (record.state, record.version, profile) == ({"n": 0}, 1, None)
    record, profile = store.update_session("s", lambda r: {"n": r.state["n"] + 1},
                                           profile=("u", lambda p: {"k": 1}),
                                           feedback=[FeedbackEvent("s", "i", "seen", "u")])
    assert (record.state, record.version, record.user_id, profile) == ({"n": 1}, 2, "u", {"k": 1})
    assert len(store.feedback_log("u")) == 1


def test_a_turn_in_flight_during_forget_does_not_write_the_user_back(store):
    store.save_session("s", {"said": "secret"}, "web:alice")
    started = time.time()
    store.forget("web:alice")
    # The turn began before the forget: its write (new session or old one) is refused.
    for expected in (0, 1, None):
        with pytest.raises(SessionGone):
            store.write(SessionWrite("s", {"said": "secret again"}, "web:alice", expected, started_at=started - 1))
    assert store.export("web:alice")["sessions"] == []
    # Anyone else, and the same user in a turn that starts after the forget, write as usual.
    store.write(SessionWrite("t", {"x": 1}, "web:bob", 0, started_at=started - 1))
    assert store.write(SessionWrite("s", {"said": "new"}, "web:alice", 0,
                                    started_at=time.time() + 0.001)).session_version == 1


_APPEND = """
import json, sys, time
from chatrec.store import SessionWrite, Store, VersionConflict
store = Store(sys.argv[1])
who, rounds = sys.argv[2], int(sys.argv[3])
retries = 0
store.session_version("shared")
print("ready", flush=True)
sys.stdin.readline()
for i in range(rounds):
    while True:        # a turn: read, think, write what it read plus its own line
        record = store.read_session("shared")
        state = {"lines": []} if record is None else record.state
        time.sleep(0.002)
        state = {"lines": [*state["lines"], f"{who}-{i}"]}
        try:
            store.write(SessionWrite("shared", state, "u", record.version if record else 0),
                        profile=("u", lambda p, i=i: {"likes": [*(p or {}).get("likes", []), f"{who}-{i}"]}))
            break
        except VersionConflict:
            retries += 1
print(json.dumps({"retries": retries}), flush=True)
"""


def test_two_processes_writing_one_session_lose_nothing(location):
    """Two real processes each add 40 lines to one session (and likes to one profile), reading
    and writing with versions: all 80 of each are kept, and the retries show they collided."""
    rounds = 40
    Store(location).close()      # create the schema before the race
    children = [subprocess.Popen([sys.executable, "-c", _APPEND, str(location), who, str(rounds)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for who in ("a", "b")]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    retries = 0
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        retries += json.loads(out.strip().splitlines()[-1])["retries"]
    with Store(location) as store:
        lines = store.load_session("shared")["lines"]
        likes = store.load_profile("u")["likes"]
        version = store.session_version("shared")
    expected = {f"{who}-{i}" for who in "ab" for i in range(rounds)}
    assert len(lines) == 2 * rounds and set(lines) == expected
    assert len(likes) == 2 * rounds and set(likes) == expected
    assert version == 2 * rounds
    for who in "ab":     # each process's own lines stay in its order
        assert [x for x in lines if x.startswith(who)] == [f"{who}-{i}" for i in range(rounds)]
    print(f"retries after a conflict: {retries}")


def test_versions_of_a_session_and_a_profile_in_one_call(store):
    assert store.versions("s", "u") == (0, 0) and store.versions("s") == (0, 0)
    store.save_session("s", {"n": 1}, "u")
    result = store.write(profile=("u", lambda p: {"k": 1}))
    assert (result.profile, result.profile_version) == ({"k": 1}, 1)
    assert store.write(profile=("u", lambda p: {"k": p["k"] + 1})).profile_version == 2
    assert store.versions("s", "u") == (1, 2)
    record = store.read_profile("u")
    assert (record.profile, record.version) == ({"k": 2}, 2)
