"""The session repository: where a turn gets its ``SessionState`` and ``UserProfile`` from, and
where it puts them back.

It keeps bounded in-memory caches (least recently used first out) in front of the store, one lock
per session (held while a turn reads and writes the state), and turns unreadable stored data into
a fresh start rather than a failed turn. The store is optional: without one, sessions live in
memory only.

With a store, several processes (``chatrec serve`` workers, ``chatrec slack``) share sessions
and profiles, so nothing cached here is trusted blindly:

* ``load`` and ``profile`` revalidate a cached copy against the row version in the store (one
  indexed lookup) and read the row again when another worker wrote it;
* ``save`` writes the session on the condition that it is still at the version it was loaded at,
  together with the profile change and feedback events of the same action, in one transaction.
  When another worker got there first it raises ``VersionConflict`` and the caller redoes its work
  on the new state (``update`` does that for short actions, ``TurnRunner`` for a turn);
* a profile change is a function (add a like, remove a dislike) applied to the profile as stored
  at that moment, never a whole profile written back over someone else's likes.
* A save for a user forgotten after the state was loaded raises ``SessionGone``: a turn in flight
  during ``forget`` does not write the user back.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from chatrec.agent.config import CachePolicy
from chatrec.agent.lru import LRU
from chatrec.agent.state import SessionState, UserProfile, migrate_profile, migrate_session
from chatrec.errors import ChatrecError
from chatrec.store.protocol import SessionStore
from chatrec.store.records import FeedbackEvent, SessionGone, SessionWrite, VersionConflict

#: A change of a user's profile, in place (its return value is ignored). It may run more than
#: once (on the stored profile, after a retry): make it idempotent, like adding to a set.
ProfileEdit = Callable[[UserProfile], object]

#: Attempts of a short read-modify-write before giving up (each conflict means another worker
#: wrote the same session in between; more than a few in a row means something is wrong).
UPDATE_ATTEMPTS = 8

logger = logging.getLogger(__name__)

@dataclass
class _Cached:
    """A cached session: the state, the row version it matches, when this turn loaded it."""

    state: SessionState
    version: int
    loaded_at: float


@dataclass
class _CachedProfile:
    profile: UserProfile
    version: int


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
        self._sessions: LRU[str, _Cached] = LRU(caches.sessions)
        self._profiles: LRU[str, _CachedProfile] = LRU(caches.profiles)
        self._locks: OrderedDict[str, _SessionLock] = OrderedDict()
        self._max_locks = max(1, caches.locks)
        self._locks_guard = threading.Lock()

    # ------------------------------------------------------------------ locks
    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        """Hold the session's lock, and its lease in the store against other workers. Surfaces
        drive streams from changing threads, so a turn holds it only while it reads and writes
        the state, never across a ``yield`` to the surface."""
        with self._locks_guard:
            entry = self._locks.get(session_id)
            if entry is None:
                entry = self._locks[session_id] = _SessionLock()
            self._locks.move_to_end(session_id)
            entry.users += 1
            self._evict_idle_locks()
        try:
            with entry.lock, (self.store.session_lease(session_id) if self.store is not None else nullcontext()):
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
        """The session's state (fresh when unknown or unreadable) — the cached copy when the store
        still holds that version, else the stored one. A session belongs to the user who started
        it: ``user_id`` becomes its owner only when it has none yet (someone else speaking in it
        later does not take it over). Call under :meth:`lock`, and end with :meth:`save` or
        :meth:`drop`."""
        entry = self._sessions.get(session_id)
        if self.store is not None:
            try:
                stored = self.store.session_version(session_id)
            except ChatrecError:
                logger.exception("could not check session %s in the store", session_id)
                stored = entry.version if entry is not None else -1
            if entry is None or entry.version != stored:
                entry = self._read_session(session_id)
        if entry is None:
            entry = _Cached(SessionState(session_id=session_id, user_id=user_id), 0, 0.0)
        entry.loaded_at = time.time()
        if entry.state.user_id is None and user_id is not None:
            entry.state.user_id = user_id
        self._sessions.put(session_id, entry)
        return entry.state

    def _read_session(self, session_id: str) -> _Cached | None:
        assert self.store is not None
        try:
            record = self.store.read_session(session_id)
        except ChatrecError:
            logger.exception("could not load session %s; starting fresh", session_id)
            return None
        if record is None:
            return None
        state = None
        if record.state:
            try:
                state = SessionState.model_validate(migrate_session(dict(record.state)))
            except Exception:  # noqa: BLE001 - an unreadable old state must not block the user
                logger.exception("stored session %s unreadable; starting fresh", session_id)
        # Overwriting an unreadable row is expected: keep its version so the write is allowed.
        return _Cached(state or SessionState(session_id=session_id, user_id=record.user_id), record.version, 0.0)

    def save(self, state: SessionState, profile_edit: ProfileEdit | None = None,
             feedback: Sequence[FeedbackEvent] = (), profile_user: str | None = None) -> None:
        """Write ``state`` (if the stored session is still at the version :meth:`load` saw), the
        ``profile_edit`` of ``profile_user`` (default: the session's owner; in a shared session,
        whoever spoke or pressed) and ``feedback`` in one transaction.

        Raises:
            VersionConflict: another worker wrote the session since it was loaded (or its cached
                copy was evicted, so that cannot be told); nothing was written and the cached
                copy is dropped: load again and redo the change.
            SessionGone: the session or its user was deleted (forget) since it was loaded.
        """
        session_id = state.session_id
        entry = self._sessions.get(session_id)
        loaded_at = entry.loaded_at if entry is not None else time.time()
        owner = profile_user or state.user_id
        if self.store is None:
            self._sessions.put(session_id, _Cached(state, 0, loaded_at))
            profile = self.profile(owner)
            if profile_edit is not None and profile is not None:
                profile_edit(profile)
            return
        if entry is None:
            # Evicted from the cache since it was loaded: the version it was read at is unknown,
            # and writing unconditionally could overwrite another worker's turn. Redo it.
            raise VersionConflict(session_id, -1, -1)
        user_id = state.user_id
        profile_change = None
        if profile_edit is not None and owner is not None:
            profile_change = (owner, self._document_change(owner, profile_edit))
        # Feedback without a user is the session's user's (a button pressed by whoever owns it).
        feedback = [event if event.user_id is not None else replace(event, user_id=user_id) for event in feedback]
        try:
            result = self.store.write(
                SessionWrite(session_id, state.model_dump(mode="json"), user_id,
                             expected_version=entry.version, started_at=loaded_at),
                profile=profile_change, feedback=feedback)
        except VersionConflict:
            self.drop(session_id)
            if owner is not None:
                self._profiles.pop(owner)
            raise
        assert result.session_version is not None
        self._sessions.put(session_id, _Cached(state, result.session_version, loaded_at))
        if result.profile is not None and result.profile_version is not None and owner is not None:
            profile = self._validated_profile(result.profile, owner)
            if profile is not None:
                self._profiles.put(owner, _CachedProfile(profile, result.profile_version))

    def update(self, session_id: str, change: Callable[[SessionState], SessionState | None],
               user_id: str | None = None, profile_edit: ProfileEdit | None = None,
               feedback: Sequence[FeedbackEvent] = (), profile_user: str | None = None) -> SessionState | None:
        """A short read-modify-write of a session, under its lock: ``change(state)`` edits the
        state in place (or returns a replacement); returning None saves nothing. Redone on a
        fresh load when another worker wrote the session in between. Returns what was saved
        (None: nothing, or the session was deleted meanwhile)."""
        with self.lock(session_id):
            for _ in range(UPDATE_ATTEMPTS):
                state = self.load(session_id, user_id)
                changed = change(state)
                if changed is None:
                    return None
                try:
                    self.save(changed, profile_edit, feedback, profile_user)
                    return changed
                except SessionGone:
                    logger.info("session %s was deleted while it was being changed: not written back",
                                session_id)
                    return None
                except VersionConflict:
                    continue
        raise VersionConflict(session_id, -1, -1)

    def drop(self, session_id: str) -> None:
        """Forget the cached state (a failed turn: the stored state is the last good one)."""
        self._sessions.pop(session_id)

    # ------------------------------------------------------------------ profiles
    def profile(self, user_id: str | None) -> UserProfile | None:
        """The user's profile (empty for a new user); None for an anonymous session. With a
        store, a copy revalidated against the stored version: edit it only through ``save``'s
        ``profile_edit`` (the copy itself is never written back)."""
        if user_id is None:
            return None
        entry = self._profiles.get(user_id)
        if self.store is None:
            if entry is None:
                entry = self._profiles.setdefault(user_id, _CachedProfile(UserProfile(user_id=user_id), 0))
            return entry.profile
        try:
            stored = self.store.profile_version(user_id)
        except ChatrecError:
            logger.exception("could not check the profile of %s in the store", user_id)
            stored = entry.version if entry is not None else -1
        if entry is None or entry.version != stored:
            entry = self._read_profile(user_id)
            self._profiles.put(user_id, entry)
        return entry.profile.model_copy(deep=True)

    def _read_profile(self, user_id: str) -> _CachedProfile:
        assert self.store is not None
        try:
            record = self.store.read_profile(user_id)
        except ChatrecError:
            logger.exception("could not load the profile of %s; starting fresh", user_id)
            record = None
        if record is None:
            return _CachedProfile(UserProfile(user_id=user_id), 0)
        return _CachedProfile(self._validated_profile(record.profile, user_id) or UserProfile(user_id=user_id),
                              record.version)

    @staticmethod
    def _validated_profile(data: dict | None, user_id: str) -> UserProfile | None:
        if not data:
            return None
        try:
            return UserProfile.model_validate(migrate_profile(dict(data)))
        except Exception:  # noqa: BLE001
            logger.exception("stored profile of %s unreadable; starting fresh", user_id)
            return None

    def _document_change(self, user_id: str, edit: ProfileEdit) -> Callable[[dict | None], dict]:
        """``edit`` as the store's change of a JSON document (applied under the row lock)."""
        def change(stored: dict | None) -> dict:
            profile = self._validated_profile(stored, user_id) or UserProfile(user_id=user_id)
            edit(profile)
            profile.updated_at = time.time()
            return profile.model_dump(mode="json")
        return change

    def update_profile(self, user_id: str, edit: ProfileEdit) -> UserProfile:
        """Change a user's profile atomically (outside any session)."""
        if self.store is None:
            profile = self.profile(user_id)
            assert profile is not None
            edit(profile)
            return profile
        result = self.store.write(profile=(user_id, self._document_change(user_id, edit)))
        profile = self._validated_profile(result.profile, user_id) or UserProfile(user_id=user_id)
        self._profiles.put(user_id, _CachedProfile(profile, result.profile_version or 0))
        return profile

    # ------------------------------------------------------------------ users
    def export(self, user_id: str) -> list[dict]:
        """The user's sessions, JSON-serialisable (from the store, else from memory)."""
        if self.store is not None:
            return self.store.export(user_id).get("sessions", [])
        return [e.state.model_dump(mode="json") for e in self._sessions.values() if e.state.user_id == user_id]

    def forget(self, user_id: str) -> dict:
        """Delete everything kept about a user: their profile and sessions, and what they said in
        sessions others own (a shared Slack thread). Returns what was deleted. A turn of that user
        in flight (here or in another worker) finds its save refused (``SessionGone``)."""
        self._profiles.pop(user_id)
        if self.store is None:
            self._sessions.drop_where(lambda e: e.state.user_id == user_id)
        # With a store, cached copies stay: ``load`` revalidates them against the store (where
        # they are gone), and a turn in flight needs its entry's load time for the store to
        # refuse its save; without the entry, the save would look like a new session.
        deleted: dict[str, Any] = dict(self.store.forget(user_id)) if self.store is not None else {"user_id": user_id}
        deleted["sessions_scrubbed"] = [sid for sid in self.spoken_in(user_id)
                                        if self.update(sid, lambda s: s if s.forget_speaker(user_id) else None)]
        return deleted

    def spoken_in(self, user_id: str) -> list[str]:
        """Ids of sessions owned by others in which ``user_id`` said something."""
        candidates = {e.state.session_id for e in self._sessions.values()
                      if e.state.user_id != user_id and any(t.user_id == user_id for t in e.state.turns)}
        if self.store is not None:
            candidates.update(self.store.sessions_mentioning(json.dumps(user_id, ensure_ascii=False)))
        return sorted(candidates)

    def contributions(self, user_id: str) -> list[dict]:
        """What ``user_id`` said in sessions others own: ``[{"session_id", "turns"}]``."""
        found = []
        for session_id in self.spoken_in(user_id):
            with self.lock(session_id):
                state = self.load(session_id)
                self.drop(session_id)   # read only: nothing will be saved
            turns = [t.model_dump(mode="json") for t in state.turns if t.user_id == user_id]
            if state.user_id != user_id and turns:
                found.append({"session_id": session_id, "turns": turns})
        return found
