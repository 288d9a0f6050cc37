"""Session leases: while one worker reads, thinks about and writes a session, another worker's
turn on that session waits instead of racing it.

Versioned writes already make a lost write impossible: a worker that saves a stale session gets
``VersionConflict`` and redoes its turn. But optimistic retries alone do not guarantee progress:
a long turn (understanding, retrieval, ranking) keeps losing to another worker's short writes
(feedback buttons) and, after its retries, gives up. A lease held across the turn's steps makes
turns of one session take their turn across processes, as they already do across threads of one
process; the version check stays as the safety net (a lease that timed out, a crashed holder).

* PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) keyed by a hash of the session
  id, held on a connection of a separate small pool (so leases never starve the store's pool).
  PostgreSQL queues waiters fairly and releases the lock if the holder's connection dies.
* SQLite: a POSIX record lock (``fcntl.lockf``) on one byte of a lock file beside the database,
  at an offset given by the same hash. The kernel releases it if the holder dies. Record locks
  are per process, so threads of one process are kept apart by the repository's own locks.

A PostgreSQL lease that cannot be had within ``timeout_s`` is logged and the turn goes ahead
unleased; a SQLite lease waits for its holder (who holds it for milliseconds, or dies and drops it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

logger = logging.getLogger(__name__)

#: How long a turn waits for another worker's turn on the same session before going ahead.
LEASE_TIMEOUT_S = 30.0
_OFFSETS = 1 << 40        # byte offsets of the SQLite lock file: collisions are negligible


class SessionLeases(Protocol):
    def hold(self, session_id: str, timeout_s: float = LEASE_TIMEOUT_S) -> AbstractContextManager[bool]:
        """True inside when the lease is held, False when it could not be had."""
        ...

    def close(self) -> None: ...


def lease_key(session_id: str) -> int:
    """A signed 64-bit key for a session id (PostgreSQL's advisory lock key type)."""
    digest = hashlib.blake2b(session_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLeases:
    """Advisory locks on a dedicated pool of the same database."""

    def __init__(self, engine: sa.Engine):
        self.engine = sa.create_engine(engine.url, pool_size=2, max_overflow=62, pool_pre_ping=True,
                                       pool_recycle=1800, pool_timeout=LEASE_TIMEOUT_S,
                                       connect_args={"connect_timeout": 10,
                                                     "application_name": "chatrec-leases"})

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = LEASE_TIMEOUT_S) -> Iterator[bool]:
        key = lease_key(session_id)
        try:
            conn = self.engine.connect()
        except sa_exc.SQLAlchemyError as exc:
            logger.warning("no lease for session %s (%s): going ahead on versioned writes alone",
                           session_id, type(exc).__name__)
            yield False
            return
        held = False
        try:
            try:
                # SET LOCAL lasts until the commit below; the advisory lock itself outlives it.
                conn.execute(sa.text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
                conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
                conn.commit()
                held = True
            except sa_exc.SQLAlchemyError as exc:
                conn.rollback()
                logger.warning("no lease for session %s within %.0f s (%s): going ahead on versioned "
                               "writes alone", session_id, timeout_s, type(exc).__name__)
            yield held
        finally:
            if held:
                try:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
                except sa_exc.SQLAlchemyError:
                    # Closing the connection for good releases every lock it held.
                    conn.invalidate()
            conn.close()

    def close(self) -> None:
        self.engine.dispose()


class FileLeases:
    """POSIX record locks on a lock file beside a SQLite database."""

    def __init__(self, database: Path):
        self.path = database.with_name(database.name + "-leases")
        self._fd: int | None = None
        self._opening = threading.Lock()

    def _file(self) -> int:
        # One descriptor for the process's life: closing any descriptor of the file would drop
        # every record lock this process holds on it.
        with self._opening:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            return self._fd

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = LEASE_TIMEOUT_S) -> Iterator[bool]:
        import fcntl

        offset = lease_key(session_id) % _OFFSETS
        try:
            fd = self._file()
            # Blocking: the kernel wakes the waiter when the holder unlocks or dies; turns hold
            # the lease for milliseconds (LLM phrasing happens outside it).
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, offset)
        except OSError as exc:
            logger.warning("no lease for session %s (%s): going ahead on versioned writes alone",
                           session_id, exc)
            yield False
            return
        try:
            yield True
        finally:
            try:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
            except OSError:
                logger.exception("could not release the lease of session %s", session_id)

    def close(self) -> None:
        with self._opening:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class NoLeases:
    """For platforms without POSIX record locks: versioned writes alone."""

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = LEASE_TIMEOUT_S) -> Iterator[bool]:
        yield False

    def close(self) -> None:
        pass


def leases_for(dialect: str, engine: sa.Engine, path: Path | None) -> SessionLeases:
    if dialect == "postgresql":
        return PostgresLeases(engine)
    if path is not None and os.name == "posix":
        return FileLeases(path)
    return NoLeases()
