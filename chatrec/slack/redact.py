"""A logging filter that keeps Slack credentials out of every log line.

chatrec never logs a token itself, and slack_sdk redacts the Authorization header; this filter
is the second lock: any record (message, arguments or traceback) that would print a token or
the signing secret is rewritten before a handler writes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Slack token shapes: bot/user/app-config/refresh tokens (xox?-…) and app-level tokens (xapp-…).
_TOKENS = re.compile(r"\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{6,}")


class RedactSecrets(logging.Filter):
    """Replaces Slack tokens and the given secret values in records with ``[redacted]``.

    Args:
        secrets: exact values to hide wherever they appear (e.g. the signing secret, which has
            no recognisable shape); values shorter than 8 characters are ignored.
    """

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _TOKENS.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(secrets: Iterable[str] = (), logger: logging.Logger | None = None) -> RedactSecrets:
    """Attach the filter to every handler of ``logger`` (the root logger by default): handler
    filters see the records of all loggers, logger filters only their own."""
    flt = RedactSecrets(secrets)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(flt)
    return flt
