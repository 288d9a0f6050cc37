"""The errors chatrec raises. Each docstring says what the user should do; the CLI prints the
message as one line and exits non-zero, surfaces turn them into a friendly reply."""

from __future__ import annotations


class ChatrecError(Exception):
    """Base class. The message is written for the person who has to act on it."""

    exit_code: int = 1


class ConfigError(ChatrecError):
    """A setting is invalid. Fix the named ``CHATREC_*`` variable or command-line option."""

    exit_code = 2


class DataUnavailableError(ChatrecError):
    """The public data is neither local nor downloadable. Set ``CHATREC_DATA_DIR`` to a copy of
    the data, or connect to the internet and run ``chatrec build`` again."""

    exit_code = 3


class ChecksumError(ChatrecError):
    """A file's sha256 does not match the pinned value. The file was removed; run again, and if
    it persists the source changed or the download is being tampered with."""

    exit_code = 3


class CatalogFormatError(ChatrecError):
    """A catalog file is malformed. The message names the file, the line and the field."""

    exit_code = 4


class VectorIndexError(ChatrecError):
    """The vector index is missing or unreadable. Run the ``chatrec build --catalog …`` command
    the message names: it builds a fresh index beside the old one and swaps it in; nothing users
    said or liked is in the index."""

    exit_code = 5


class IndexMissingError(VectorIndexError):
    """No index was built for this catalog yet. Run the ``chatrec build --catalog …`` command the
    message names."""


class IndexCorruptError(VectorIndexError):
    """The index on disk is damaged (the message says how). Run the ``chatrec build --catalog …``
    command the message names to replace it."""


class UnknownItemError(ChatrecError):
    """An item id or title is not in the catalog. Check the spelling or search the catalog."""

    exit_code = 6


class StoreError(ChatrecError):
    """The session/profile store (SQLite under ``CHATREC_HOME``, or the PostgreSQL database of
    ``CHATREC_STORE_URL``) cannot be used: the file is damaged or not a chatrec database, the
    server is unreachable, the schema is from a newer chatrec, or a lock was held too long. The
    message names the store and a next step that deletes nothing: keep a damaged file (it holds
    users' conversations) and point ``CHATREC_HOME`` elsewhere meanwhile."""

    exit_code = 9
