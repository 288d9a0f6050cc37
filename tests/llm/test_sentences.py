"""The sentence splitter does work proportional to its input: a server that ignores
``max_tokens`` must not turn one reply into minutes of splitting. The bounds below are two
orders of magnitude above what a linear splitter needs, so they only catch a quadratic one
(8,000 sentences took 104 s that way)."""

from __future__ import annotations

import pytest

from chatrec.llm.sentences import SentenceBuffer, split_sentences
from chatrec.testing.bounds import finishes


def test_splitting_many_sentences_is_linear():
    text = "Heat (1995) is directed by Michael Mann. Dr. No is old! " * 4000   # 8,000 sentences
    sentences = finishes(lambda: split_sentences(text))
    assert len(sentences) == 8000
    assert sentences[:2] == ["Heat (1995) is directed by Michael Mann.", "Dr. No is old!"]


def test_streaming_many_sentences_in_small_chunks_is_linear():
    text = "Try Heat (1995). It stars Al Pacino. " * 4000

    def run() -> int:
        buffer, count = SentenceBuffer(), 0
        for i in range(0, len(text), 3):
            count += len(buffer.feed(text[i: i + 3]))
        return count + len(buffer.flush())

    assert finishes(run) == 8000


def test_a_run_on_sentence_streamed_char_by_char_is_cut_not_rescanned():
    text = "and then " * 30_000   # 270 KB with no sentence end: each chunk must not rescan it all

    def run() -> tuple[list[str], bool]:
        buffer, out = SentenceBuffer(max_chars=1000), []
        for ch in text:
            out += buffer.feed(ch)
            if buffer.overflowed:
                break
        return out, buffer.overflowed

    out, overflowed = finishes(run)
    assert overflowed and out == []   # a "sentence" that long is not released at all


@pytest.mark.parametrize("text", [
    "Watch Mr. & Mrs. Smith (2005). Then Heat! Or The Matrix? Dr. No is old. Last",
    "Try Heat (1995). It is by Michael Mann! E.T. is fun. J. R. R. Tolkien wrote it.\n\n"
    "- one item\n- two items\n1. Heat (1995) is great.  2) \"Big!\" she said. It costs 2.5 dollars…  ",
    "No end at all",
    "Ends with a space. ",
    "Wait... what?! \"Yes.\" (Really.) Done",
])
def test_sentence_buffer_matches_split_sentences_on_any_chunking(text):
    for size in (1, 2, 3, 5, 7, 50, 1000):
        buffer, out = SentenceBuffer(), []
        for i in range(0, len(text), size):
            out += buffer.feed(text[i: i + size])
        out += buffer.flush()
        assert out == split_sentences(text), size
