"""Sessions, user profiles and feedback: SQLite under ``CHATREC_HOME`` by default, PostgreSQL with
``CHATREC_STORE_URL``; the same schema, migrations and atomicity contract in both.

    from chatrec.store import Store, open_store
    store = open_store(settings)                     # CHATREC_STORE_URL, else the SQLite file
    store.save_session("web:abc", state_dict, user_id="web:alice")
    record = store.read_session("web:abc")           # SessionRecord(state, version) or None
    store.write(SessionWrite("web:abc", new_state, "web:alice", expected_version=record.version))
    store.export("web:alice"); store.forget("web:alice")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatrec.store.protocol import SessionStore
from chatrec.store.records import (
    FeedbackEvent,
    ProfileChange,
    ProfileRecord,
    SessionGone,
    SessionRecord,
    SessionWrite,
    VersionConflict,
    WriteResult,
)
from chatrec.store.schema import SCHEMA_VERSION
from chatrec.store.sql import Store

if TYPE_CHECKING:
    from chatrec.config import Settings


def open_store(settings: Settings) -> Store:
    """The store the settings name: ``CHATREC_STORE_URL`` when set, else ``CHATREC_HOME``'s file."""
    if settings.store_url is not None:
        return Store(settings.store_url.get_secret_value())
    return Store(settings.store_path)


__all__ = ["SCHEMA_VERSION", "FeedbackEvent", "ProfileChange", "ProfileRecord", "SessionGone", "SessionRecord",
           "SessionStore", "SessionWrite", "Store", "VersionConflict", "WriteResult", "open_store"]
