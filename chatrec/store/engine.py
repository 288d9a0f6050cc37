"""SQLAlchemy engines for the two backends, and database errors turned into ``StoreError``s that
say what happened and a next step that loses nothing.

* SQLite (the default, a file under ``CHATREC_HOME``): WAL, ``secure_delete`` (deleted text is
  zeroed, not left in free pages), a busy timeout, and ``BEGIN IMMEDIATE`` for writes so that
  writers queue on the database lock instead of failing when two deferred transactions try to
  upgrade at once.
* PostgreSQL (``CHATREC_STORE_URL=postgresql://user:pass@host:port/db``, through psycopg 3): a
  connection pool that pings connections before use, so a restarted server costs one retry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from chatrec.errors import StoreError

logger = logging.getLogger(__name__)

#: Connections kept per worker process (PostgreSQL); more are opened under load and closed after.
POOL_SIZE = 4
POOL_OVERFLOW = 16


@dataclass(frozen=True)
class Backend:
    """An engine and what to call it in messages (never with a password)."""

    engine: sa.Engine
    dialect: str            # "sqlite" or "postgresql"
    where: str              # the file, or the URL without its password
    path: Path | None       # the SQLite file; None for a server


def is_server_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.split(":", 1)[0].lower() in {
        "postgresql", "postgres", "postgresql+psycopg"}


def connect(location: str | Path, busy_timeout: float = 10.0) -> Backend:
    """An engine for a SQLite file (a path, or ``sqlite:///path``) or a PostgreSQL URL."""
    if is_server_url(location):
        return _postgresql(str(location))
    text = str(location)
    if text.startswith("sqlite:///"):
        location = text[len("sqlite:///"):]
    elif "://" in text:
        raise StoreError(f"unsupported store URL {_safe(text)!r}: use a postgresql:// URL or a "
                         "SQLite file path (CHATREC_STORE_URL)")
    return _sqlite(Path(location).expanduser(), busy_timeout)


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after "://"
        return url.split("://", 1)[0] + "://…"


def _postgresql(url: str) -> Backend:
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(f"CHATREC_STORE_URL is not a valid database URL ({_safe(url)}): {exc}") from exc
    parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(
        parsed, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=True,
        pool_recycle=1800, pool_timeout=30,
        connect_args={"connect_timeout": 10, "application_name": "chatrec"})
    return Backend(engine, "postgresql", parsed.render_as_string(hide_password=True), None)


def _sqlite(path: Path, busy_timeout: float) -> Backend:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder of the chatrec store {path}: {exc}") from exc
    engine = sa.create_engine(
        f"sqlite:///{path}", pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW * 4,
        connect_args={"timeout": busy_timeout, "check_same_thread": False})
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # No implicit transactions from the sqlite3 module: the "begin" hook below says BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("store %s is in %s mode, not WAL (network file system?)", path, mode)
        cursor.execute("PRAGMA synchronous = NORMAL")   # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA secure_delete = ON")     # deleted rows are zeroed on disk
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return Backend(engine, "sqlite", str(path), path)


@contextmanager
def translated_errors(backend: Backend, action: str, busy_timeout: float) -> Iterator[None]:
    """Turn the driver's exceptions into a ``StoreError`` that says what to do."""
    try:
        yield
    except StoreError:
        raise
    except sa_exc.DBAPIError as exc:
        raise StoreError(describe(backend, action, exc, busy_timeout)) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(f"could not {action} in the chatrec store {backend.where}: {exc}") from exc


def describe(backend: Backend, action: str, exc: sa_exc.DBAPIError, busy_timeout: float) -> str:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if backend.dialect == "postgresql":
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError):
            return (f"could not {action}: the PostgreSQL store at {backend.where} is unreachable "
                    f"or refused the connection ({detail}). Check that the server runs and "
                    "CHATREC_STORE_URL; the data there is untouched.")
        return f"could not {action} in the PostgreSQL store at {backend.where}: {detail}"
    if "locked" in detail or "busy" in detail:
        return (f"could not {action}: the chatrec store {backend.where} stayed locked by another "
                f"writer for more than {busy_timeout:g} s ({detail}). Try again; if it persists, "
                "look for a stuck chatrec process using the same CHATREC_HOME.")
    return damaged(backend.where, action, detail)


def damaged(where: str, action: str, detail: str) -> str:
    """The message for an unreadable SQLite file: it names the file and advises nothing that
    would destroy what is still in it."""
    return (f"could not {action}: {where} is not a readable chatrec store ({detail}). "
            "The file is left as it is: keep a copy (it holds users' conversations), and run "
            "chatrec with CHATREC_HOME pointing to another folder meanwhile.")
