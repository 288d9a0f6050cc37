"""Sentence splitting for LLM text: whole texts (``split_sentences``) and streams
(``SentenceBuffer``), so that phrased replies can be verified sentence by sentence.

Pure and dependency-free: the agent's guard uses the same splitter, so what the phraser yields
and what the guard checks are cut at the same places.

The work is linear in the text: one regex pass finds candidate cuts, and deciding a cut looks
at most a word back and one character ahead. A stream is scanned only where new text arrived,
and a "sentence" longer than ``max_chars`` is not one (a server that ignores ``max_tokens``):
the buffer stops collecting it instead of rescanning a growing text at every chunk.
"""

from __future__ import annotations

import re

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "vol",
    "feat", "ft", "mt", "ca", "approx", "dept", "inc", "ltd", "co", "u.s", "u.k", "dir",
}
# A candidate cut: sentence punctuation (with closing quotes or brackets) followed by space or
# the end; or a block break (a blank line, or a line starting a list item).
_CUT = re.compile(r"""(?P<punct>[.!?…]+)["'”’)\]]*(?:\s+|$)"""
                  r"""|(?P<block>\n\s*\n|\n(?=[ \t]{0,8}(?:[-*•]|\d{1,3}[.)])\s))""")
_LONGEST_WORD = 40            # how far back an abbreviation or initial is looked for
_TRAILING = frozenset(" \t\n\r\f\v.!?…\"'”’)]")
_LOOKAHEAD = 16               # a list item ("\n  12) ") is recognised only once its marker arrived
MAX_SENTENCE_CHARS = 2000


def _word_before(text: str, end: int) -> str:
    """The run of word characters and periods that ends at ``end`` (at most 40 characters)."""
    start = end
    floor = max(0, end - _LONGEST_WORD)
    while start > floor and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    return text[start:end]


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Whether the punctuation at ``match`` ends a sentence."""
    if match.end() == len(text):
        return True
    if text[match.end()].islower():
        return False        # '"Great!" she said' / a mid-sentence period
    if match.group("punct") != ".":
        return True
    word = _word_before(text, match.start())
    if word.lower().rstrip(".") in _ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False        # an initial: "J. R. R. Tolkien", "Michael J. Fox"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return False        # "E.T.", "L.A.", "U.S.A." (the last period is the match)
    return True


def _cuts(text: str, pos: int = 0):
    """``(end of a sentence, start of the next, confirmed)`` for each cut from ``pos`` on.
    A cut is confirmed when text follows it (a stream's last cut may still move: "Dr." then
    " Smith")."""
    for match in _CUT.finditer(text, pos):
        confirmed = match.end() < len(text)
        if match.group("block") is not None:
            yield match.start(), match.end(), confirmed
        elif _is_boundary(text, match):
            yield match.end(), match.end(), confirmed


def _tidy(piece: str) -> str:
    return " ".join(piece.split())


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation, dropping empty ones.

    Handles abbreviations ("Dr.", "vs."), initials ("J. R. R."), dotted acronyms ("E.T."),
    decimals ("2.5") and closing quotes or brackets after the punctuation. Blank lines and
    list items also end a sentence. Whitespace inside a sentence is collapsed.
    """
    text = text or ""
    sentences, start = [], 0
    for end, following, _ in _cuts(text):
        piece = _tidy(text[start:end])
        if piece:
            sentences.append(piece)
        start = following
    rest = _tidy(text[start:])
    return sentences + ([rest] if rest else [])


class SentenceBuffer:
    """Collects streamed text and releases whole sentences as soon as they are complete.

    A sentence is released only once the next one has started (a boundary needs the following
    character to be sure: "Dr." followed by " Smith" is not an end), so the last sentence comes
    out of ``flush()``.

    Args:
        max_chars: the longest sentence collected. Past it ``overflowed`` is set and further
            text is ignored: the caller should stop reading the stream.
    """

    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS) -> None:
        self.max_chars = max_chars
        self.overflowed = False
        self._text = ""
        self._scan = 0      # no cut can start before this offset of ``_text``

    def feed(self, chunk: str) -> list[str]:
        """Add a chunk; return the sentences it completed (possibly none)."""
        if self.overflowed or not chunk:
            return []
        self._text += chunk
        done, start = [], 0
        for end, following, confirmed in _cuts(self._text, self._scan):
            if not confirmed:
                break
            piece = _tidy(self._text[start:end])
            if piece:
                done.append(piece)
            start = following
        self._text = self._text[start:]
        # Rescan only the tail that may still grow into a cut: trailing spaces, punctuation
        # and closing quotes (a "." may turn out to end "Dr." or a sentence), and the start of
        # a line that may turn out to be a list item.
        scan = len(self._text)
        while scan > 0 and self._text[scan - 1] in _TRAILING:
            scan -= 1
        self._scan = max(0, scan - _LOOKAHEAD)
        if len(self._text) > self.max_chars:
            self.overflowed = True
            self._text = ""
        return done

    def flush(self) -> list[str]:
        """The remaining text as sentences (call when the stream ends)."""
        sentences, self._text, self._scan = split_sentences(self._text), "", 0
        return sentences
