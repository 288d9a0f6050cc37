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
    """The vector index is missing or unreadable. Run ``chatrec build --rebuild``."""

    exit_code = 5


class IndexMissingError(VectorIndexError):
    """No index was built for this catalog yet. Run ``chatrec build``."""


class IndexCorruptError(VectorIndexError):
    """The index on disk is damaged. Run ``chatrec build --rebuild`` to recreate it."""


class UnknownItemError(ChatrecError):
    """An item id or title is not in the catalog. Check the spelling or search the catalog."""

    exit_code = 6


class LLMError(ChatrecError):
    """The configured LLM failed (timeout, server error, unusable output). chatrec falls back to
    its LLM-free path; check ``CHATREC_LLM`` / ``CHATREC_LLM_BASE_URL`` if this persists."""

    exit_code = 7


class InputError(ChatrecError):
    """A message or request cannot be processed as given (empty, too long, ...)."""

    exit_code = 8


class StoreError(ChatrecError):
    """The session/profile store (SQLite under ``CHATREC_HOME``) cannot be used: the file is
    damaged, not a chatrec database, written by a newer chatrec, or locked for too long. The
    message names the file; move it aside (chatrec then starts a new, empty store) or point
    ``CHATREC_HOME`` elsewhere."""

    exit_code = 9
