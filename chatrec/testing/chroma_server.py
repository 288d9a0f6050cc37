"""``chroma run`` on a free loopback port, for tests and benchmarks; stopped by its pid.

    with ChromaServer(folder) as server:
        server.url                      # http://127.0.0.1:PORT
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from chatrec.testing.postgres import free_port


class ChromaUnavailable(RuntimeError):
    """The ``chroma`` command is not installed (it comes with the chromadb package)."""


class ChromaServer:
    """A Chroma server storing its data in ``folder`` for the life of the ``with`` block."""

    def __init__(self, folder: Path, port: int | None = None):
        found = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        if not Path(found).is_file():
            raise ChromaUnavailable("the chroma CLI is not installed (pip install chromadb)")
        self.command = found
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.process = subprocess.Popen(
            [self.command, "run", "--path", str(self.folder), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"chroma run did not start on port {self.port}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
