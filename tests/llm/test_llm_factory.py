"""CHATREC_LLM specs → chat models (or None, or a clear ConfigError); secrets stay secret."""

from __future__ import annotations

import logging

import pytest
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import BaseChatOpenAI

from chatrec.config import Settings
from chatrec.errors import ConfigError
from chatrec.llm.client import LLM
from chatrec.llm.factory import make_chat_model

SECRET = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHATREC_LLM_API_KEY",
                 "CHATREC_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("spec", [None, "none", "None", "off", ""])
def test_unset_or_none_means_no_llm(spec):
    assert make_chat_model(Settings(llm=spec)) is None
    assert LLM.from_settings(Settings(llm=spec)) is None


def test_openai_spec_uses_openai_api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    model = make_chat_model(Settings(llm="openai:gpt-4o-mini", llm_timeout=7, llm_max_retries=3))
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_key.get_secret_value() == SECRET
    assert model.request_timeout == 7
    assert model.max_retries == 3          # the openai client's own retries
    assert model.openai_api_base is None   # the OpenAI API itself


def test_chatrec_key_wins_over_openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other-key-000000")
    model = make_chat_model(Settings(llm="openai:gpt-4o-mini", llm_api_key=SECRET))
    assert model.openai_api_key.get_secret_value() == SECRET


def test_openai_spec_without_a_key_is_a_config_error():
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(Settings(llm="openai:gpt-4o-mini"))


def test_openai_spec_without_model_is_a_config_error(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(ConfigError, match="names no model"):
        make_chat_model(Settings(llm="openai:"))


def test_any_model_with_base_url_is_an_openai_compatible_server():
    # Ollama-style names contain colons: taken verbatim, not read as provider:model.
    model = make_chat_model(Settings(llm="qwen2.5:0.5b", llm_base_url="http://127.0.0.1:11434/v1/"))
    assert isinstance(model, BaseChatOpenAI) and not isinstance(model, ChatOpenAI)
    assert model.model_name == "qwen2.5:0.5b"
    assert model.openai_api_base == "http://127.0.0.1:11434/v1"
    assert model.openai_api_key.get_secret_value() == "dummy"


def test_a_compatible_server_receives_max_tokens():
    # llama.cpp ignores ``max_completion_tokens`` (ChatOpenAI's name for it): a limit must
    # arrive as ``max_tokens`` or answers run to the context length.
    from chatrec.testing.llm_servers import Respond, ScriptedLLMServer

    with ScriptedLLMServer(default=Respond("A short answer.")) as server:
        llm = LLM.from_settings(Settings(llm="smollm2", llm_base_url=server.url))
        assert llm.complete([("user", "hello")], "test", max_tokens=20)[0] == "A short answer."
        body = server.seen[-1].body
        assert body.get("max_tokens") == 20 and "max_completion_tokens" not in body


def test_bare_model_without_base_url_is_a_config_error():
    with pytest.raises(ConfigError, match="CHATREC_LLM_BASE_URL"):
        make_chat_model(Settings(llm="llama3"))


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host/v1", "http://"])
def test_bad_base_url_is_a_config_error(url):
    with pytest.raises(ConfigError, match="http"):
        make_chat_model(Settings(llm="llama3", llm_base_url=url))


def test_bad_timeout_and_retries_are_config_errors():
    with pytest.raises(ConfigError, match="TIMEOUT"):
        make_chat_model(Settings(llm="m", llm_base_url="http://h/v1", llm_timeout=0))
    with pytest.raises(ConfigError, match="RETRIES"):
        make_chat_model(Settings(llm="m", llm_base_url="http://h/v1", llm_max_retries=-1))


def test_from_settings_turns_client_retries_off_and_retries_itself():
    llm = LLM.from_settings(Settings(llm="m", llm_base_url="http://127.0.0.1:9/v1",
                                     llm_timeout=3, llm_max_retries=2))
    assert llm.model.max_retries == 0
    assert llm.max_retries == 2 and llm.timeout == 3


def test_secrets_never_in_reprs_or_logs(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    settings = Settings(llm="m", llm_base_url="http://127.0.0.1:9/v1", llm_api_key=SECRET)
    model = make_chat_model(settings)
    llm = LLM(model, timeout=0.5, max_retries=0)
    text, call = llm.complete([("user", "hi")], "phrase")   # port 9: connection refused
    assert text is None and not call.ok
    for shown in (repr(settings), str(settings), repr(model), repr(llm), call.model_dump_json(),
                  caplog.text):
        assert SECRET not in shown
