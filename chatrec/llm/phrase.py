"""LLM phrasing: the chosen items and their KG facts → a short reply (whole, or by sentence).

The phraser only cleans up and bounds what the model wrote; it does not decide whether the text
is true. The agent's verifier checks every sentence against the items' facts (the phraser's
``stream_sentences`` yields whole sentences so it can) and falls back to the template reply.

Its work is bounded like the turn's: the reply is capped by ``max_tokens`` before it is split
(``LLM`` refuses a longer one), a stream is dropped at a "sentence" longer than any real one,
and nothing is returned or yielded once the turn's deadline has passed, so verifying a reply
cannot outlast the turn.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from chatrec.llm.client import LLM, current_turn
from chatrec.llm.sentences import SentenceBuffer, split_sentences
from chatrec.prompts.base import Prompt
from chatrec.prompts.framing import DATA_RULES
from chatrec.prompts.phrase import phrase_prompt

logger = logging.getLogger(__name__)

_MARKDOWN = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*•]\s+)", re.M)
_WORDS = re.compile(r"[a-z0-9']+")
ECHO_WINDOW = 6   # words in a row shared with the system prompt that count as echoing it


def _shingles(text: str, n: int = ECHO_WINDOW) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i: i + n]) for i in range(len(words) - n + 1)}


def echoes_prompt(text: str, prompt: Prompt) -> bool:
    """Whether ``text`` repeats the prompt (six words in a row of the system prompt, the data
    tags, or the fact listing's markup): a reply must never reveal its instructions, whatever
    the user asked, and a copied listing is not a reply."""
    lowered = text.lower()
    if "user_data" in lowered or "| facts:" in lowered:
        return True   # the data tags, or the fact listing copied back verbatim
    system = " ".join(m.content for m in prompt.messages if m.role == "system") + " " + DATA_RULES
    return bool(_shingles(text) & _shingles(system))


def tidy(text: str) -> str:
    """Plain text: no markdown emphasis or bullets, no wrapping quotes, single spaces."""
    text = _MARKDOWN.sub("", text).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return " ".join(text.split())


class LLMPhraser:
    """Writes the reply text for chosen items from their facts.

    Args:
        llm: the LLM.
        max_prompt_tokens: this call's share of the turn's prompt budget.
        max_chars: longest reply kept (cut at a sentence end).
    """

    purpose = "phrase"

    def __init__(self, llm: LLM, *, max_prompt_tokens: int = 1000, max_chars: int = 900):
        self.llm = llm
        self.max_prompt_tokens = max_prompt_tokens
        self.max_chars = max_chars

    def _prompt(self, items_with_facts: Sequence[tuple[Any, Sequence[Any]]],
                dialogue: Iterable[Any]) -> Prompt:
        return phrase_prompt(items_with_facts, dialogue,
                             max_tokens=self.llm.prompt_budget(self.max_prompt_tokens),
                             estimator=self.llm.estimator)

    def _max_tokens(self, items: int) -> int:
        return 60 + 50 * items

    def phrase(self, items_with_facts: Sequence[tuple[Any, Sequence[Any]]],
               dialogue: Iterable[Any]) -> str | None:
        """The reply, or None (LLM off or failed, empty, or echoing its instructions).

        Args:
            items_with_facts: ``(item, facts)`` in the order to recommend (``Item`` and KG
                ``Fact``s, or strings).
            dialogue: the conversation so far, oldest first.
        """
        if not items_with_facts:
            return None
        try:
            prompt = self._prompt(items_with_facts, dialogue)
            text, _ = self.llm.complete(prompt, self.purpose,
                                        max_tokens=self._max_tokens(len(items_with_facts)),
                                        temperature=0.3)
            if not text or _past_deadline():
                return None
            text = tidy(text)
            if echoes_prompt(text, prompt):
                logger.warning("phrase: the LLM echoed its instructions; reply discarded")
                return None
            kept: list[str] = []
            for sentence in split_sentences(text):
                if sum(len(s) + 1 for s in kept) + len(sentence) > self.max_chars:
                    break
                kept.append(sentence)
            return " ".join(kept) or None
        except Exception:   # a component never raises into a turn
            logger.exception("LLM phrasing failed")
            return None

    def stream_sentences(self, items_with_facts: Sequence[tuple[Any, Sequence[Any]]],
                         dialogue: Iterable[Any]) -> Iterator[str]:
        """The reply sentence by sentence, each as soon as it is complete, so the caller can
        verify it before showing it. Stops (silently) on failure, on the deadline, at
        ``max_chars``, or at a sentence that echoes the instructions. Never raises."""
        if not items_with_facts:
            return
        stream = None
        try:
            prompt = self._prompt(items_with_facts, dialogue)
            stream = self.llm.stream(prompt, self.purpose,
                                     max_tokens=self._max_tokens(len(items_with_facts)),
                                     temperature=0.3)
            buffer = SentenceBuffer()
            total = 0
            for chunk in itertools.chain(stream, [None]):   # None: the end, flush
                if chunk is None and not (stream.call and stream.call.ok):
                    return   # the stream broke: its unfinished last sentence is not shown
                done = buffer.feed(chunk) if chunk is not None else buffer.flush()
                if buffer.overflowed:
                    logger.warning("phrase: a sentence ran past %d characters; stream dropped",
                                   buffer.max_chars)
                    return
                for sentence in map(tidy, done):
                    total += len(sentence) + 1
                    if total > self.max_chars or not self._usable(sentence, prompt) or _past_deadline():
                        return
                    yield sentence
        except Exception:   # a component never raises into a turn
            logger.exception("LLM phrasing (stream) failed")
        finally:
            if stream is not None:
                stream.close()

    def _usable(self, sentence: str, prompt: Prompt) -> bool:
        if not sentence:
            return False
        if echoes_prompt(sentence, prompt):
            logger.warning("phrase: the LLM echoed its instructions; stream stopped")
            return False
        return True


def _past_deadline() -> bool:
    """Whether the turn's time is up (a reply that arrives then is not worth verifying)."""
    budget = current_turn()
    return budget is not None and budget.remaining_s <= 0
