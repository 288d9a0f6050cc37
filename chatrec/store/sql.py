"""``Store``: sessions, profiles and feedback in SQLite (the default, one file under
``CHATREC_HOME``) or PostgreSQL (``CHATREC_STORE_URL``), one implementation of ``SessionStore``
over SQLAlchemy Core: the queries are written once and compiled for either database.

Atomicity, the same in both:

* a session write names the version it read (``SessionWrite.expected_version``) and is one
  conditional ``UPDATE … WHERE version = ?``: of two workers that read version 3, one writes
  version 4 and the other gets ``VersionConflict`` and redoes its turn on version 4;
* a profile change is a function applied to the row read under a write lock (``SELECT … FOR
  UPDATE`` in PostgreSQL, ``BEGIN IMMEDIATE`` in SQLite), so concurrent likes all land;
* ``write`` puts a session write, a profile change and feedback events in one transaction.

Values are JSON text: the store does not know the agent's pydantic models, only their
``schema_version`` field, which it keeps in a column for migrations.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from chatrec.errors import StoreError
from chatrec.store import schema as S
from chatrec.store.engine import Backend, connect, damaged, translated_errors
from chatrec.store.leases import LEASE_TIMEOUT_S, SessionLeases, leases_for
from chatrec.store.records import (
    FeedbackEvent,
    ProfileChange,
    ProfileRecord,
    SessionGone,
    SessionRecord,
    SessionWrite,
    VersionConflict,
    WriteResult,
)

logger = logging.getLogger(__name__)

#: How long ``forget`` remembers (as a keyed hash) that a user was forgotten: longer than any
#: turn can be in flight, short enough to keep nothing lasting about them.
FORGET_GRACE_S = 15 * 60
_MIGRATION_LOCK = 7_262_001      # PostgreSQL advisory lock key: one migrating worker at a time


class Store:
    """Sessions, profiles and feedback, in SQLite or PostgreSQL.

    Args:
        location: a SQLite file path (created with the current schema when missing or empty,
            migrated when an older chatrec wrote it), ``sqlite:///path``, or a
            ``postgresql://user:pass@host:port/db`` URL (the database must exist; the tables are
            created and migrated on open).
        busy_timeout: seconds a SQLite writer waits for another writer before giving up.
        check: run SQLite's ``quick_check`` on open, so a damaged file is reported at start-up
            rather than in the middle of a conversation (milliseconds for a typical store).

    Raises:
        StoreError: the file is not a SQLite database or is damaged, the server is unreachable,
            the schema was written by a newer chatrec, or the location cannot be created.
    """

    def __init__(self, location: str | Path, busy_timeout: float = 10.0, check: bool = True):
        self.busy_timeout = float(busy_timeout)
        self.backend: Backend = connect(location, self.busy_timeout)
        self.engine = self.backend.engine
        self.dialect = self.backend.dialect
        #: The SQLite file (None for a server).
        self.path = self.backend.path
        self._writer = self.engine.execution_options(write=True)
        self._leases: SessionLeases = leases_for(self.dialect, self.engine, self.path)
        self._closed = False
        self._salt: bytes | None = None
        try:
            if check and self.dialect == "sqlite":
                with self._read("check the store") as conn:
                    problems = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise StoreError(damaged(self.backend.where, "open the store", "; ".join(problems[:3])))
            self._migrate()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Store({self.backend.where!r})"

    # ------------------------------------------------------------------ sessions
    def read_session(self, session_id: str) -> SessionRecord | None:
        """The stored session with its row version, or None."""
        t = S.sessions.c
        with self._read("read a session") as conn:
            row = conn.execute(sa.select(t.user_id, t.state, t.version)
                               .where(t.session_id == str(session_id))).first()
        if row is None:
            return None
        return SessionRecord(str(session_id), row.user_id, self._decode(row.state, f"session {session_id!r}"),
                             int(row.version))

    def load_session(self, session_id: str) -> dict | None:
        """The stored state of a session, or None if there is none."""
        record = self.read_session(session_id)
        return None if record is None else record.state

    def session_version(self, session_id: str) -> int:
        """The session's row version, 0 when there is none: one indexed lookup, to revalidate a
        cached copy before using it."""
        t = S.sessions.c
        with self._read("read a session version") as conn:
            version = conn.execute(sa.select(t.version).where(t.session_id == str(session_id))).scalar()
        return 0 if version is None else int(version)

    def versions(self, session_id: str, user_id: str | None = None) -> tuple[int, int]:
        """(session version, profile version), 0 for what is absent, in one round trip: what a
        worker checks before trusting its cached copies at the start of a turn."""
        s, p = S.sessions.c, S.profiles.c
        session = sa.select(s.version).where(s.session_id == str(session_id)).scalar_subquery()
        profile = (sa.select(p.version).where(p.user_id == str(user_id)).scalar_subquery()
                   if user_id is not None else sa.literal(None))
        with self._read("read versions") as conn:
            row = conn.execute(sa.select(session, profile)).one()
        return int(row[0] or 0), int(row[1] or 0)

    def save_session(self, session_id: str, state: dict, user_id: str | None = None, *,
                     expected_version: int | None = None) -> int:
        """Create or replace a session's state (its creation time is kept); returns the new
        version. With ``expected_version`` (0: must not exist yet) the write happens only if the
        stored row is still at that version, else ``VersionConflict``.

        Args:
            session_id: any stable id ("web:abc", "slack:T1:C1:U1").
            state: a JSON-serialisable dict (the agent's ``SessionState.model_dump(mode="json")``);
                its ``schema_version`` is recorded alongside.
            user_id: the user the session belongs to (None: anonymous). ``forget`` and
                ``export`` find a user's sessions through it.
        """
        result = self.write(SessionWrite(str(session_id), state, user_id, expected_version))
        assert result.session_version is not None
        return result.session_version

    def update_session(self, session_id: str, change: Callable[[SessionRecord | None], dict],
                       user_id: str | None = None, profile: tuple[str, ProfileChange] | None = None,
                       feedback: Sequence[FeedbackEvent] = ()) -> tuple[SessionRecord, dict | None]:
        """Read-modify-write a session under its row lock: ``change(current or None)`` returns
        the new state, which is written with the user id given (or the stored one). An optional
        profile change and feedback events land in the same transaction.

        ``change`` runs inside the write lock and may run again if a concurrent insert of the
        same new session wins: keep it quick, pure and free of I/O.

        Returns:
            (the session as written, the profile after the change or None).
        """
        session_id = str(session_id)
        with self._write("update a session") as conn:
            current = self._locked_session(conn, session_id)
            state = change(current)
            owner = user_id if user_id is not None else (current.user_id if current else None)
            version = self._put_session(conn, SessionWrite(session_id, state, owner,
                                                           current.version if current else 0))
            changed = self._change_profile(conn, *profile) if profile is not None else None
            self._log_feedback(conn, feedback)
        return SessionRecord(session_id, owner, state, version), (changed[0] if changed else None)

    def delete_session(self, session_id: str) -> bool:
        """Delete a session and its feedback log; True when there was one."""
        with self._write("delete a session") as conn:
            conn.execute(sa.delete(S.feedback).where(S.feedback.c.session_id == str(session_id)))
            deleted = conn.execute(sa.delete(S.sessions)
                                   .where(S.sessions.c.session_id == str(session_id))).rowcount > 0
        return deleted

    def sessions_mentioning(self, text: str) -> list[str]:
        """Ids of the sessions whose stored state contains ``text`` verbatim (a JSON-quoted user
        id: the sessions someone spoke in). A superset for the caller to check, found by a scan:
        for ``forget`` and export, which are rare."""
        pattern = "%" + str(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        t = S.sessions.c
        with self._read("find sessions") as conn:
            rows = conn.execute(sa.select(t.session_id).where(t.state.like(pattern, escape="\\"))
                                .order_by(t.session_id)).scalars()
            return [str(r) for r in rows]

    def list_sessions(self, user_id: str) -> list[dict]:
        """A user's sessions, most recently updated first, without their states:
        ``[{"session_id", "created_at", "updated_at", "state_version"}, ...]``."""
        t = S.sessions.c
        with self._read("list sessions") as conn:
            rows = conn.execute(sa.select(t.session_id, t.created_at, t.updated_at, t.state_version)
                                .where(t.user_id == str(user_id))
                                .order_by(t.updated_at.desc(), t.session_id)).all()
        return [{"session_id": r.session_id, "created_at": r.created_at, "updated_at": r.updated_at,
                 "state_version": r.state_version} for r in rows]

    # ------------------------------------------------------------------ one transaction
    def write(self, session: SessionWrite | None = None, profile: tuple[str, ProfileChange] | None = None,
              feedback: Sequence[FeedbackEvent] = ()) -> WriteResult:
        """A session write (conditional on its ``expected_version``), a profile change (applied
        to the profile as stored now) and feedback events, in one transaction: all or nothing.

        Raises:
            VersionConflict: the session is no longer at ``expected_version`` (nothing written).
            SessionGone: the session was deleted, or its user forgotten, after ``started_at``.
        """
        with self._write("save a turn") as conn:
            version = self._put_session(conn, session) if session is not None else None
            changed = self._change_profile(conn, *profile) if profile is not None else None
            self._log_feedback(conn, feedback)
        return WriteResult(version, *(changed or (None, None)))

    # ------------------------------------------------------------------ profiles
    def read_profile(self, user_id: str) -> ProfileRecord | None:
        """A user's stored profile with its row version, or None."""
        t = S.profiles.c
        with self._read("read a profile") as conn:
            row = conn.execute(sa.select(t.profile, t.version).where(t.user_id == str(user_id))).first()
        if row is None:
            return None
        return ProfileRecord(str(user_id), self._decode(row.profile, f"profile of {user_id!r}"), int(row.version))

    def profile_version(self, user_id: str) -> int:
        """The profile's row version, 0 when there is none (a cached copy's revalidation)."""
        t = S.profiles.c
        with self._read("read a profile version") as conn:
            version = conn.execute(sa.select(t.version).where(t.user_id == str(user_id))).scalar()
        return 0 if version is None else int(version)

    def load_profile(self, user_id: str) -> dict | None:
        """A user's stored profile, or None."""
        record = self.read_profile(user_id)
        return None if record is None else record.profile

    def save_profile(self, user_id: str, profile: dict) -> None:
        """Create or replace a user's profile (a JSON-serialisable dict)."""
        self.update_profile(user_id, lambda _current: profile)

    def update_profile(self, user_id: str, change: ProfileChange) -> dict:
        """Read-modify-write a profile atomically: ``change(current or None)`` returns the new
        profile. Two sessions of one user updating at once both land (``save_profile`` after a
        separate ``load_profile`` could lose one). ``change`` runs inside the write lock: keep it
        quick and free of I/O."""
        result = self.write(profile=(str(user_id), change))
        assert result.profile is not None
        return result.profile

    # ------------------------------------------------------------------ feedback
    def record_feedback(self, event: FeedbackEvent) -> None:
        """Append one feedback event to the log."""
        self.write(feedback=[event])

    def feedback_log(self, user_id: str) -> list[dict]:
        """A user's feedback events, oldest first."""
        t = S.feedback.c
        with self._read("read the feedback log") as conn:
            rows = conn.execute(sa.select(t.session_id, t.item_id, t.kind, t.at)
                                .where(t.user_id == str(user_id)).order_by(t.at, t.id)).all()
        return [{"session_id": r.session_id, "item_id": r.item_id, "kind": r.kind, "at": r.at}
                for r in rows]

    # ------------------------------------------------------------------ users
    def forget(self, user_id: str) -> dict:
        """Delete a user's profile, sessions and feedback in one transaction, and refuse for a
        while any write prepared before now for that user (a turn in flight: ``SessionGone``).
        In SQLite the deleted text is zeroed in the file (``secure_delete``) and the WAL is
        checkpointed and truncated, so no copy of it is left on disk.

        Returns:
            what was deleted: ``{"user_id", "profile_deleted": bool, "sessions_deleted": [ids],
            "feedback_deleted": n}``.
        """
        uid = str(user_id)
        now = time.time()
        with self._write("forget a user") as conn:
            t = S.sessions.c
            sessions = list(conn.execute(sa.select(t.session_id).where(t.user_id == uid)
                                         .order_by(t.session_id)).scalars())
            f = S.feedback.c
            feedback = conn.execute(sa.delete(S.feedback).where(
                sa.or_(f.user_id == uid, f.session_id.in_(sessions)) if sessions else f.user_id == uid)).rowcount
            conn.execute(sa.delete(S.sessions).where(t.user_id == uid))
            deleted = conn.execute(sa.delete(S.profiles).where(S.profiles.c.user_id == uid)).rowcount > 0
            conn.execute(sa.delete(S.forgotten).where(S.forgotten.c.at < now - FORGET_GRACE_S))
            key = self._user_key(conn, uid)
            conn.execute(self._upsert(S.forgotten, {"user_key": key, "at": now}, ["user_key"], ["at"]))
        if self.dialect == "sqlite":
            self._checkpoint()
        logger.info("forgot a user: profile %s, %d sessions, %d feedback events", deleted, len(sessions),
                    feedback)
        return {"user_id": uid, "profile_deleted": deleted, "sessions_deleted": sessions,
                "feedback_deleted": int(feedback)}

    def export(self, user_id: str) -> dict:
        """Everything stored about a user, JSON-serialisable:
        ``{"user_id", "exported_at", "profile", "profile_created_at", "profile_updated_at",
        "sessions": [{"session_id", "created_at", "updated_at", "state_version", "state"}],
        "feedback": [{"session_id", "item_id", "kind", "at"}]}``."""
        uid = str(user_id)
        with self._read("export a user") as conn:   # one transaction: a consistent snapshot
            p = S.profiles.c
            profile = conn.execute(sa.select(p.profile, p.created_at, p.updated_at)
                                   .where(p.user_id == uid)).first()
            t = S.sessions.c
            sessions = conn.execute(sa.select(t.session_id, t.created_at, t.updated_at, t.state_version, t.state)
                                    .where(t.user_id == uid).order_by(t.updated_at, t.session_id)).all()
            f = S.feedback.c
            feedback = conn.execute(sa.select(f.session_id, f.item_id, f.kind, f.at)
                                    .where(f.user_id == uid).order_by(f.at, f.id)).all()
        what = f"profile of {uid!r}"
        return {
            "user_id": uid,
            "exported_at": time.time(),
            "profile": None if profile is None else self._decode(profile.profile, what),
            "profile_created_at": None if profile is None else profile.created_at,
            "profile_updated_at": None if profile is None else profile.updated_at,
            "sessions": [{"session_id": s.session_id, "created_at": s.created_at, "updated_at": s.updated_at,
                          "state_version": s.state_version,
                          "state": self._decode(s.state, f"session {s.session_id!r}")} for s in sessions],
            "feedback": [{"session_id": e.session_id, "item_id": e.item_id, "kind": e.kind, "at": e.at}
                         for e in feedback],
        }

    # ------------------------------------------------------------------ housekeeping
    @property
    def schema_version(self) -> int:
        with self._read("read the schema version") as conn:
            return _current_version(conn)

    def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers (a health check)."""
        with self._read("reach the store") as conn:
            conn.execute(sa.select(sa.literal(1))).scalar()

    @contextmanager
    def session_lease(self, session_id: str, timeout_s: float = LEASE_TIMEOUT_S) -> Iterator[bool]:
        """Hold the session against other workers while a turn reads, thinks and writes it (see
        ``chatrec.store.leases``); True inside when held, False when it could not be had."""
        self._check_open()
        with self._leases.hold(str(session_id), timeout_s) as held:
            yield held

    def close(self) -> None:
        """Close every pooled connection. The store is unusable after."""
        self._closed = True
        self._leases.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ internals: transactions
    @contextmanager
    def _read(self, action: str) -> Iterator[sa.Connection]:
        self._check_open()
        with translated_errors(self.backend, action, self.busy_timeout), self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[sa.Connection]:
        self._check_open()
        with translated_errors(self.backend, action, self.busy_timeout), self._writer.begin() as conn:
            yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the chatrec store {self.backend.where} was closed")

    # ------------------------------------------------------------------ internals: rows
    def _put_session(self, conn: sa.Connection, write: SessionWrite) -> int:
        sid = str(write.session_id)
        user_id = None if write.user_id is None else str(write.user_id)
        text = self._encode(write.state, f"session {sid!r}")
        if user_id is not None and write.started_at is not None and self._forgotten_since(
                conn, user_id, write.started_at):
            raise SessionGone(sid, write.expected_version or 0, "forgotten with its user")
        now = time.time()
        t = S.sessions.c
        values = {"user_id": user_id, "state": text, "state_version": _version(write.state), "updated_at": now}
        expected = write.expected_version
        if expected is None:
            statement = self._upsert(S.sessions, {"session_id": sid, **values, "created_at": now, "version": 1},
                                     ["session_id"], list(values), bump="version")
            return int(conn.execute(statement.returning(t.version)).scalar_one())
        if expected == 0:
            # RETURNING, not rowcount: psycopg reports no row count for an INSERT through SQLAlchemy.
            inserted = conn.execute(self._insert(S.sessions).values(
                session_id=sid, **values, created_at=now, version=1)
                .on_conflict_do_nothing(index_elements=["session_id"]).returning(t.version)).first()
            if inserted is None:
                raise VersionConflict(sid, 0, self._stored_version(conn, sid))
            return 1
        version = conn.execute(sa.update(S.sessions).where(t.session_id == sid, t.version == expected)
                               .values(**values, version=t.version + 1).returning(t.version)).scalar()
        if version is None:
            actual = self._stored_version(conn, sid)
            if actual == 0:
                raise SessionGone(sid, expected)
            raise VersionConflict(sid, expected, actual)
        return int(version)

    def _locked_session(self, conn: sa.Connection, session_id: str) -> SessionRecord | None:
        t = S.sessions.c
        row = conn.execute(sa.select(t.user_id, t.state, t.version).where(t.session_id == session_id)
                           .with_for_update()).first()
        if row is None:
            return None
        return SessionRecord(session_id, row.user_id, self._decode(row.state, f"session {session_id!r}"),
                             int(row.version))

    def _stored_version(self, conn: sa.Connection, session_id: str) -> int:
        t = S.sessions.c
        version = conn.execute(sa.select(t.version).where(t.session_id == session_id)).scalar()
        return 0 if version is None else int(version)

    def _change_profile(self, conn: sa.Connection, user_id: str, change: ProfileChange) -> tuple[dict, int]:
        """Apply ``change`` to the profile under its row lock; (new profile, new version)."""
        uid = str(user_id)
        what = f"profile of {uid!r}"
        t = S.profiles.c
        select = sa.select(t.profile, t.version).where(t.user_id == uid).with_for_update()
        for _ in range(2):
            row = conn.execute(select).first()
            now = time.time()
            if row is None:
                updated = change(None)
                encoded = self._encode(updated, what)
                inserted = conn.execute(self._insert(S.profiles).values(
                    user_id=uid, profile=encoded, state_version=_version(updated), created_at=now,
                    updated_at=now, version=1).on_conflict_do_nothing(index_elements=["user_id"])
                    .returning(t.version)).first()
                if inserted is not None:
                    return updated, 1
                continue    # another worker created it meanwhile: lock it and change that one
            updated = change(self._decode(row.profile, what))
            conn.execute(sa.update(S.profiles).where(t.user_id == uid).values(
                profile=self._encode(updated, what), state_version=_version(updated), updated_at=now,
                version=t.version + 1))
            return updated, int(row.version) + 1
        raise StoreError(f"could not update the {what}: it was created and deleted concurrently; try again")

    def _log_feedback(self, conn: sa.Connection, events: Sequence[FeedbackEvent]) -> None:
        if events:
            conn.execute(sa.insert(S.feedback), [
                {"user_id": None if e.user_id is None else str(e.user_id), "session_id": str(e.session_id),
                 "item_id": str(e.item_id), "kind": str(e.kind), "at": float(e.at)} for e in events])

    def _insert(self, table: sa.Table):
        return (pg_dialect.insert(table) if self.dialect == "postgresql" else sqlite_dialect.insert(table))

    def _upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str], update: list[str],
                bump: str | None = None):
        statement = self._insert(table).values(**values)
        changes: dict[str, Any] = {name: statement.excluded[name] for name in update}
        if bump is not None:
            changes[bump] = table.c[bump] + 1
        return statement.on_conflict_do_update(index_elements=keys, set_=changes)

    # ------------------------------------------------------------------ internals: forget
    def _user_key(self, conn: sa.Connection, user_id: str) -> str:
        """A keyed hash of a user id: lets ``forget`` refuse late writes without keeping the id."""
        if self._salt is None:
            m = S.store_meta.c
            conn.execute(self._insert(S.store_meta).values(key="forget_salt", value=secrets.token_hex(32))
                         .on_conflict_do_nothing(index_elements=["key"]))
            self._salt = bytes.fromhex(conn.execute(sa.select(m.value).where(m.key == "forget_salt")).scalar_one())
        return hmac.new(self._salt, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def _forgotten_since(self, conn: sa.Connection, user_id: str, started_at: float) -> bool:
        f = S.forgotten.c
        if conn.execute(sa.select(sa.func.count()).select_from(S.forgotten)).scalar() == 0:
            return False     # the usual case: nobody forgotten lately, no salt needed
        at = conn.execute(sa.select(f.at).where(f.user_key == self._user_key(conn, user_id))).scalar()
        return at is not None and float(at) >= started_at

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it to zero bytes, so deleted text is
        in neither. Waits (up to the busy timeout) for readers of other processes to finish."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            busy, _log, _done = self._outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
            if not busy:
                return
            if time.monotonic() > deadline:
                logger.warning("store %s: the WAL could not be truncated after forget (busy readers); "
                               "the next checkpoint will", self.backend.where)
                return
            time.sleep(0.05)

    def _outside_transaction(self, statement: str) -> tuple:
        """Run a SQLite statement that must not be inside a transaction (checkpoint, VACUUM)."""
        with translated_errors(self.backend, "maintain the store", self.busy_timeout):
            raw = self.engine.raw_connection()
            try:
                driver = raw.driver_connection
                assert driver is not None
                return tuple(driver.execute(statement).fetchone() or ())
            finally:
                raw.close()

    # ------------------------------------------------------------------ internals: schema
    def _migrate(self) -> None:
        dialect = self.dialect
        with self._write("create the schema") as conn:
            self._migration_lock(conn)
            conn.exec_driver_sql(S.VERSION_TABLE.replace(
                "{double}", "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"))
            start = _current_version(conn)
        if start == S.SCHEMA_VERSION:
            return
        for migration in S.MIGRATIONS:
            with self._write(f"migrate the store to schema {migration.version}") as conn:
                self._migration_lock(conn)
                # Re-read under the lock: another process may have migrated meanwhile.
                current = _current_version(conn)
                if current > S.SCHEMA_VERSION:
                    raise StoreError(
                        f"the chatrec store {self.backend.where} has schema version {current}, newer "
                        f"than this chatrec knows ({S.SCHEMA_VERSION}): upgrade chatrec, or point "
                        "CHATREC_HOME / CHATREC_STORE_URL elsewhere")
                if migration.version <= current:
                    continue
                for statement in migration.sql(dialect):
                    conn.exec_driver_sql(statement)
                conn.execute(sa.insert(S.schema_version).values(
                    version=migration.version, description=migration.description, applied_at=time.time()))
            logger.info("store %s migrated to schema %d (%s)", self.backend.where, migration.version,
                        migration.description)
        if dialect == "sqlite" and 0 < start < 3:
            # Rows written before secure_delete was on may have left text in free pages.
            self._outside_transaction("VACUUM")
            self._checkpoint()

    def _migration_lock(self, conn: sa.Connection) -> None:
        if self.dialect == "postgresql":   # SQLite: BEGIN IMMEDIATE already serialises writers
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))

    # ------------------------------------------------------------------ internals: values
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
            raise StoreError(f"the {what} in {self.backend.where} is not valid JSON ({exc}); `chatrec forget` "
                             "the user, or delete that row") from exc
        if not isinstance(value, dict):
            raise StoreError(f"the {what} in {self.backend.where} is not a JSON object")
        return value


def _current_version(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(S.schema_version.c.version), 0))).scalar_one())


def _version(value: dict) -> int | None:
    version = value.get("schema_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None
