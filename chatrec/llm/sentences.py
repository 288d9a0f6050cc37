"""Sentence splitting for LLM text: whole texts (``split_sentences``) and streams
(``SentenceBuffer``), so that phrased replies can be verified sentence by sentence.

Pure and dependency-free: the agent's guard uses the same splitter, so what the phraser yields
and what the guard checks are cut at the same places.
"""

from __future__ import annotations

import re

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "vol",
    "feat", "ft", "mt", "ca", "approx", "dept", "inc", "ltd", "co", "u.s", "u.k",
}
_BOUNDARY = re.compile(r"""([.!?…]+)(["'”’)\]]*)(\s+|$)""")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Whether the punctuation at ``match`` ends a sentence."""
    punct = match.group(1)
    if match.group(3) == "" and match.end() == len(text):
        return True
    rest = text[match.end():]
    if rest and rest[0].islower():
        return False        # '"Great!" she said' / a mid-sentence period
    if punct != ".":
        return True
    before = _WORD_BEFORE.search(text[: match.start()])
    word = before.group(1) if before else ""
    if word.lower().rstrip(".") in _ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False        # an initial: "J. R. R. Tolkien", "Michael J. Fox"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return False        # "E.T.", "L.A.", "U.S.A." (the last period is the match)
    return True


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, raw offsets, whitespace included."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for block in re.split(r"(\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s))", text or ""):
        if block and not block.strip() or re.fullmatch(r"\n\s*\n|\n", block or "x"):
            offset += len(block)
            continue
        start = 0
        for match in _BOUNDARY.finditer(block):
            if _is_boundary(block, match):
                if block[start: match.end()].strip():
                    spans.append((offset + start, offset + match.end()))
                start = match.end()
        if block[start:].strip():
            spans.append((offset + start, offset + len(block)))
        offset += len(block)
    return spans


def _tidy(piece: str) -> str:
    return " ".join(piece.split())


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation, dropping empty ones.

    Handles abbreviations ("Dr.", "vs."), initials ("J. R. R."), dotted acronyms ("E.T."),
    decimals ("2.5") and closing quotes or brackets after the punctuation. Blank lines and
    list items also end a sentence. Whitespace inside a sentence is collapsed.
    """
    return [_tidy(text[a:b]) for a, b in _spans(text)]


class SentenceBuffer:
    """Collects streamed text and releases whole sentences as soon as they are complete.

    A sentence is released only once the next one has started (a boundary needs the following
    character to be sure: "Dr." followed by " Smith" is not an end), so the last sentence comes
    out of ``flush()``.
    """

    def __init__(self) -> None:
        self._text = ""

    def feed(self, chunk: str) -> list[str]:
        """Add a chunk; return the sentences it completed (possibly none)."""
        self._text += chunk
        spans = _spans(self._text)
        if len(spans) <= 1:
            return []
        done = [_tidy(self._text[a:b]) for a, b in spans[:-1]]
        self._text = self._text[spans[-1][0]:]
        return done

    def flush(self) -> list[str]:
        """The remaining text as sentences (call when the stream ends)."""
        sentences, self._text = split_sentences(self._text), ""
        return sentences
