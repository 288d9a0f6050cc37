"""Load the agent in the background, so the web server answers while the catalog, knowledge
graph and index are being read (or, on a first start, built).

The page polls ``status()`` and shows it; handlers that need the agent call ``get()``, which
waits for it a little and otherwise raises ``AgentNotReady`` with a message to show the user.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatrec.agent import Agent

logger = logging.getLogger(__name__)


class AgentNotReady(RuntimeError):
    """The agent is still loading (or failed to load); the message says which, for the user."""


@dataclass(frozen=True)
class LoaderStatus:
    """Attributes:
        state: "loading", "warming" (the agent answers; its vector index is still being built in
            the background), "ready" or "failed".
        message: one line for the page ("Loading the catalog…", the build's progress, the error).
        elapsed_s: seconds since loading started (or how long it took, once done).
    """

    state: str
    message: str
    elapsed_s: float


class AgentLoader:
    """Runs ``factory()`` once in a daemon thread and hands out its result.

    Args:
        factory: builds the agent (``Agent.from_config(...)``), may take minutes on a first start.
        warm_up: optional callable run on the agent after loading (imports, caches).
    """

    def __init__(self, factory: Callable[[], Agent], warm_up: Callable[[Agent], None] | None = None):
        self._factory = factory
        self._warm_up = warm_up
        self._agent: Agent | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def ready_made(cls, agent: Agent) -> AgentLoader:
        """A loader that already holds ``agent`` (tests, embedding the app in other code)."""
        loader = cls(lambda: agent)
        loader._agent = agent
        loader._started_at = loader._finished_at = time.perf_counter()
        loader._done.set()
        return loader

    def start(self) -> AgentLoader:
        with self._lock:
            if self._thread is None and not self._done.is_set():
                self._started_at = time.perf_counter()
                self._thread = threading.Thread(target=self._run, name="chatrec-agent-loader",
                                                daemon=True)
                self._thread.start()
        return self

    def _run(self) -> None:
        try:
            agent = self._factory()
            if self._warm_up is not None:
                try:
                    self._warm_up(agent)
                except Exception:  # noqa: BLE001 - warming up is an optimisation only
                    logger.exception("warm-up failed")
            self._agent = agent
        except BaseException as exc:  # noqa: BLE001 - reported on the page and by get()
            logger.exception("loading the agent failed")
            self._error = exc
        finally:
            self._finished_at = time.perf_counter()
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._agent is not None

    def status(self) -> LoaderStatus:
        now = time.perf_counter()
        start = self._started_at if self._started_at is not None else now
        if not self._done.is_set():
            return LoaderStatus("loading", "Loading the catalog, knowledge graph and index…",
                                round(now - start, 1))
        took = round((self._finished_at or now) - start, 1)
        if self._error is not None:
            return LoaderStatus("failed", f"chatrec could not start: {self._error}", took)
        building = _background_work(self._agent)
        if building:
            return LoaderStatus("warming", building, took)
        return LoaderStatus("ready", "Ready", took)

    @property
    def warming(self) -> bool:
        """The agent answers while its vector index is still being built."""
        return self.ready and _background_work(self._agent) is not None

    def get(self, timeout: float | None = None) -> Agent:
        """The agent, waiting up to ``timeout`` seconds for it (None: forever)."""
        self.start()
        if not self._done.wait(timeout):
            raise AgentNotReady("I'm still getting ready (loading the catalog and the index; the "
                                "very first start also builds them). Try again in a moment.")
        if self._error is not None or self._agent is None:
            raise AgentNotReady(f"chatrec could not start: {self._error}")
        return self._agent


def _background_work(agent: object) -> str | None:
    """What the agent's resources are still building, in one line (``BackgroundIndex``), or
    ``None``; a build that failed is not waited for (its reason is logged)."""
    index = getattr(getattr(agent, "resources", None), "index", None)
    status_line = getattr(index, "status_line", None)
    if not callable(status_line) or getattr(index, "error", None) is not None:
        return None
    line = status_line()
    return line if isinstance(line, str) else None
