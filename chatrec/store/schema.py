"""The store's SQL schema as an ordered list of migrations.

Version N is reached by applying migrations 1..N in order, each in its own transaction together
with its row in ``schema_version``. Never edit a released migration: append a new one, so that a
database created by any earlier chatrec upgrades itself on open.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


#: Created before any migration runs (it records which ones did).
VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at REAL NOT NULL
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sessions and profiles as JSON text", (
        """CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            user_id TEXT,
            state TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE profiles (
            user_id TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
    )),
    Migration(2, "creation times, the state's own schema version, sessions indexed by user", (
        "ALTER TABLE sessions ADD COLUMN created_at REAL",
        "UPDATE sessions SET created_at = updated_at WHERE created_at IS NULL",
        "ALTER TABLE sessions ADD COLUMN state_version INTEGER",
        "UPDATE sessions SET state_version = json_extract(state, '$.schema_version') "
        "WHERE json_valid(state)",
        "ALTER TABLE profiles ADD COLUMN created_at REAL",
        "UPDATE profiles SET created_at = updated_at WHERE created_at IS NULL",
        "ALTER TABLE profiles ADD COLUMN state_version INTEGER",
        "UPDATE profiles SET state_version = json_extract(profile, '$.schema_version') "
        "WHERE json_valid(profile)",
        "CREATE INDEX sessions_by_user ON sessions (user_id, updated_at)",
    )),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
