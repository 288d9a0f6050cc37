"""What the agent's public methods accept, checked at the door, and user text made safe to keep
and to quote.

A wrong type used to surface deep inside (a numpy error for ``rank(k="5")``, an attribute error
for a list as user id) and ids of any length went into the store. Here each is a ``ValueError``
that names the argument. Text: a lone surrogate (``"\\ud800"``, from JSON escapes or undecodable
command-line bytes) cannot be encoded as UTF-8 and used to lose the turn at the store; a user's
words quoted back ("I couldn't find …") must never become a live link in the page or in Slack.
"""

from __future__ import annotations

import re

MAX_ID_CHARS = 200
MAX_K = 10_000

_URL = re.compile(r"(?i)<[^<>]*>|\b(?:(?:https?|ftp|file|mailto|tel|data|javascript|vbscript):/{0,2}|www\.)"
                  r"[^\s\"“”'()<>\[\]]+")


def session_id_arg(value: object) -> str:
    """A session id: a non-empty string (or an int, as evaluation ids are) of at most 200 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"session_id must be a string, not {type(value).__name__}")
    text = str(value)
    if not text.strip() or len(text) > MAX_ID_CHARS:
        raise ValueError(f"session_id must be 1 to {MAX_ID_CHARS} characters, not {len(text)}")
    return text


def user_id_arg(value: object) -> str | None:
    """A user id: None (anonymous) or a non-empty string of at most 200 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"user_id must be a string or None, not {type(value).__name__}")
    if not value.strip() or len(value) > MAX_ID_CHARS:
        raise ValueError(f"user_id must be 1 to {MAX_ID_CHARS} characters, not {len(value)}")
    return value


def required_user_id(value: object) -> str:
    user = user_id_arg(value)
    if user is None:
        raise ValueError("user_id is required here")
    return user


def item_id_arg(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS:
        raise ValueError(f"item_id must be a string of at most {MAX_ID_CHARS} characters, "
                         f"not {type(value).__name__}")
    return value


def k_arg(value: object) -> int:
    """How many items: an int from 0 to 10,000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"k must be an int, not {type(value).__name__} {value!r:.20}")
    if not 0 <= value <= MAX_K:
        raise ValueError(f"k must be between 0 and {MAX_K}, not {value}")
    return value


def without_lone_surrogates(text: str) -> str:
    """``text`` with each unpaired surrogate replaced by U+FFFD (paired ones become the character
    they encode)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def literal(text: str) -> str:
    """User text to quote inside a reply: links (URLs, ``<…>`` autolinks, ``www.`` hosts)
    become "…" and markdown's ``](`` is broken up, so no surface renders it as a link."""
    return _URL.sub("…", text).replace("](", "] (")
