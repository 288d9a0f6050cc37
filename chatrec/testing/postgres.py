"""A throw-away PostgreSQL cluster on loopback, for tests and benchmarks.

``initdb`` into a temporary folder, ``postgres`` on a free port of 127.0.0.1 with its socket in
that folder, stopped by its pid and the folder removed at the end. As root (CI), the cluster runs
as the ``postgres`` system user (PostgreSQL refuses to run as root).

    with PostgresServer() as server:
        url = server.create_database("t1")     # postgresql://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import LiteralString

import psycopg
from psycopg import sql


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (``apt-get install postgresql``)."""


def find_bin_dir() -> Path:
    """Where ``initdb`` and ``postgres`` are: Debian's versioned folder (newest first), or PATH."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True,
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0):
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster for the life of the ``with`` block."""

    def __init__(self, port: int | None = None):
        self.bin = find_bin_dir()
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="chatrec-pg-"))
        self.data = self.folder / "data"
        self.process: subprocess.Popen | None = None
        self._as_root = os.geteuid() == 0

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self._as_root else list(args)

    def start(self) -> PostgresServer:
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(self._cmd(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                 "-E", "UTF8", "--no-sync"),
                       check=True, capture_output=True, timeout=120)
        log = self.folder / "postgres.log"
        # fsync off: a test cluster lives for one run; crash safety is PostgreSQL's own business.
        self.process = subprocess.Popen(
            self._cmd(str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
                      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
                      "-c", "shared_buffers=32MB"),
            stdout=subprocess.DEVNULL, stderr=open(log, "ab"),  # noqa: SIM115 - closed with the process
            start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start: {log.read_text(errors='replace')[-2000:]}"
                                       ) from None
                time.sleep(0.2)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def query(self, database: str, statement: LiteralString, *params) -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            return list(conn.execute(statement, params or None).fetchall())

    def dump(self, database: str) -> str:
        """``pg_dump`` of a database as SQL text (every row, for "is anything left?" checks)."""
        out = subprocess.run([str(self.bin / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                              "--data-only", database], check=True, capture_output=True, timeout=120)
        return out.stdout.decode("utf-8", errors="replace")

    def stop(self) -> None:
        """Fast shutdown by the server's pid (SIGINT), then remove the folder."""
        if self.process is not None and self.process.poll() is None:
            # As root, runuser's child is the postmaster: signal the whole group we started.
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
