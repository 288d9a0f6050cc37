"""Title and label normalisation shared by the loaders, the catalog's title lookup and the KG linker.

Titles arrive as "Matrix, The (1999)", "City of Lost Children, The (Cité des enfants perdus, La)
(1995)", "Headhunter  (2009)" or "the matrix". ``parse_title`` splits such a string into a display
title, a year and aliases; ``title_key`` turns any title into the key used for lookup (lowercase, no
accents, no punctuation, no leading article) so that all of those spellings meet.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
# An alternate title is a parenthesis after a space: "Frontière(s)" is one word, not an alias.
_PAREN_SUFFIX = re.compile(r"\s+\(([^()]*)\)\s*$")
_AKA = re.compile(r"^(?:a\.k\.a\.?|aka)\s+", re.IGNORECASE)
# Parentheses that qualify the title rather than rename it: "(First Sequence)", "(Part 1 of ...)".
_QUALIFIER = re.compile(
    r"^(?:part|vol(?:ume)?\.?|chapter|episode)\s+\w+|\b(?:sequence|cut|edition|version)$",
    re.IGNORECASE,
)
# Articles moved to the end by library-style sorting ("Matrix, The"), in the languages MovieLens has.
_ARTICLES = (
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "El", "Los", "Las", "Die", "Der", "Das",
    "Den", "Det", "Lo", "I", "Gli", "O", "Os", "As", "Un", "Una", "Une", "Ein", "Eine",
)
_TRAILING_ARTICLE = re.compile(r"^(?P<head>.+?),\s*(?P<art>" + "|".join(re.escape(a) for a in _ARTICLES) + r")$")
_LEADING_ARTICLE_KEY = re.compile(r"^(?:the|a|an)\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def move_article_front(title: str) -> str:
    """"Matrix, The" → "The Matrix"; "Cité des enfants perdus, La" → "La Cité des enfants perdus"."""
    match = _TRAILING_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    article = match.group("art")
    sep = "" if article.endswith("'") else " "
    return f"{article}{sep}{match.group('head').strip()}"


@dataclass(frozen=True)
class ParsedTitle:
    title: str
    year: int | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def parse_title(raw: str) -> ParsedTitle:
    """Split a catalog title into display title, year and aliases.

    >>> parse_title("City of Lost Children, The (Cité des enfants perdus, La) (1995)")
    ParsedTitle(title='The City of Lost Children', year=1995, aliases=('La Cité des enfants perdus',))
    """
    text = _SPACES.sub(" ", raw).strip()
    year: int | None = None
    match = _YEAR_SUFFIX.search(text)
    if match:
        year = int(match.group(1))
        text = text[: match.start()].strip()
    aliases: list[str] = []
    # Alternate titles in trailing parentheses, e.g. "Seven (a.k.a. Se7en)". Keep the main title
    # intact when the whole title is parenthetical or the parenthesis is short qualifier-like.
    while True:
        paren = _PAREN_SUFFIX.search(text)
        if not paren or paren.start() == 0:
            break
        inner = paren.group(1).strip()
        alias = _AKA.sub("", inner).strip()
        text = text[: paren.start()].strip()
        # "a.k.a." always introduces a real alternate title, even "(a.k.a. The Final Cut)".
        if alias and (alias != inner or not _QUALIFIER.search(alias)):
            aliases.append(move_article_front(alias))
    title = move_article_front(text) if text else raw.strip()
    return ParsedTitle(title=title, year=year, aliases=tuple(aliases))


def title_key(text: str) -> str:
    """The lookup key of a title: no year, article in front then dropped, lowercase, no accents or
    punctuation. "Matrix, The (1999)", "The Matrix" and "the matrix!" all give "matrix"."""
    parsed = parse_title(text)
    base = strip_accents(parsed.title).lower().replace("&", " and ")
    base = base.replace("'", "")
    base = _NON_WORD.sub(" ", base)
    base = _SPACES.sub(" ", base).strip()
    stripped = _LEADING_ARTICLE_KEY.sub("", base)
    return stripped or base


def label_key(text: str) -> str:
    """Key for names and labels (people, genres, keywords): lowercase, no accents or punctuation."""
    base = strip_accents(text).lower().replace("'", "")
    base = _NON_WORD.sub(" ", base)
    return _SPACES.sub(" ", base).strip()


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


#: How many consecutive words of a keyword form one of its phrases ("disney animated feature").
KEYWORD_PHRASE_WORDS = 3


def keyword_key(text: str) -> str:
    """Key for a keyword asked about: its words stemmed and written together, so "superheroes",
    "super hero" and "superhero" are one key."""
    return "".join(_stemmer().stemWords(label_key(text).split()))


def keyword_forms(keywords: Iterable[str]) -> set[str]:
    """Every ``keyword_key`` an item's keywords answer to: each keyword and each run of up to
    ``KEYWORD_PHRASE_WORDS`` of its consecutive words ("disney animated feature" answers to
    "disney", "animated feature"...), so "not Disney" rules it out."""
    forms: set[str] = set()
    for keyword in keywords:
        stems = _stemmer().stemWords(label_key(keyword).split())
        forms.add("".join(stems))
        for size in range(1, min(KEYWORD_PHRASE_WORDS, len(stems)) + 1):
            forms.update("".join(stems[i:i + size]) for i in range(len(stems) - size + 1))
    return forms


def display_title(title: str, year: int | None) -> str:
    return f"{title} ({year})" if year else title
