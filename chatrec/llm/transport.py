"""An HTTP client for OpenAI-compatible servers that stops reading a reply past a size cap.

A server that ignores ``max_tokens`` (or a hostile one) can send megabytes; the openai client
would read them all into memory and parse them before chatrec sees a character. This transport
counts the bytes as they arrive and raises ``ReplyTooLarge`` once there are more than the cap,
for a whole JSON body and for a stream alike, so nothing past the cap is read or parsed. A
``Content-Length`` above the cap is refused before the body is read.

The cap (1 MB by default) is far above any reply chatrec asks for: a 400-token answer is about
2 KB of JSON, or some 60 KB as a server-sent-event stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from chatrec.llm.faults import ReplyTooLarge

MAX_REPLY_BYTES = 1_000_000


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int):
        self._inner = inner
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise ReplyTooLarge(f"the server sent more than {self._limit:,} bytes "
                                    "(it ignores max_tokens); the rest was not read")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class CappedTransport(httpx.BaseTransport):
    """``httpx.HTTPTransport`` whose response bodies raise ``ReplyTooLarge`` past ``limit``
    bytes."""

    def __init__(self, limit: int = MAX_REPLY_BYTES, inner: httpx.BaseTransport | None = None):
        self.limit = limit
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            response.close()
            raise ReplyTooLarge(f"the server announced {int(length):,} bytes, more than the "
                                f"{self.limit:,} accepted (it ignores max_tokens)")
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        return httpx.Response(status_code=response.status_code, headers=response.headers,
                              stream=_CappedStream(stream, self.limit), extensions=response.extensions,
                              request=request)

    def close(self) -> None:
        self._inner.close()


def capped_http_client(limit: int = MAX_REPLY_BYTES) -> httpx.Client:
    """The ``http_client`` to give an OpenAI-compatible LangChain model (``ChatOpenAI``)."""
    return httpx.Client(transport=CappedTransport(limit), follow_redirects=True)
