"""Text helpers of the entity linker: tokens with character offsets, how common a word is in
English, and decade expressions.

Tokens are normalised exactly like :func:`chatrec.catalog.normalize.title_key` normalises titles
(lowercase, no accents, apostrophes dropped, other punctuation a separator, "&" = "and"), so a
phrase of text tokens can be looked up directly among title keys.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import msgpack

from chatrec.catalog.normalize import strip_accents

logger = logging.getLogger(__name__)

# A word (letters/digits, inner apostrophes kept: "schindler's", "don't") or an ampersand.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&", re.UNICODE)
_APOSTROPHES = str.maketrans("", "", "'’")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a message: its normalised form and where it sits in the raw text."""

    norm: str
    start: int
    end: int
    raw: str


def norm_word(word: str) -> str:
    """"Schindler's" → "schindlers", "Amélie" → "amelie", "&" → "and"."""
    if word == "&":
        return "and"
    return strip_accents(word).lower().translate(_APOSTROPHES)


def tokenize(text: str) -> list[Token]:
    return [Token(norm_word(m.group()), m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def phrase_of(text: str) -> tuple[str, ...]:
    """The normalised token tuple of a label or title ("Spider-Man 2" → ("spider", "man", "2"))."""
    return tuple(tok.norm for tok in tokenize(text))


# ---------------------------------------------------------------- word frequency
def _wordfreq_bins(name: str) -> list[list[str]] | None:
    """The word bins of one of wordfreq's lists, read straight from its data file: importing
    ``wordfreq`` itself pulls in ftfy and langcodes and costs over a second at start-up. Bin k
    holds the words of frequency 10**(-k/100), i.e. zipf 9 - k/100."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{name}_en.msgpack.gz"
    try:
        with gzip.open(path, "rb") as handle:
            loaded = msgpack.load(handle, raw=False)
    except (OSError, ValueError, msgpack.UnpackException) as exc:
        logger.warning("reading %s failed (%s); using wordfreq's API", path, exc)
        return None
    if not isinstance(loaded, list) or not loaded:
        return None
    header, *bins = loaded
    return bins if isinstance(header, dict) and header.get("format") == "cB" else None


# Words rarer than this are not told apart from unknown ones (typos, names, foreign words).
MIN_ZIPF = 2.0


@lru_cache(maxsize=1)
def _zipf_table() -> dict[str, float]:
    """Zipf frequencies of the English words with zipf ≥ 2 (wordfreq's "large" list: web,
    subtitles, books...; "brainless" 2.8 is in, the typo "cristopher" 1.5 is not)."""
    bins = _wordfreq_bins("large")
    last = int(round((9.0 - MIN_ZIPF) * 100))
    if bins is not None:
        return {word: 9.0 - k / 100.0 for k, words in enumerate(bins[: last + 1])
                for word in words}
    import wordfreq

    table = {}
    for word, freq in wordfreq.get_frequency_dict("en", wordlist="large").items():
        value = math.log10(freq) + 9.0
        if value >= MIN_ZIPF:
            table[word] = value
    return table


def zipf(word: str) -> float:
    """Zipf frequency of an English word: 7 ≈ "the", 6 ≈ "go", 5 ≈ "heat", 3.6 ≈ "inception",
    0 = rarer than zipf 2 or unknown. Digits count as common (a sequel number is no evidence
    of a title)."""
    if word.isdigit():
        return 6.0
    return _zipf_table().get(word, 0.0)


# ---------------------------------------------------------------- decades
_DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000, "aughts": 2000,
}
# "90s", "90's", "'90s", "1990s", "the 1990's", "early 2000s", "the nineties".
_DECADE = re.compile(
    r"(?<![\w'’])(?:(?:early|mid|late)[\s-]+)?"
    r"(?:['’]?(?P<short>[0-9]0)['’]?s|(?P<long>(?:1[89]|20)[0-9]0)['’]?s|(?P<word>"
    + "|".join(_DECADE_WORDS) + r"))(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DecadeSpan:
    start: int
    end: int
    decade: int


def find_decades(text: str) -> list[DecadeSpan]:
    """Decade expressions in ``text``. Two-digit decades 20s–90s are the 1900s and 00s/10s the
    2000s (this is about films: "the 20s" is the 1920s)."""
    found = []
    for match in _DECADE.finditer(text):
        if match.group("long"):
            decade = int(match.group("long"))
        elif match.group("short"):
            tens = int(match.group("short"))
            decade = 2000 + tens if tens <= 10 else 1900 + tens
        else:
            decade = _DECADE_WORDS[match.group("word").lower()]
        found.append(DecadeSpan(match.start(), match.end(), decade))
    return found
