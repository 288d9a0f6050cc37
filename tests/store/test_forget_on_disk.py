"""Forget means forget: after ``forget``, a user's words are in no file of the store (SQLite:
the database, its WAL and shared-memory files) and in no row of PostgreSQL."""

from __future__ import annotations

import sqlite3

from chatrec.store import FeedbackEvent, Store

SENTENCE = "my cat Bartholomew only watches Kurosawa on rainy Tuesdays"
OTHER = "a sentence of somebody else entirely"


def _fill(store: Store, user: str, sentence: str, n: int = 40) -> None:
    for i in range(n):
        state = {"turns": [{"role": "user", "text": f"{sentence} #{i}"}], "pad": "x" * 300}
        store.save_session(f"{user}-s{i % 3}", state, user_id=user)     # rewritten: old versions too
        store.update_profile(user, lambda p, i=i: {"liked_items": [*(p or {}).get("liked_items", []), str(i)],
                                                    "note": f"{sentence} in profile"})
        store.record_feedback(FeedbackEvent(f"{user}-s{i % 3}", str(i), "liked", user))


def _files_containing(folder, needle: str) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and (needle.encode("utf-8") in path.read_bytes()):
            found.append(path.name)
    return found


def test_sqlite_forget_leaves_no_copy_in_the_file_the_wal_or_free_pages(tmp_path):
    folder = tmp_path / "home"
    path = folder / "chatrec.sqlite3"
    with Store(path) as store:
        _fill(store, "web:alice", SENTENCE)
        _fill(store, "web:bob", OTHER)
        assert _files_containing(folder, "Bartholomew"), "the sentence should be on disk before forget"
        reader = sqlite3.connect(path)         # another process's idle connection stays open
        reader.execute("SELECT count(*) FROM sessions").fetchone()
        store.forget("web:alice")
        assert _files_containing(folder, "Bartholomew") == []
        assert _files_containing(folder, "web:alice") == []
        assert _files_containing(folder, OTHER)                 # the others' data is still there
        assert store.load_session("web:bob-s0")["turns"][0]["text"].startswith(OTHER)
        reader.close()
    assert _files_containing(folder, "Bartholomew") == []


def test_postgresql_forget_leaves_no_row_that_mentions_the_user(postgres_server, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    with Store(postgres_url) as store:
        _fill(store, "web:alice", SENTENCE, n=10)
        _fill(store, "web:bob", OTHER, n=10)
        before = postgres_server.dump(database)
        assert "Bartholomew" in before and "web:alice" in before
        store.forget("web:alice")
        after = postgres_server.dump(database)
    assert "Bartholomew" not in after and "web:alice" not in after
    assert OTHER in after and "web:bob" in after


def test_chatrec_forget_and_export_use_the_configured_store(location, monkeypatch):
    from typer.testing import CliRunner

    from chatrec.cli import app
    from chatrec.config import get_settings

    if isinstance(location, str):
        monkeypatch.setenv("CHATREC_STORE_URL", location)
    else:
        monkeypatch.setenv("CHATREC_HOME", str(location.parent))
    get_settings.cache_clear()
    with Store(location) as store:
        _fill(store, "web:alice", SENTENCE, n=3)
    runner = CliRunner()
    exported = runner.invoke(app, ["export", "web:alice", "--indent", "0"])
    assert exported.exit_code == 0 and SENTENCE in exported.output
    result = runner.invoke(app, ["forget", "web:alice", "--yes"])
    assert result.exit_code == 0, result.output
    assert "3 sessions" in result.output and "3 feedback events" in result.output
    with Store(location) as store:
        assert store.export("web:alice")["sessions"] == [] and store.load_profile("web:alice") is None
