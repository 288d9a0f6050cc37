"""The chat model named by ``CHATREC_LLM``, or None when chatrec runs without an LLM.

Spec forms:

- unset / ``none``: no LLM (the default); chatrec's LLM-free path does everything.
- ``openai:<model>`` (``openai:gpt-4o-mini``): the OpenAI API, key from ``CHATREC_LLM_API_KEY``
  or ``OPENAI_API_KEY``. ``CHATREC_LLM_BASE_URL`` (or the openai client's own
  ``OPENAI_BASE_URL``) points it elsewhere.
- ``<model>`` with ``CHATREC_LLM_BASE_URL``: any OpenAI-compatible server (vLLM, Ollama,
  llama.cpp, LM Studio). The model name is taken verbatim (Ollama names contain colons); the
  key is optional ("dummy" when unset, which such servers ignore).

In code, any LangChain ``BaseChatModel`` can be used instead (``chatrec.llm.LLM(model)``).
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from chatrec.config import Settings, get_settings
from chatrec.errors import ConfigError

logger = logging.getLogger(__name__)

OPENAI_PREFIX = "openai:"


def _api_key(settings: Settings) -> str | None:
    if settings.llm_api_key is not None and settings.llm_api_key.get_secret_value().strip():
        return settings.llm_api_key.get_secret_value().strip()
    return os.environ.get("OPENAI_API_KEY", "").strip() or None


def _check_base_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"CHATREC_LLM_BASE_URL={url!r} is not an http(s) URL; use e.g. "
            "http://127.0.0.1:8000/v1 for an OpenAI-compatible server.")
    return url.rstrip("/")


def parse_spec(settings: Settings) -> tuple[str, str | None] | None:
    """``(model_name, base_url)`` from the settings, or None when no LLM is configured.

    Raises:
        ConfigError: the spec names no model, or a bare model name has no base URL.
    """
    spec = settings.llm
    if spec is None:
        return None
    base_url = _check_base_url(settings.llm_base_url) if settings.llm_base_url else None
    if spec.lower().startswith(OPENAI_PREFIX):
        model = spec[len(OPENAI_PREFIX):].strip()
        if not model:
            raise ConfigError("CHATREC_LLM='openai:' names no model; use e.g. openai:gpt-4o-mini.")
        return model, base_url
    if base_url is None:
        raise ConfigError(
            f"CHATREC_LLM={spec!r} is not understood: use openai:<model> for the OpenAI API, "
            "set CHATREC_LLM_BASE_URL for an OpenAI-compatible server, or none for no LLM.")
    return spec, base_url


def make_chat_model(
    settings: Settings | None = None,
    *,
    max_retries: int | None = None,
    stream_usage: bool = True,
) -> BaseChatModel | None:
    """The configured chat model, or None when ``CHATREC_LLM`` is unset/none.

    Args:
        settings: chatrec settings (default: ``get_settings()``).
        max_retries: the openai client's own retry count (it honours ``Retry-After``); default
            ``CHATREC_LLM_MAX_RETRIES``. ``chatrec.llm.LLM`` passes 0 and retries itself, within
            the turn's deadline.
        stream_usage: ask for token usage on streams (``stream_options.include_usage``).

    Raises:
        ConfigError: the spec is malformed, the base URL is not http(s), the OpenAI API is
            named without a key, or a timeout/retry setting is out of range.
    """
    settings = settings or get_settings()
    parsed = parse_spec(settings)
    if parsed is None:
        return None
    model, base_url = parsed
    if settings.llm_timeout <= 0:
        raise ConfigError(f"CHATREC_LLM_TIMEOUT must be > 0 seconds (got {settings.llm_timeout}).")
    retries = settings.llm_max_retries if max_retries is None else max_retries
    if retries < 0:
        raise ConfigError(f"CHATREC_LLM_MAX_RETRIES must be >= 0 (got {retries}).")

    key = _api_key(settings)
    is_openai = (settings.llm or "").lower().startswith(OPENAI_PREFIX)
    if key is None:
        if is_openai and base_url is None and not os.environ.get("OPENAI_BASE_URL"):
            raise ConfigError(
                f"CHATREC_LLM={settings.llm!r} needs an API key: set OPENAI_API_KEY or "
                "CHATREC_LLM_API_KEY.")
        key = "dummy"   # OpenAI-compatible servers usually ignore the key but the client wants one

    # Imported here: only needed when an LLM is on. ChatOpenAI renames ``max_tokens`` to
    # ``max_completion_tokens`` (the OpenAI API's current name), which OpenAI-compatible servers
    # such as llama.cpp ignore: a 120-token summary then runs to the context limit. Those servers
    # get the base class, which sends ``max_tokens`` as is.
    from langchain_openai import ChatOpenAI
    from langchain_openai.chat_models.base import BaseChatOpenAI

    from chatrec.llm.transport import capped_http_client

    client_class = ChatOpenAI if is_openai else BaseChatOpenAI
    chat = client_class(
        model=model,
        base_url=base_url,
        api_key=SecretStr(key),
        timeout=settings.llm_timeout,
        max_retries=retries,
        stream_usage=stream_usage,
        # A reply past 1 MB is not read: a server ignoring max_tokens cannot fill the memory.
        http_client=capped_http_client(),
    )
    logger.info("LLM: %s at %s (timeout %.0f s, client retries %d)", model,
                base_url or "the OpenAI API", settings.llm_timeout, retries)
    return chat
