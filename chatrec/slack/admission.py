"""Which HTTP requests the Slack endpoint reads at all, decided from the headers alone.

Bolt verifies the signature over the body, so it must read the body first: an unsigned or
absurd request would be buffered whole (hundreds of MB in chunks) before being refused, and
Bolt's verifier raises on a non-numeric timestamp (a 500). Here a request is refused before
its body is read when its signature headers cannot be right, and the body is read as a stream
that stops at the cap. Bolt still does the real check (signature, freshness) on what is read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass

MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few KB
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    """An HTTP status and a short text for a request that is not handed to Bolt."""

    status: int
    text: str


UNSIGNED = Refusal(401, "invalid request")
TOO_LARGE = Refusal(413, "request too large")
BAD_LENGTH = Refusal(400, "invalid content-length")


def refuse_headers(headers: Mapping[str, str], limit: int = MAX_BODY_BYTES) -> Refusal | None:
    """A refusal when the headers alone show the request cannot be a valid Slack request."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return UNSIGNED
    length = headers.get("content-length")
    if length is not None:
        if not re.fullmatch(r"[0-9]{1,19}", length):
            return BAD_LENGTH
        if int(length) > limit:
            return TOO_LARGE
    return None


async def read_capped(chunks: AsyncIterable[bytes], limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` (the rest is never read)."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
