"""What goes in and out of the store: versioned records, one transaction's writes, and the
conflicts a versioned write can meet. Values are JSON-able dicts: the store does not know the
agent's pydantic models, only their ``schema_version`` field."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from chatrec.errors import StoreError

#: A change of a profile: the current document (None: the user has none yet) → the new one.
#: It may run more than once (a retried transaction) and inside the write lock: keep it pure,
#: quick and free of I/O.
ProfileChange = Callable[[dict | None], dict]

FeedbackKind = Literal["liked", "disliked", "seen"]


@dataclass(frozen=True)
class SessionRecord:
    """A stored session: its state and the row version it was read at."""

    session_id: str
    user_id: str | None
    state: dict
    version: int


@dataclass(frozen=True)
class SessionWrite:
    """Write a session's state, on the condition that its row is still at ``expected_version``.

    Attributes:
        expected_version: the version the state was read at; 0 means "the session must not exist
            yet"; None writes unconditionally (last writer wins: tools and tests only).
        started_at: when the work that produced this state began (the turn's start). A write for
            a user forgotten after that moment is refused (``SessionGone``), so a turn that was in
            flight during ``forget`` cannot store the user again.
    """

    session_id: str
    state: dict
    user_id: str | None = None
    expected_version: int | None = None
    started_at: float | None = None


@dataclass(frozen=True)
class FeedbackEvent:
    """One 👍 / 👎 / seen on an item, kept in the feedback log."""

    session_id: str
    item_id: str
    kind: FeedbackKind
    user_id: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ProfileRecord:
    """A stored profile and the row version it was read at."""

    user_id: str
    profile: dict
    version: int


@dataclass(frozen=True)
class WriteResult:
    """What one transaction left: the session's new version (None: no session written) and the
    user's profile after the change with its new version (None: no profile change)."""

    session_version: int | None = None
    profile: dict | None = None
    profile_version: int | None = None


class VersionConflict(StoreError):
    """Another writer changed the session after it was read: nothing was written. Read it again,
    redo the change on the new state, and write with the new version."""

    def __init__(self, session_id: str, expected: int, actual: int):
        super().__init__(f"session {session_id!r} is at version {actual}, not {expected}: "
                         "another worker wrote it meanwhile")
        self.session_id = session_id
        self.expected = expected
        self.actual = actual


class SessionGone(VersionConflict):
    """The session (or its user) was deleted while the write was being prepared — by ``forget``
    or ``delete_session``: nothing was written, and the caller must not recreate it."""

    def __init__(self, session_id: str, expected: int, reason: str = "deleted"):
        StoreError.__init__(self, f"session {session_id!r} was {reason} while a turn was in flight; "
                                  "it was not written back")
        self.session_id = session_id
        self.expected = expected
        self.actual = 0
