"""``Rows``: the statements a ``Store`` transaction runs on its tables — a session written under
its version check, a profile changed under its row lock, feedback appended, a forgotten user's
late writes refused — and the JSON that values are kept as. Written once over SQLAlchemy Core,
compiled for SQLite or PostgreSQL; the ``Store`` owns the transactions these run in."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from chatrec.errors import StoreError
from chatrec.store import schema as S
from chatrec.store.records import (
    FeedbackEvent,
    ProfileChange,
    SessionGone,
    SessionRecord,
    SessionWrite,
    VersionConflict,
)


class Rows:
    """The row statements of one store.

    Args:
        dialect: "sqlite" or "postgresql" (the upsert syntax differs).
        where: the store's name in messages (never with a password).
    """

    def __init__(self, dialect: str, where: str):
        self.dialect = dialect
        self.where = where
        self._salt: bytes | None = None

    # ------------------------------------------------------------------ sessions
    def put_session(self, conn: sa.Connection, write: SessionWrite) -> int:
        """Write a session (conditionally on ``write.expected_version`` when given); its new version.

        Raises:
            VersionConflict: the stored row is at another version (nothing written).
            SessionGone: the session was deleted, or its user forgotten after ``write.started_at``.
        """
        sid = str(write.session_id)
        user_id = None if write.user_id is None else str(write.user_id)
        text = self.encode(write.state, f"session {sid!r}")
        if user_id is not None and write.started_at is not None and self.forgotten_since(
                conn, user_id, write.started_at):
            raise SessionGone(sid, write.expected_version or 0, "forgotten with its user")
        now = time.time()
        t = S.sessions.c
        values = {"user_id": user_id, "state": text, "state_version": schema_version_of(write.state),
                  "updated_at": now}
        expected = write.expected_version
        if expected is None:
            statement = self.upsert(S.sessions, {"session_id": sid, **values, "created_at": now, "version": 1},
                                    ["session_id"], list(values), bump="version")
            return int(conn.execute(statement.returning(t.version)).scalar_one())
        if expected == 0:
            # RETURNING, not rowcount: psycopg reports no row count for an INSERT through SQLAlchemy.
            inserted = conn.execute(self.insert(S.sessions).values(
                session_id=sid, **values, created_at=now, version=1)
                .on_conflict_do_nothing(index_elements=["session_id"]).returning(t.version)).first()
            if inserted is None:
                raise VersionConflict(sid, 0, self.stored_version(conn, sid))
            return 1
        version = conn.execute(sa.update(S.sessions).where(t.session_id == sid, t.version == expected)
                               .values(**values, version=t.version + 1).returning(t.version)).scalar()
        if version is None:
            actual = self.stored_version(conn, sid)
            if actual == 0:
                raise SessionGone(sid, expected)
            raise VersionConflict(sid, expected, actual)
        return int(version)

    def locked_session(self, conn: sa.Connection, session_id: str) -> SessionRecord | None:
        """The session, its row locked until the transaction ends; None when there is none."""
        t = S.sessions.c
        row = conn.execute(sa.select(t.user_id, t.state, t.version).where(t.session_id == session_id)
                           .with_for_update()).first()
        if row is None:
            return None
        return SessionRecord(session_id, row.user_id, self.decode(row.state, f"session {session_id!r}"),
                             int(row.version))

    def stored_version(self, conn: sa.Connection, session_id: str) -> int:
        t = S.sessions.c
        version = conn.execute(sa.select(t.version).where(t.session_id == session_id)).scalar()
        return 0 if version is None else int(version)

    # ------------------------------------------------------------------ profiles, feedback
    def change_profile(self, conn: sa.Connection, user_id: str, change: ProfileChange) -> tuple[dict, int]:
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
                encoded = self.encode(updated, what)
                inserted = conn.execute(self.insert(S.profiles).values(
                    user_id=uid, profile=encoded, state_version=schema_version_of(updated), created_at=now,
                    updated_at=now, version=1).on_conflict_do_nothing(index_elements=["user_id"])
                    .returning(t.version)).first()
                if inserted is not None:
                    return updated, 1
                continue    # another worker created it meanwhile: lock it and change that one
            updated = change(self.decode(row.profile, what))
            conn.execute(sa.update(S.profiles).where(t.user_id == uid).values(
                profile=self.encode(updated, what), state_version=schema_version_of(updated), updated_at=now,
                version=t.version + 1))
            return updated, int(row.version) + 1
        raise StoreError(f"could not update the {what}: it was created and deleted concurrently; try again")

    def log_feedback(self, conn: sa.Connection, events: Sequence[FeedbackEvent]) -> None:
        if events:
            conn.execute(sa.insert(S.feedback), [
                {"user_id": None if e.user_id is None else str(e.user_id), "session_id": str(e.session_id),
                 "item_id": str(e.item_id), "kind": str(e.kind), "at": float(e.at)} for e in events])

    # ------------------------------------------------------------------ forgotten users
    def user_key(self, conn: sa.Connection, user_id: str) -> str:
        """A keyed hash of a user id: lets ``forget`` refuse late writes without keeping the id."""
        if self._salt is None:
            m = S.store_meta.c
            conn.execute(self.insert(S.store_meta).values(key="forget_salt", value=secrets.token_hex(32))
                         .on_conflict_do_nothing(index_elements=["key"]))
            self._salt = bytes.fromhex(conn.execute(sa.select(m.value).where(m.key == "forget_salt")).scalar_one())
        return hmac.new(self._salt, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def forgotten_since(self, conn: sa.Connection, user_id: str, started_at: float) -> bool:
        f = S.forgotten.c
        if conn.execute(sa.select(sa.func.count()).select_from(S.forgotten)).scalar() == 0:
            return False     # the usual case: nobody forgotten lately, no salt needed
        at = conn.execute(sa.select(f.at).where(f.user_key == self.user_key(conn, user_id))).scalar()
        return at is not None and float(at) >= started_at

    # ------------------------------------------------------------------ statements, values
    def insert(self, table: sa.Table) -> Any:
        return (pg_dialect.insert(table) if self.dialect == "postgresql" else sqlite_dialect.insert(table))

    def upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str], update: list[str],
               bump: str | None = None) -> Any:
        statement = self.insert(table).values(**values)
        changes: dict[str, Any] = {name: statement.excluded[name] for name in update}
        if bump is not None:
            changes[bump] = table.c[bump] + 1
        return statement.on_conflict_do_update(index_elements=keys, set_=changes)

    def encode(self, value: Any, what: str) -> str:
        if not isinstance(value, dict):
            raise TypeError(f"the store keeps dicts; got {type(value).__name__} for the {what}")
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the {what} is not JSON-serialisable: {exc}") from exc

    def decode(self, text: str, what: str) -> dict:
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"the {what} in {self.where} is not valid JSON ({exc}); `chatrec forget` "
                             "the user, or delete that row") from exc
        if not isinstance(value, dict):
            raise StoreError(f"the {what} in {self.where} is not a JSON object")
        return value


def schema_version_of(value: dict) -> int | None:
    """The ``schema_version`` a stored value declares (kept in its own column for migrations)."""
    version = value.get("schema_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None
