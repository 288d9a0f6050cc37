"""Fixtures for the LLM room: scripted OpenAI-compatible servers and a real llama.cpp server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.llm.servers` is imported by path from the repository root (other rooms reuse it); make
# sure the root is importable however pytest was started (`pytest` does not add the cwd).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.llm.servers import LlamaCppServer, ScriptedLLMServer, llama_server_missing  # noqa: E402


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
