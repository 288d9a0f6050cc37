"""Schema versions, migrations from an old file, and damaged files."""

from __future__ import annotations

import sqlite3

import pytest

from chatrec.errors import ChatrecError, StoreError
from chatrec.store import SCHEMA_VERSION, Store

# The version-1 schema exactly as chatrec 0.1 created it (written out here, not imported, so
# that a later edit of the migrations cannot silently change what this test upgrades from).
V1 = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL,
                             applied_at REAL NOT NULL);
INSERT INTO schema_version VALUES (1, 'sessions and profiles as JSON text', 1700000000.0);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, user_id TEXT, state TEXT NOT NULL,
                       updated_at REAL NOT NULL);
CREATE TABLE profiles (user_id TEXT PRIMARY KEY, profile TEXT NOT NULL, updated_at REAL NOT NULL);
INSERT INTO sessions VALUES ('old-1', 'web:alice', '{"schema_version": 1, "liked_items": ["1"]}',
                             1700000100.0);
INSERT INTO sessions VALUES ('old-2', NULL, '{"turns": []}', 1700000200.0);
INSERT INTO profiles VALUES ('web:alice', '{"schema_version": 1, "seen_items": ["6"]}',
                             1700000300.0);
"""


def _make_v1(path):
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    conn.commit()
    conn.close()


def test_a_version_1_file_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    _make_v1(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION > 1
        assert store.load_session("old-1") == {"schema_version": 1, "liked_items": ["1"]}
        assert store.load_session("old-2") == {"turns": []}
        assert store.load_profile("web:alice") == {"schema_version": 1, "seen_items": ["6"]}
        listed = store.list_sessions("web:alice")
        assert listed == [{"session_id": "old-1", "created_at": 1700000100.0,
                           "updated_at": 1700000100.0, "state_version": 1}]
        exported = store.export("web:alice")
        assert exported["profile_created_at"] == 1700000300.0
        # New writes use the new columns.
        store.save_session("new", {"schema_version": 2}, user_id="web:alice")
        assert {s["session_id"] for s in store.list_sessions("web:alice")} == {"old-1", "new"}
        conn = sqlite3.connect(path)
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(sessions)")}
        assert "sessions_by_user" in indexes
        conn.close()
        # Rows from before row versions start at version 1 and take versioned writes.
        assert store.read_session("old-2").version == 1
        assert store.save_session("old-2", {"turns": [1]}, expected_version=1) == 2
    with Store(path) as again:          # a second open migrates nothing and loses nothing
        assert again.load_session("old-1") == {"schema_version": 1, "liked_items": ["1"]}


def test_a_store_from_a_newer_chatrec_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)",
                 (SCHEMA_VERSION + 7,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path):
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is certainly not sqlite " * 200)
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    # The advice keeps the file: it may still hold users' conversations.
    assert str(path) in message and "keep a copy" in message and "CHATREC_HOME" in message
    assert "delete" not in message.lower() and "move" not in message.lower()
    assert isinstance(caught.value, ChatrecError)
    assert isinstance(getattr(caught.value.__cause__, "orig", None), sqlite3.DatabaseError)


def _damage(path):
    """Overwrite the middle pages of a closed store file with junk."""
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page, "the store should span several pages"
    data[2 * page: len(data) - page] = b"\xa5" * (len(data) - 3 * page)
    path.write_bytes(bytes(data))


def _filled(path, n=300):
    with Store(path) as store:
        for i in range(n):
            store.save_session(f"s{i}", {"i": i, "pad": "x" * 200}, user_id="web:alice")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return [f"s{i}" for i in range(n)]


def test_a_damaged_store_is_reported_on_open(tmp_path):
    path = tmp_path / "damaged.sqlite3"
    _filled(path)
    _damage(path)
    with pytest.raises(StoreError, match="not a readable chatrec store"):
        Store(path)


def test_damage_found_later_is_a_store_error_too(tmp_path):
    path = tmp_path / "damaged-late.sqlite3"
    ids = _filled(path)
    _damage(path)
    with pytest.raises(StoreError):
        store = Store(path, check=False)
        for session_id in ids:
            store.load_session(session_id)
        store.list_sessions("web:alice")


def test_a_row_that_is_not_json_gives_a_store_error(store):
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sessions (session_id, state, updated_at) VALUES ('bad', '{oops', 0)")
    with pytest.raises(StoreError, match="session 'bad'"):
        store.load_session("bad")


def test_a_closed_store_says_so(location):
    store = Store(location)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.load_session("x")
