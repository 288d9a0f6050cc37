"""Fixtures for the LLM room: scripted OpenAI-compatible servers and a real llama.cpp server."""

from __future__ import annotations

import pytest

from chatrec.testing.llm_servers import LlamaCppServer, ScriptedLLMServer, llama_server_missing


@pytest.fixture
def scripted():
    """A factory of started ``ScriptedLLMServer``s, all stopped after the test."""
    servers: list[ScriptedLLMServer] = []

    def make(*args, **kwargs) -> ScriptedLLMServer:
        server = ScriptedLLMServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def llama_server():
    """A real llama.cpp server with SmolLM2-135M-Instruct, or a skip with the reason."""
    missing = llama_server_missing()
    if missing:
        pytest.skip(missing)
    server = LlamaCppServer().start()
    yield server
    server.stop()
