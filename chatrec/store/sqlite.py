"""``Store``: sessions and user profiles in one SQLite file (WAL), safe across threads and
processes, surviving restarts.

Each thread gets its own connection (SQLite connections must not be shared mid-transaction);
every write is one ``BEGIN IMMEDIATE`` transaction, so writers queue on the database lock (up to
``busy_timeout``) instead of failing with "database is locked" when two deferred transactions
try to upgrade at once. Values are JSON text: the store does not know the agent's pydantic
models, only their ``schema_version`` field, which it keeps in a column for migrations.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatrec.errors import StoreError
from chatrec.store.schema import MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE

logger = logging.getLogger(__name__)


class Store:
    """Sessions and profiles in SQLite.

    Args:
        path: the database file; created with the current schema when missing or empty, and
            migrated when it was written by an older chatrec.
        busy_timeout: seconds a writer waits for another writer before giving up.
        check: run SQLite's ``quick_check`` on open, so a damaged file is reported at start-up
            rather than in the middle of a conversation (milliseconds for a typical store).

    Raises:
        StoreError: the file is not a SQLite database, is damaged, was written by a newer
            chatrec, or cannot be created.
    """

    def __init__(self, path: str | Path, busy_timeout: float = 10.0, check: bool = True):
        self.path = Path(path).expanduser()
        self.busy_timeout = float(busy_timeout)
        self._local = threading.local()
        # Weak: a thread that ends drops its connection (closed then), so thread-per-request
        # servers do not pile up open files; close() reaches those still alive.
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the chatrec store {self.path}: {exc}") from exc
        try:
            with self._guard("open"):
                conn = self._conn()
                if check:
                    problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
                    if problems != ["ok"]:
                        raise sqlite3.DatabaseError("; ".join(problems[:3]))
                self._migrate(conn)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ sessions
    def load_session(self, session_id: str) -> dict | None:
        """The stored state of a session, or None if there is none."""
        with self._guard("read a session"):
            row = self._conn().execute("SELECT state FROM sessions WHERE session_id = ?",
                                       (str(session_id),)).fetchone()
        return None if row is None else self._decode(row[0], f"session {session_id!r}")

    def save_session(self, session_id: str, state: dict, user_id: str | None = None) -> None:
        """Create or replace a session's state (its creation time is kept).

        Args:
            session_id: any stable id ("web:abc", "slack:T1:C1:U1").
            state: a JSON-serialisable dict (the agent's ``SessionState.model_dump(mode="json")``);
                its ``schema_version`` is recorded alongside.
            user_id: the user the session belongs to (None: anonymous). ``forget`` and
                ``export`` find a user's sessions through it.
        """
        text = self._encode(state, f"session {session_id!r}")
        now = time.time()
        with self._write("save a session") as conn:
            conn.execute(
                """INSERT INTO sessions (session_id, user_id, state, state_version, created_at,
                                         updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (session_id) DO UPDATE SET user_id = excluded.user_id,
                       state = excluded.state, state_version = excluded.state_version,
                       updated_at = excluded.updated_at""",
                (str(session_id), _opt_str(user_id), text, _version(state), now, now))

    def delete_session(self, session_id: str) -> bool:
        """Delete a session; True when there was one."""
        with self._write("delete a session") as conn:
            cursor = conn.execute("DELETE FROM sessions WHERE session_id = ?", (str(session_id),))
            return cursor.rowcount > 0

    def list_sessions(self, user_id: str) -> list[dict]:
        """A user's sessions, most recently updated first, without their states:
        ``[{"session_id", "created_at", "updated_at", "state_version"}, ...]``."""
        with self._guard("list sessions"):
            rows = self._conn().execute(
                """SELECT session_id, created_at, updated_at, state_version FROM sessions
                   WHERE user_id = ? ORDER BY updated_at DESC, session_id""",
                (str(user_id),)).fetchall()
        return [{"session_id": r[0], "created_at": r[1], "updated_at": r[2], "state_version": r[3]}
                for r in rows]

    # ------------------------------------------------------------------ profiles
    def load_profile(self, user_id: str) -> dict | None:
        """A user's stored profile, or None."""
        with self._guard("read a profile"):
            row = self._conn().execute("SELECT profile FROM profiles WHERE user_id = ?",
                                       (str(user_id),)).fetchone()
        return None if row is None else self._decode(row[0], f"profile of {user_id!r}")

    def save_profile(self, user_id: str, profile: dict) -> None:
        """Create or replace a user's profile (a JSON-serialisable dict)."""
        text = self._encode(profile, f"profile of {user_id!r}")
        with self._write("save a profile") as conn:
            self._put_profile(conn, str(user_id), text, _version(profile))

    def update_profile(self, user_id: str, change: Callable[[dict | None], dict]) -> dict:
        """Read-modify-write a profile atomically: ``change(current or None)`` returns the new
        profile. Two sessions of one user updating at once both land (``save_profile`` after a
        separate ``load_profile`` could lose one). ``change`` runs inside the write lock: keep it
        quick and free of I/O."""
        with self._write("update a profile") as conn:
            row = conn.execute("SELECT profile FROM profiles WHERE user_id = ?",
                               (str(user_id),)).fetchone()
            current = None if row is None else self._decode(row[0], f"profile of {user_id!r}")
            updated = change(current)
            self._put_profile(conn, str(user_id), self._encode(updated, f"profile of {user_id!r}"),
                              _version(updated))
        return updated

    def forget(self, user_id: str) -> dict:
        """Delete a user's profile and all their sessions, in one transaction.

        Returns:
            what was deleted: ``{"user_id", "profile_deleted": bool, "sessions_deleted": [ids]}``.
        """
        with self._write("forget a user") as conn:
            sessions = [r[0] for r in conn.execute(
                "SELECT session_id FROM sessions WHERE user_id = ? ORDER BY session_id",
                (str(user_id),))]
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (str(user_id),))
            deleted = conn.execute("DELETE FROM profiles WHERE user_id = ?",
                                   (str(user_id),)).rowcount > 0
        logger.info("forgot user %s: profile %s, %d sessions", user_id, deleted, len(sessions))
        return {"user_id": str(user_id), "profile_deleted": deleted, "sessions_deleted": sessions}

    def export(self, user_id: str) -> dict:
        """Everything stored about a user, JSON-serialisable:
        ``{"user_id", "exported_at", "profile", "profile_created_at", "profile_updated_at",
        "sessions": [{"session_id", "created_at", "updated_at", "state_version", "state"}]}``."""
        with self._guard("export a user"):
            conn = self._conn()
            # One read transaction: the profile and sessions are a consistent snapshot.
            conn.execute("BEGIN")
            try:
                profile = conn.execute(
                    "SELECT profile, created_at, updated_at FROM profiles WHERE user_id = ?",
                    (str(user_id),)).fetchone()
                sessions = conn.execute(
                    """SELECT session_id, created_at, updated_at, state_version, state
                       FROM sessions WHERE user_id = ? ORDER BY updated_at, session_id""",
                    (str(user_id),)).fetchall()
            finally:
                conn.execute("COMMIT")
        what = f"profile of {user_id!r}"
        return {
            "user_id": str(user_id),
            "exported_at": time.time(),
            "profile": None if profile is None else self._decode(profile[0], what),
            "profile_created_at": None if profile is None else profile[1],
            "profile_updated_at": None if profile is None else profile[2],
            "sessions": [{"session_id": s[0], "created_at": s[1], "updated_at": s[2],
                          "state_version": s[3], "state": self._decode(s[4], f"session {s[0]!r}")}
                         for s in sessions],
        }

    # ------------------------------------------------------------------ housekeeping
    @property
    def schema_version(self) -> int:
        with self._guard("read the schema version"):
            return _current_version(self._conn())

    def close(self) -> None:
        """Close every connection this store opened (any thread's). The store is unusable after."""
        with self._connections_lock:
            self._closed = True
            for holder in list(self._connections):
                holder.close()
            self._connections.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _conn(self) -> sqlite3.Connection:
        holder = getattr(self._local, "holder", None)
        if holder is not None and not self._closed:
            return holder.conn
        if self._closed:
            raise StoreError(f"the chatrec store {self.path} was closed")
        # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE.
        # check_same_thread=False only so that close() may close it from another thread.
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("store %s is in %s mode, not WAL (network file system?)",
                           self.path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")   # durable at checkpoints; safe with WAL
        conn.execute("PRAGMA foreign_keys = ON")
        holder = _Connection(conn)
        self._local.holder = holder
        with self._connections_lock:
            self._connections.add(holder)
        return conn

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn sqlite3's exceptions into a StoreError that says what to do."""
        try:
            yield
        except StoreError:
            raise
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"could not {action}: the chatrec store {self.path} stayed locked by another "
                    f"writer for more than {self.busy_timeout:g} s ({exc})") from exc
            raise StoreError(self._damaged(action, exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(self._damaged(action, exc)) from exc

    def _damaged(self, action: str, exc: Exception) -> str:
        return (f"could not {action}: {self.path} is not a readable chatrec store ({exc}). "
                "Move the file aside (and its -wal/-shm files) to start with an empty store, "
                "or set CHATREC_HOME to another folder.")

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._guard(action):
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(VERSION_TABLE)
        if _current_version(conn) == SCHEMA_VERSION:
            return
        for migration in MIGRATIONS:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read under the lock: another process may have migrated meanwhile.
                current = _current_version(conn)
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"the chatrec store {self.path} has schema version {current}, newer than "
                        f"this chatrec knows ({SCHEMA_VERSION}): upgrade chatrec, or set "
                        "CHATREC_HOME to another folder")
                if migration.version <= current:
                    conn.execute("COMMIT")
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, description, applied_at) "
                             "VALUES (?, ?, ?)",
                             (migration.version, migration.description, time.time()))
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            logger.info("store %s migrated to schema %d (%s)", self.path, migration.version,
                        migration.description)

    @staticmethod
    def _put_profile(conn: sqlite3.Connection, user_id: str, text: str,
                     version: int | None) -> None:
        now = time.time()
        conn.execute(
            """INSERT INTO profiles (user_id, profile, state_version, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile,
                   state_version = excluded.state_version, updated_at = excluded.updated_at""",
            (user_id, text, version, now, now))

    def _encode(self, value: Any, what: str) -> str:
        if not isinstance(value, dict):
            raise TypeError(f"the store keeps dicts; got {type(value).__name__} for the {what}")
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the {what} is not JSON-serialisable: {exc}") from exc

    def _decode(self, text: str, what: str) -> dict:
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"the {what} in {self.path} is not valid JSON ({exc}); delete it "
                             "or forget the user") from exc
        if not isinstance(value, dict):
            raise StoreError(f"the {what} in {self.path} is not a JSON object")
        return value


class _Connection:
    """One thread's connection; closed when the thread (its only strong owner) goes away."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:  # closing is best effort
            pass

    def __del__(self) -> None:
        self.close()


def _current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def _version(value: dict) -> int | None:
    version = value.get("schema_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _opt_str(value: str | None) -> str | None:
    return None if value is None else str(value)
