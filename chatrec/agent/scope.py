"""Where words apply: clauses, sentences, and the scope of a negation.

"a scary movie that isn't gory" negates *gory*; "no horror, just a good comedy" negates *horror*
only; "No, I haven't seen those. Is the first one a comedy?" negates nothing. A negation reaches a
mention when only *filler* stands between them — articles, intensifiers, film nouns, other
mentions of the same list ("no horror or gore") — and stops at anything else: a clause break, a
verb, a pronoun ("No, that's for kids").

Sentences are also read for what kind of statement they are: a question about a particular film
("is it a comedy?"), a question about the recommender's taste ("do you like comedies?"), a request
("looking for ..."), or a description of a film the user names ("The Interview with Seth Rogen was
hilarious"). Attributes in questions and descriptions are about that film, not a filter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatrec.agent import patterns as P

# "but" ends a clause ("I loved X but hated Y"), except in "anything/everything/all but".
CLAUSE_BREAK = re.compile(
    r"[.;!?]|(?<!anything )(?<!everything )(?<!all )\bbut\b(?! not\b)|\bhowever\b|\bthough\b|\balthough\b|"
    r"\binstead\b|\bjust\b|\bonly\b|\bmaybe\b|\bi(?:'d| would) (?:like|love|prefer)\b|\bi want\b|"
    r"\bi'?m looking for\b|\brather\b", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|,|/|&", re.IGNORECASE)
_SENTENCE_END = ".!?\n"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def overlaps(start: int, end: int, spans: Sequence[Span]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def clause_before(text: str, start: int, limit: int = 80) -> str:
    """The words before ``start`` in the same clause (cut at sentence punctuation or "but")."""
    window = text[max(0, start - limit):start]
    breaks = list(CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end():] if breaks else window


def clause_after(text: str, end: int, limit: int = 60) -> str:
    window = text[end:end + limit]
    found = CLAUSE_BREAK.search(window)
    return window[: found.start()] if found else window


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(ch, 0, start) for ch in _SENTENCE_END) + 1
    stops = [i for i in (text.find(ch, end) for ch in _SENTENCE_END) if i >= 0]
    right = min(stops) + 1 if stops else len(text)
    return left, right


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``, with its closing punctuation."""
    left, right = sentence_bounds(text, start, end)
    return text[left:right]


# ------------------------------------------------------------------------------- negation
def negation_before(text: str, start: int, entity_spans: Sequence[Span] = ()) -> re.Match | None:
    """The negation that reaches the mention starting at ``start``, if one does.

    The last negation in the clause before the mention counts when every word between them is
    filler or another entity mention of the same list."""
    window_start = max(0, start - 90)
    window = text[window_start:start]
    breaks = list(CLAUSE_BREAK.finditer(window))
    clause_start = breaks[-1].end() if breaks else 0
    clause = window[clause_start:]
    found = None
    for match in P.NEGATOR.finditer(clause):
        found = match
    if found is None:
        return None
    gap_start = window_start + clause_start + found.end()
    gap = _blank_entities(text, gap_start, start, entity_spans)
    words = _WORDS.findall(gap.lower())
    if words[:1] == [","] and found.group(0).lower() == "no":
        return None   # "No, that's for kids": an answer, not a negation of what follows
    for i, word in enumerate(words):
        if word not in P.NEGATION_FILLER and word != "ent":
            return None
        if word == "," and i + 1 < len(words) and words[i + 1] in P.SCOPE_RESTART:
            return None
    return found


def negation_unclear(text: str, start: int, entity_spans: Sequence[Span] = ()) -> bool:
    """A negation earlier in the same clause that does not reach the mention by the rules above
    ("we don't want anythng rated R or horror": a typo breaks the scope) and no new clause begun
    in between ("I'm tired of X, any other action movies?"): the mention's reading is unsure."""
    if negation_before(text, start, entity_spans) is not None:
        return False
    clause = clause_before(text, start, 90)
    found = None
    for match in P.NEGATOR.finditer(clause):
        found = match
    if found is None:
        return False
    words = _WORDS.findall(clause[found.end():].lower())
    return not any(w == "," and nxt in P.SCOPE_RESTART for w, nxt in zip(words, words[1:], strict=False))


def _blank_entities(text: str, start: int, end: int, spans: Sequence[Span]) -> str:
    chars = list(text[start:end])
    for span in spans:
        a, b = max(span.start, start), min(span.end, end)
        if a < b:
            chars[a - start:b - start] = list(" ent" + " " * (b - a - 4)) if b - a >= 4 else [" "] * (b - a)
    return "".join(chars)


def negation_strength(match: re.Match) -> str:
    """"strong" (no, nothing, without, don't want …: an exclusion), "soft" (less, fewer: a
    preference) or "plain" (not: an exclusion in a request, a dislike in a statement)."""
    word = match.group(0).lower()
    if P.SOFT_NEGATOR.fullmatch(word):
        return "soft"
    if P.PLAIN_NEGATOR.fullmatch(word):
        return "plain"
    return "strong"


# ------------------------------------------------------------------------------- sentences
@dataclass
class SentenceKind:
    """What kind of statement a sentence is (flags; several may hold)."""

    text: str
    question: bool = False
    about_film: bool = False     # a question or tag question about one particular film
    asks_taste: bool = False     # a question about the recommender's own taste
    request: bool = False        # asks for recommendations
    taste: bool = False          # states the user's taste ("I love horror")
    open: bool = False           # says any kind will do ("I like all movies", "especially")


def read_sentence(sentence: str) -> SentenceKind:
    kind = SentenceKind(sentence)
    stripped = sentence.strip()
    kind.question = stripped.endswith("?") or bool(P.TAG_QUESTION.search(stripped))
    kind.about_film = bool(P.ABOUT_FILM_QUESTION.search(stripped)) and kind.question
    kind.asks_taste = bool(P.ASKS_TASTE.search(stripped))
    kind.request = bool(P.ASKS_FOR.search(stripped)) and not kind.asks_taste
    kind.taste = bool(P.TASTE_ANYWHERE.search(stripped))
    kind.open = bool(P.OPEN_TASTE.search(stripped))
    return kind


def describes_film(text: str, start: int, end: int) -> bool:
    """Whether the words around the mention at ``start:end`` describe a film rather than wish for
    one: "Y is in it", "the one with Y", "it stars Y", "Y was great in it"."""
    before = clause_before(text, start, 50)
    after = clause_after(text, end, 40)
    return bool(P.DESCRIBING_BEFORE.search(before) or P.DESCRIBING_AFTER.search(after))


def attached_to_item(text: str, start: int, item_spans: Sequence[Span]) -> bool:
    """"Edge of Darkness with Mel Gibson", "The Interview (2014) with Seth Rogen": the mention
    follows a film's title, joined to it by "with", "starring", a comma or a parenthesis."""
    before = text[max(0, start - 16):start]
    joined = re.search(r"(?:\bwith|\bstarring|\bfeaturing|\bfrom|\bby|\(|,|-)\s*(?:the )?$", before, re.IGNORECASE)
    if not joined:
        return False
    head = start - len(before) + joined.start()
    return any(0 <= head - span.end <= 3 for span in item_spans)
