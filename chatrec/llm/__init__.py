"""chatrec's LLM layer: an optional chat model, made safe to depend on.

- ``make_chat_model(settings)``: the LangChain chat model named by ``CHATREC_LLM`` (or None).
- ``LLM``: deadlines, retries, circuit breaker, structured output, token accounting over any
  LangChain ``BaseChatModel``; ``LLM.from_settings()`` builds one from the configuration.
- Components that never raise and return None/[] on any failure: ``LLMUnderstander``,
  ``LLMReranker``, ``LLMPhraser``, ``Summarizer``.
- ``split_sentences``: the sentence splitter shared with the agent's verifier.

Exports are resolved lazily, so ``from chatrec.llm import split_sentences`` does not import
LangChain.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatrec.llm.client import LLM, LLMStream, TurnBudget
    from chatrec.llm.factory import make_chat_model
    from chatrec.llm.phrase import LLMPhraser
    from chatrec.llm.rerank import LLMReranker
    from chatrec.llm.sentences import SentenceBuffer, split_sentences
    from chatrec.llm.summarize import Summarizer
    from chatrec.llm.understand import LLMUnderstander

_EXPORTS = {
    "make_chat_model": "chatrec.llm.factory",
    "LLM": "chatrec.llm.client",
    "LLMStream": "chatrec.llm.client",
    "TurnBudget": "chatrec.llm.client",
    "LLMUnderstander": "chatrec.llm.understand",
    "LLMReranker": "chatrec.llm.rerank",
    "LLMPhraser": "chatrec.llm.phrase",
    "Summarizer": "chatrec.llm.summarize",
    "split_sentences": "chatrec.llm.sentences",
    "SentenceBuffer": "chatrec.llm.sentences",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'chatrec.llm' has no attribute {name!r}")


__all__ = ["LLM", "LLMPhraser", "LLMReranker", "LLMStream", "LLMUnderstander", "SentenceBuffer", "Summarizer",
           "TurnBudget", "make_chat_model", "split_sentences"]
