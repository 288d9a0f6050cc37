"""Who is calling: the key to every session and profile the web surface touches.

A caller is, in this order of precedence:

* the signed-in user (``chatrec serve --auth``): ``web:<username>``;
* a trusted embedding service that presents the service token (``CHATREC_SERVICE_TOKEN``, sent as
  the ``X-Chatrec-Service-Token`` header) and names its own user in the call's ``user_id``;
* a browser visitor: ``visitor:<random id>``, from the ``chatrec_visitor`` cookie that
  ``ui.gate`` issues (HttpOnly, signed with a secret kept under ``CHATREC_HOME``, so a client
  cannot mint an id for itself; dropping the cookie only gets a new, empty identity);
* nobody (an API client that keeps no cookie): it owns only the sessions it created, through
  their unguessable ids.

The web surface never acts on a ``user_id`` a caller merely claims. A MovieLens user picked in
"Who am I" is a persona: it shapes recommendations, it is not who is calling.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

VISITOR_COOKIE = "chatrec_visitor"
SERVICE_TOKEN_HEADER = "x-chatrec-service-token"
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_SIGNATURE_CHARS = 32


class WebSecuritySettings(BaseSettings):
    """The web surface's secrets (environment variables, prefix ``CHATREC_``).

    Attributes:
        web_secret: signs visitor cookies; default: a random secret kept in
            ``$CHATREC_HOME/web-secret`` (created on first start, mode 0600), so visitors keep
            their identity across restarts. Set it to share identities between replicas.
        service_token: lets a trusted back end act for its own users: a call presenting it in
            the ``X-Chatrec-Service-Token`` header may pass any ``user_id``. Unset: no caller may.
    """

    model_config = SettingsConfigDict(env_prefix="CHATREC_", env_file=".env", extra="ignore")

    web_secret: SecretStr | None = None
    service_token: SecretStr | None = None


@dataclass(frozen=True)
class Caller:
    """Who sent one request.

    Attributes:
        user_id: the identity that owns what this caller creates ("web:alice",
            "visitor:…"), or None (no identity: owns only the sessions it created).
        address: the client's address (after a trusted proxy's ``X-Forwarded-For``).
        trusted: the caller presented the service token.
    """

    user_id: str | None
    address: str = "unknown"
    trusted: bool = False

    @property
    def rate_key(self) -> str:
        """Whose rate-limit bucket an action is charged to: the identity, else the address."""
        return self.user_id or f"address:{self.address}"


class VisitorKeys:
    """Makes and checks visitor cookies: ``<22-char random id>.<HMAC-SHA256 prefix>``."""

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the web secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    def from_settings(cls, home: Path, settings: WebSecuritySettings | None = None) -> VisitorKeys:
        settings = settings or WebSecuritySettings()
        if settings.web_secret is not None:
            return cls(settings.web_secret.get_secret_value().encode("utf-8"))
        return cls(_stored_secret(home / "web-secret"))

    def new_cookie(self) -> str:
        return self.sign(secrets.token_urlsafe(16))

    def sign(self, visitor_id: str) -> str:
        return f"{visitor_id}.{self._mac(visitor_id)}"

    def visitor(self, cookie: object) -> str | None:
        """The visitor id of a well-formed, correctly signed cookie value, else None."""
        if not isinstance(cookie, str) or len(cookie) > 64:
            return None
        visitor_id, _, mac = cookie.partition(".")
        if not _VISITOR_ID.fullmatch(visitor_id) or not hmac.compare_digest(mac, self._mac(visitor_id)):
            return None
        return visitor_id

    def _mac(self, visitor_id: str) -> str:
        digest = hmac.new(self._secret, visitor_id.encode("ascii"), hashlib.sha256).hexdigest()
        return digest[:_SIGNATURE_CHARS]


class Identities:
    """Resolves the ``Caller`` of a Gradio request.

    Args:
        keys: checks visitor cookies.
        service_token: the token a trusted back end presents (None: nobody is trusted).
    """

    def __init__(self, keys: VisitorKeys, service_token: str | None = None):
        self.keys = keys
        self._service_token = service_token or None

    @classmethod
    def from_settings(cls, home: Path, settings: WebSecuritySettings | None = None) -> Identities:
        settings = settings or WebSecuritySettings()
        token = settings.service_token.get_secret_value() if settings.service_token else None
        return cls(VisitorKeys.from_settings(home, settings), token)

    def caller(self, request) -> Caller:
        """The caller of a ``gr.Request`` (None: a call from Python, trusted like the process)."""
        if request is None:
            return Caller(None, "local", trusted=True)
        address = _address(request)
        username = getattr(request, "username", None)
        trusted = self._presents_token(request)
        if username:
            return Caller(f"web:{username}", address, trusted)
        visitor = self.keys.visitor(_cookies(request).get(VISITOR_COOKIE))
        return Caller(f"visitor:{visitor}" if visitor else None, address, trusted)

    def _presents_token(self, request) -> bool:
        if self._service_token is None:
            return False
        presented = _headers(request).get(SERVICE_TOKEN_HEADER) or ""
        return hmac.compare_digest(presented.encode("utf-8"), self._service_token.encode("utf-8"))


def _stored_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode("ascii")
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    try:
        os.link(temporary, path)     # first writer wins; a racing process reads its secret
    except FileExistsError:
        secret = path.read_bytes()
    finally:
        temporary.unlink(missing_ok=True)
    return secret


def _headers(request) -> dict:
    try:
        return {str(k).lower(): str(v) for k, v in dict(request.headers).items()}
    except Exception:  # noqa: BLE001 - a request without headers has none to show
        return {}


def _cookies(request) -> dict:
    try:
        return dict(request.cookies)
    except Exception:  # noqa: BLE001
        return {}


def _address(request) -> str:
    client = getattr(request, "client", None)
    host = getattr(client, "host", None) if client is not None else None
    return str(host) if host else "unknown"
