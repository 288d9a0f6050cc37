"""``SessionStore``: what the agent may ask of a store, whatever database is behind it.

The contract, the same for SQLite and PostgreSQL:

* Reads return the row version with the data (``SessionRecord.version``; 0 = absent).
* ``write`` is one transaction: a session write conditional on the version it was read at, a
  profile change applied to the profile as it is at that moment (read-modify-write under the
  row's lock), and feedback events appended — all or nothing. A stale session version raises
  ``VersionConflict`` and writes nothing: the caller reloads, redoes its change, and writes again.
* ``forget`` deletes every row about a user; a write prepared before it (``started_at``) for that
  user is refused with ``SessionGone`` rather than writing the user back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from chatrec.store.records import (
    FeedbackEvent,
    ProfileChange,
    ProfileRecord,
    SessionRecord,
    SessionWrite,
    WriteResult,
)


@runtime_checkable
class SessionStore(Protocol):
    def session_lease(self, session_id: str) -> AbstractContextManager[bool]:
        """Hold the session against other workers' turns while one turn reads, thinks and
        writes it (True inside when held)."""
        ...

    def read_session(self, session_id: str) -> SessionRecord | None:
        """The stored session with its version, or None."""
        ...

    def session_version(self, session_id: str) -> int:
        """The session's current row version (0: absent) — one cheap query, to revalidate a
        cached copy."""
        ...

    def versions(self, session_id: str, user_id: str | None = None) -> tuple[int, int]:
        """(session version, profile version), 0 when absent, in one round trip."""
        ...

    def profile_version(self, user_id: str) -> int:
        """The profile's current row version (0: absent)."""
        ...

    def read_profile(self, user_id: str) -> ProfileRecord | None:
        """The stored profile with its version, or None."""
        ...

    def write(self, session: SessionWrite | None = None, profile: tuple[str, ProfileChange] | None = None,
              feedback: Sequence[FeedbackEvent] = ()) -> WriteResult:
        """One transaction; see the module docstring."""
        ...

    def update_session(self, session_id: str, change: Callable[[SessionRecord | None], dict],
                       user_id: str | None = None, profile: tuple[str, ProfileChange] | None = None,
                       feedback: Sequence[FeedbackEvent] = ()) -> tuple[SessionRecord, dict | None]:
        """Read-modify-write a session under its row lock (plus a profile change and feedback)."""
        ...

    def delete_session(self, session_id: str) -> bool: ...

    def load_profile(self, user_id: str) -> dict | None: ...

    def update_profile(self, user_id: str, change: ProfileChange) -> dict: ...

    def forget(self, user_id: str) -> dict: ...

    def sessions_mentioning(self, text: str) -> list[str]: ...

    def export(self, user_id: str) -> dict: ...

    def close(self) -> None: ...
