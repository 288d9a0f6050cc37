"""``WebGate``: ASGI middleware in front of the Gradio app, for what Gradio itself does not do.

* Issues each browser its visitor cookie (``ui.identity``): HttpOnly, SameSite=Lax, Secure when
  the page is served over HTTPS, valid for a year. It is only set on responses: the identity of
  a request is the cookie the client sent, never one made up for it.
* Throttles ``POST /login`` per client address: failed attempts spend tokens (``burst`` at once,
  then ``per_minute``); an address with none left gets 429 before its password is looked at.
* Refuses uploads (``POST …/upload``): the page has no upload control, and Gradio's upload
  route would otherwise store any file anyone sends in its temp folder.

Install it with ``launch(..., app_kwargs={"middleware": [gate_middleware(...)]})`` (``ui.app.launch``
does).
"""

from __future__ import annotations

import json
import logging
from http.cookies import SimpleCookie

from starlette.middleware import Middleware

from ui.identity import VISITOR_COOKIE, VisitorKeys
from ui.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

COOKIE_MAX_AGE = 365 * 24 * 3600


class WebGate:
    """The middleware (see the module docstring).

    Args:
        app: the ASGI app behind it.
        keys: signs and checks visitor cookies.
        login_limiter: failed logins per client address (None: unlimited).
        allow_uploads: keep Gradio's upload route open.
    """

    def __init__(self, app, keys: VisitorKeys, login_limiter: RateLimiter | None = None,
                 allow_uploads: bool = False):
        self.app = app
        self.keys = keys
        self.login_limiter = login_limiter
        self.allow_uploads = allow_uploads

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "").rstrip("/")
        posting = scope.get("method") == "POST"
        if posting and path.endswith("/upload") and not self.allow_uploads:
            return await _answer(send, 403, {"detail": "uploads are disabled on this server"})
        address = (scope.get("client") or ("unknown", 0))[0]
        login = posting and path.endswith("/login") and self.login_limiter is not None
        if login and self.login_limiter is not None:
            wait = self.login_limiter.wait(address)
            if wait > 0:
                logger.warning("login attempts from %s throttled for %.0fs", address, wait)
                return await _answer(send, 429, {"detail": "Too many failed sign-ins: try again later."},
                                     {"retry-after": str(max(1, round(wait)))})
        issue = None if self.keys.visitor(_cookie(scope, VISITOR_COOKIE)) else self.keys.new_cookie()
        secure = scope.get("scheme") == "https"

        async def sending(message):
            if message["type"] == "http.response.start":
                if login and self.login_limiter is not None and message.get("status") != 200:
                    self.login_limiter.charge(address)
                if issue is not None:
                    attributes = f"; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
                    cookie = f"{VISITOR_COOKIE}={issue}{attributes}{'; Secure' if secure else ''}"
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie.encode("latin-1"))]}
            await send(message)

        return await self.app(scope, receive, sending)


def gate_middleware(keys: VisitorKeys, login_limiter: RateLimiter | None = None,
                    allow_uploads: bool = False) -> Middleware:
    """``WebGate`` as a Starlette ``Middleware`` entry (for FastAPI's ``middleware=[...]``)."""
    return Middleware(WebGate, keys=keys, login_limiter=login_limiter,  # pyright: ignore[reportArgumentType]
                      allow_uploads=allow_uploads)


def _cookie(scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no cookie
                return None
            if name in jar:
                return jar[name].value
    return None


async def _answer(send, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(payload).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
