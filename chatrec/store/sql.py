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

The statements on rows are ``chatrec.store.rows``; migrations and SQLite's WAL upkeep are
``chatrec.store.maintenance``; this class owns the transactions and the public interface.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from chatrec.errors import StoreError
from chatrec.store import schema as S
from chatrec.store.engine import Backend, connect, damaged, translated_errors
from chatrec.store.leases import LEASE_TIMEOUT_S, SessionLeases, leases_for
from chatrec.store.maintenance import checkpoint, current_version, migrate
from chatrec.store.records import (
    FeedbackEvent,
    ProfileChange,
    ProfileRecord,
    SessionRecord,
    SessionWrite,
    WriteResult,
)
from chatrec.store.rows import Rows

logger = logging.getLogger(__name__)

#: How long ``forget`` remembers (as a keyed hash) that a user was forgotten: longer than any
#: turn can be in flight, short enough to keep nothing lasting about them.
FORGET_GRACE_S = 15 * 60


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
        self._rows = Rows(self.dialect, self.backend.where)
        try:
            if check and self.dialect == "sqlite":
                with self._read("check the store") as conn:
                    problems = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise StoreError(damaged(self.backend.where, "open the store", "; ".join(problems[:3])))
            migrate(self.backend, self._write, self.busy_timeout)
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
        return SessionRecord(str(session_id), row.user_id, self._rows.decode(row.state, f"session {session_id!r}"),
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
            current = self._rows.locked_session(conn, session_id)
            state = change(current)
            owner = user_id if user_id is not None else (current.user_id if current else None)
            version = self._rows.put_session(conn, SessionWrite(session_id, state, owner,
                                                           current.version if current else 0))
            changed = self._rows.change_profile(conn, *profile) if profile is not None else None
            self._rows.log_feedback(conn, feedback)
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
            version = self._rows.put_session(conn, session) if session is not None else None
            changed = self._rows.change_profile(conn, *profile) if profile is not None else None
            self._rows.log_feedback(conn, feedback)
        return WriteResult(version, *(changed or (None, None)))

    # ------------------------------------------------------------------ profiles
    def read_profile(self, user_id: str) -> ProfileRecord | None:
        """A user's stored profile with its row version, or None."""
        t = S.profiles.c
        with self._read("read a profile") as conn:
            row = conn.execute(sa.select(t.profile, t.version).where(t.user_id == str(user_id))).first()
        if row is None:
            return None
        return ProfileRecord(str(user_id), self._rows.decode(row.profile, f"profile of {user_id!r}"), int(row.version))

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
            key = self._rows.user_key(conn, uid)
            conn.execute(self._rows.upsert(S.forgotten, {"user_key": key, "at": now}, ["user_key"], ["at"]))
        if self.dialect == "sqlite":
            checkpoint(self.backend, self.busy_timeout)
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
            "profile": None if profile is None else self._rows.decode(profile.profile, what),
            "profile_created_at": None if profile is None else profile.created_at,
            "profile_updated_at": None if profile is None else profile.updated_at,
            "sessions": [{"session_id": s.session_id, "created_at": s.created_at, "updated_at": s.updated_at,
                          "state_version": s.state_version,
                          "state": self._rows.decode(s.state, f"session {s.session_id!r}")} for s in sessions],
            "feedback": [{"session_id": e.session_id, "item_id": e.item_id, "kind": e.kind, "at": e.at}
                         for e in feedback],
        }

    # ------------------------------------------------------------------ housekeeping
    @property
    def schema_version(self) -> int:
        with self._read("read the schema version") as conn:
            return current_version(conn)

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
