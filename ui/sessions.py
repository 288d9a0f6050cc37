"""Session and user ids as the browser and the API send them: made here, checked on the way in.

A session id is a random token: whoever holds it continues that conversation, so it must not be
guessable. Anything that does not look like one of ours is replaced by a fresh id instead of being
trusted (a tampered ``sessionStorage`` or API call cannot reach another store key).
"""

from __future__ import annotations

import re
import secrets

SESSION_PREFIX = "web-"
_SESSION_RE = re.compile(r"^web-[A-Za-z0-9_-]{16,64}$")
# "ml:42", "web:alice", "slack:T1:U1"; no spaces, no markup, bounded length.
_PERSONA_RE = re.compile(r"^ml:[0-9]{1,12}$")
_USER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,30}:[A-Za-z0-9_.@:-]{1,64}$")


def new_session_id() -> str:
    """A fresh, unguessable session id ("web-" + 22 url-safe characters)."""
    return SESSION_PREFIX + secrets.token_urlsafe(16)


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_RE.match(value))


def session_or_new(value: object) -> str:
    """``value`` when it is a well-formed session id, else a new one."""
    return value if isinstance(value, str) and is_session_id(value) else new_session_id()


def clean_persona(value: object) -> str | None:
    """A MovieLens persona picked in "Who am I" ("ml:42"), or None for anything else."""
    return value if isinstance(value, str) and _PERSONA_RE.match(value) else None


def clean_user_id(value: object) -> str | None:
    """A user id ("ml:42", "web:alice") or None for an anonymous user; malformed ids are None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _USER_RE.match(value) else None
