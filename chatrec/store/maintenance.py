"""The store's upkeep outside its rows: the schema brought to the current version (one migrating
worker at a time) and SQLite's write-ahead log copied back and truncated, so text deleted by
``forget`` is left in neither file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlalchemy as sa

from chatrec.errors import StoreError
from chatrec.store import schema as S
from chatrec.store.engine import Backend, translated_errors

logger = logging.getLogger(__name__)

_MIGRATION_LOCK = 7_262_001      # PostgreSQL advisory lock key: one migrating worker at a time

#: Opens a write transaction named for error messages (``Store._write``).
WriteTransaction = Callable[[str], AbstractContextManager[sa.Connection]]


def current_version(conn: sa.Connection) -> int:
    """The schema version the database is at (0: a new, empty database)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(S.schema_version.c.version), 0))).scalar_one())


def migrate(backend: Backend, write: WriteTransaction, busy_timeout: float) -> None:
    """Create the schema, or apply the migrations it lacks, each in its own transaction.

    Raises:
        StoreError: the database was written by a newer chatrec.
    """
    dialect = backend.dialect
    with write("create the schema") as conn:
        _migration_lock(conn, dialect)
        conn.exec_driver_sql(S.VERSION_TABLE.replace(
            "{double}", "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"))
        start = current_version(conn)
    if start == S.SCHEMA_VERSION:
        return
    for migration in S.MIGRATIONS:
        with write(f"migrate the store to schema {migration.version}") as conn:
            _migration_lock(conn, dialect)
            # Re-read under the lock: another process may have migrated meanwhile.
            current = current_version(conn)
            if current > S.SCHEMA_VERSION:
                raise StoreError(
                    f"the chatrec store {backend.where} has schema version {current}, newer "
                    f"than this chatrec knows ({S.SCHEMA_VERSION}): upgrade chatrec, or point "
                    "CHATREC_HOME / CHATREC_STORE_URL elsewhere")
            if migration.version <= current:
                continue
            for statement in migration.sql(dialect):
                conn.exec_driver_sql(statement)
            conn.execute(sa.insert(S.schema_version).values(
                version=migration.version, description=migration.description, applied_at=time.time()))
        logger.info("store %s migrated to schema %d (%s)", backend.where, migration.version,
                    migration.description)
    if dialect == "sqlite" and 0 < start < 3:
        # Rows written before secure_delete was on may have left text in free pages.
        outside_transaction(backend, busy_timeout, "VACUUM")
        checkpoint(backend, busy_timeout)


def checkpoint(backend: Backend, busy_timeout: float) -> None:
    """Copy the WAL into the database file and truncate it to zero bytes, so deleted text is
    in neither. Waits (up to the busy timeout) for readers of other processes to finish."""
    deadline = time.monotonic() + busy_timeout
    while True:
        busy, _log, _done = outside_transaction(backend, busy_timeout, "PRAGMA wal_checkpoint(TRUNCATE)")
        if not busy:
            return
        if time.monotonic() > deadline:
            logger.warning("store %s: the WAL could not be truncated after forget (busy readers); "
                           "the next checkpoint will", backend.where)
            return
        time.sleep(0.05)


def outside_transaction(backend: Backend, busy_timeout: float, statement: str) -> tuple:
    """Run a SQLite statement that must not be inside a transaction (checkpoint, VACUUM)."""
    with translated_errors(backend, "maintain the store", busy_timeout):
        raw = backend.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            return tuple(driver.execute(statement).fetchone() or ())
        finally:
            raw.close()


def _migration_lock(conn: sa.Connection, dialect: str) -> None:
    if dialect == "postgresql":   # SQLite: BEGIN IMMEDIATE already serialises writers
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
