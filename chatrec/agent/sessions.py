"""The session repository: where a turn gets its ``SessionState`` and ``UserProfile`` from, and
where it puts them back.

It keeps bounded in-memory caches (least recently used first out) in front of the store, one lock
per session (held while a turn reads and writes the state), and turns unreadable stored data into
a fresh start rather than a failed turn. The store is optional: without one, sessions live in
memory only.

The store is reached through its room's ``chatrec.store.SessionStore`` protocol, in five places:
:meth:`SessionRepository._read_session` (``read_session``, which also returns the row version),
:meth:`SessionRepository.save` (``write``), :meth:`SessionRepository._read_profile`,
:meth:`SessionRepository.save_profile` (``update_profile``), and ``export``/``forget``. ``save`` and
``save_profile`` are the only writes, so a versioned read-modify-write goes there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from chatrec.agent.config import CachePolicy
from chatrec.agent.lru import LRU
from chatrec.agent.state import SessionState, UserProfile, migrate_profile, migrate_session
from chatrec.errors import ChatrecError
from chatrec.store.protocol import SessionStore
from chatrec.store.records import SessionWrite

logger = logging.getLogger(__name__)

class _SessionLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0   # threads holding or waiting for the lock: never evicted while > 0


class SessionRepository:
    """Sessions and profiles, cached in memory in front of an optional store.

    Args:
        store: where sessions and profiles persist (None: memory only).
        caches: how many sessions, profiles and idle session locks stay in memory.
    """

    def __init__(self, store: SessionStore | None, caches: CachePolicy | None = None):
        caches = caches or CachePolicy()
        self.store = store
        self._sessions: LRU[str, SessionState] = LRU(caches.sessions)
        self._profiles: LRU[str, UserProfile] = LRU(caches.profiles)
        self._locks: OrderedDict[str, _SessionLock] = OrderedDict()
        self._max_locks = max(1, caches.locks)
        self._locks_guard = threading.Lock()

    # ------------------------------------------------------------------ locks
    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        """Hold the session's lock. Surfaces drive streams from changing threads, so a turn holds
        it only while it reads and writes the state, never across a ``yield`` to the surface."""
        with self._locks_guard:
            entry = self._locks.get(session_id)
            if entry is None:
                entry = self._locks[session_id] = _SessionLock()
            self._locks.move_to_end(session_id)
            entry.users += 1
            self._evict_idle_locks()
        try:
            with entry.lock:
                yield
        finally:
            with self._locks_guard:
                entry.users -= 1

    def _evict_idle_locks(self) -> None:
        excess = len(self._locks) - self._max_locks
        if excess <= 0:
            return
        idle = [sid for sid, entry in self._locks.items() if entry.users == 0][:excess]
        for sid in idle:
            del self._locks[sid]

    # ------------------------------------------------------------------ sessions
    def load(self, session_id: str, user_id: str | None = None) -> SessionState:
        """The session's state (fresh when unknown or unreadable), attached to ``user_id`` when
        one is given. Call under :meth:`lock`."""
        state = self._sessions.get(session_id)
        if state is None:
            state = self._read_session(session_id)
        if state is None:
            state = SessionState(session_id=session_id, user_id=user_id)
        if user_id is not None and state.user_id != user_id:
            state.user_id = user_id
        self._cache(state)
        return state

    def _read_session(self, session_id: str) -> SessionState | None:
        if self.store is None:
            return None
        try:
            record = self.store.read_session(session_id)
        except ChatrecError:
            logger.exception("could not load session %s; starting fresh", session_id)
            return None
        if record is None or not record.state:
            return None
        try:
            return SessionState.model_validate(migrate_session(dict(record.state)))
        except Exception:  # noqa: BLE001 - an unreadable old state must not block the user
            logger.exception("stored session %s unreadable; starting fresh", session_id)
            return None

    def _cache(self, state: SessionState) -> None:
        self._sessions.put(state.session_id, state)

    def save(self, state: SessionState) -> None:
        """Keep ``state`` and write it to the store."""
        self._cache(state)
        if self.store is not None:
            self.store.write(SessionWrite(state.session_id, state.model_dump(mode="json"), state.user_id))

    def drop(self, session_id: str) -> None:
        """Forget the cached state (a failed turn: the stored state is the last good one)."""
        self._sessions.pop(session_id)

    # ------------------------------------------------------------------ profiles
    def profile(self, user_id: str | None) -> UserProfile | None:
        """The user's profile (empty for a new user); None for an anonymous session."""
        if user_id is None:
            return None
        profile = self._profiles.get(user_id)
        if profile is None:
            profile = self._read_profile(user_id) or UserProfile(user_id=user_id)
            # Two sessions of one user loading at once must share one profile object.
            profile = self._profiles.setdefault(user_id, profile)
        return profile

    def _read_profile(self, user_id: str) -> UserProfile | None:
        data = self.store.load_profile(user_id) if self.store is not None else None
        if not data:
            return None
        try:
            return UserProfile.model_validate(migrate_profile(data))
        except Exception:  # noqa: BLE001
            logger.exception("stored profile of %s unreadable; starting fresh", user_id)
            return None

    def save_profile(self, profile: UserProfile) -> None:
        profile.updated_at = time.time()
        self._profiles.put(profile.user_id, profile)
        if self.store is not None:
            document = profile.model_dump(mode="json")
            self.store.update_profile(profile.user_id, lambda _stored: document)

    # ------------------------------------------------------------------ users
    def export(self, user_id: str) -> list[dict]:
        """The user's sessions, JSON-serialisable (from the store, else from memory)."""
        if self.store is not None:
            return self.store.export(user_id).get("sessions", [])
        return [s.model_dump(mode="json") for s in self._sessions.values() if s.user_id == user_id]

    def forget(self, user_id: str) -> dict:
        """Delete everything kept about a user. Returns what the store deleted."""
        self._profiles.pop(user_id)
        self._sessions.drop_where(lambda s: s.user_id == user_id)
        if self.store is not None:
            return self.store.forget(user_id)
        return {"user_id": user_id}
