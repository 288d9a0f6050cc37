"""Time in a request: years, decades, ranges, their negations, and comparisons relative to what
they name.

"from the 90s" and "between 1985 and 1995" are ranges; "nothing from the 80s" excludes a decade;
"nothing before 1990" is "from 1990 on". A comparison is relative to what it names: "newer than
Heat" and "like Heat but newer" to Heat's year (the second within a window: films *like* Heat, a
little newer), "something newer" after a list to what was shown (newer than most of it), and
"newer movies" with nothing to compare to, to the catalog's newest years.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from chatrec.agent import patterns as P
from chatrec.agent.scope import (
    Span,
    clause_after,
    clause_before,
    negation_before,
    overlaps,
    sentence_around,
    sentence_bounds,
)
from chatrec.catalog.constraints import ConstraintOrigin
from chatrec.catalog.models import Catalog

RECENT_YEARS = 5       # "recent movies": the catalog's last five years
NEWER_DEFAULT = 10     # "newer ones" with nothing to compare to
OLDER_DEFAULT = 1989   # "older ones" with nothing to compare to
_ITEM_BEFORE = re.compile(r"(?:newer|more recent|later|(?:released|came out|made|come out) after|after)\s+"
                          r"(?:than\s+)?(?:the\s+)?$", re.IGNORECASE)
_ITEM_AFTER = re.compile(r"(?:older|earlier|(?:released|came out|made|come out) before|before)\s+"
                         r"(?:than\s+)?(?:the\s+)?$", re.IGNORECASE)


@dataclass
class TimeReading:
    """What a message says about release years.

    Attributes:
        year_min, year_max: the range asked for (None: open).
        decades_none: decades excluded.
        comparative: "newer"/"older" when the range came from a comparison.
        reference: the item the comparison is relative to, if it names one.
        origin: where the range came from and how sure the reading is.
    """

    year_min: int | None = None
    year_max: int | None = None
    decades_none: list[int] = field(default_factory=list)
    comparative: str | None = None
    reference: str | None = None
    origin: ConstraintOrigin | None = None

    @property
    def has_range(self) -> bool:
        return self.year_min is not None or self.year_max is not None


class TimeReader:
    """Reads years, decades and time comparisons.

    Args:
        catalog: for the years of the films compared to and the newest year there is.
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        years = catalog.year_array()            # a column: no loop over a large catalog's items
        self.newest_year = int(years.max()) if years.size and years.max() > 0 else 2020

    def read(self, text: str, item_mentions: Sequence, entity_spans: Sequence[Span],
             shown_years: Sequence[int]) -> TimeReading:
        """Args:
            text: the message.
            item_mentions: linked film mentions (``start``, ``end``, ``item_id``), text order.
            entity_spans: every linked span (a title holding "1984" is no year).
            shown_years: years of the films shown last (for "something newer").
        """
        out = TimeReading()
        if P.ANY_TIME.search(text):
            return out   # "I like old and new ones": no time frame
        taken = [s for s in entity_spans]
        items = [m for m in item_mentions]
        self._explicit(text, taken, entity_spans, out)
        if out.has_range:
            return out
        if self._relative_to_named(text, items, out):
            return out
        self._comparative(text, items, taken, shown_years, out)
        if out.has_range:
            return out
        self._recent_or_classic(text, taken, entity_spans, items, out)
        return out

    # ------------------------------------------------------------------ explicit years
    def _explicit(self, text: str, taken: list[Span], spans: Sequence[Span], out: TimeReading) -> None:
        def free(m: re.Match) -> bool:
            return not overlaps(m.start(), m.end(), [s for s in taken if not _is_decade_span(text, s)]) \
                and _asks_for_time(text, m)

        def request(said: str) -> ConstraintOrigin:
            return ConstraintOrigin(source="request", certainty=0.9, said=said.strip())

        for m in P.YEAR_BETWEEN.finditer(text):
            if free(m):
                a, b = [int(g) for g in m.groups() if g]
                out.year_min, out.year_max = min(a, b), max(a, b)
                out.origin = request(m.group(0))
                return
        decades: list[int] = []
        said: list[str] = []
        for m in P.DECADE.finditer(text):
            if not free(m):
                continue
            decade = _decade_of(m)
            if negation_before(text, m.start(), spans):
                out.decades_none.append(decade)
            else:
                decades.append(decade)
                said.append(m.group(0))
        if decades:
            out.year_min, out.year_max = min(decades), max(decades) + 9
            out.origin = request(" or ".join(said))
            return
        before = [m for m in P.YEAR_BEFORE.finditer(text) if free(m)]
        after = [m for m in P.YEAR_AFTER.finditer(text) if free(m)]
        for m in before:
            year = int(m.group(1))
            if negation_before(text, m.start(), spans):   # "nothing before 1990", "not older than 2005"
                out.year_min = year
            else:
                out.year_max = year - 1
            out.origin = request(m.group(0))
        for m in after:
            year = int(m.group(1) or m.group(2))
            inclusive = m.group(1) is not None or "since" in m.group(0).lower()
            if negation_before(text, m.start(), spans):   # "nothing after 1980", "nothing newer than 2000"
                out.year_max = year
            else:
                out.year_min = year if inclusive else year + 1
            out.origin = request(m.group(0))
        if out.has_range:
            return
        for m in P.LAST_YEARS.finditer(text):   # "from the last 3 years": up to the newest films
            if free(m) and not negation_before(text, m.start(), spans):
                count = P.NUMBER_WORDS.get(m.group(1).lower()) or int(m.group(1))
                out.year_min = self.newest_year - max(count, 1) + 1
                out.origin = request(m.group(0))
                return
        for m in P.YEAR_EXACT.finditer(text):
            if free(m) and not negation_before(text, m.start(), spans):
                years = [int(y) for y in m.groups() if y]
                out.year_min, out.year_max = min(years), max(years)
                out.origin = request(m.group(0))
                return

    # ------------------------------------------------------------------ comparisons
    def _relative_to_named(self, text: str, items: Sequence, out: TimeReading) -> bool:
        """"newer than Heat", "made before Scream", "came out after Groundhog Day"."""
        for m in items:
            item = self.catalog.get(m.item_id) if m.item_id else None
            if item is None or item.year is None:
                continue
            before = text[max(0, m.start - 40):m.start]
            if _ITEM_BEFORE.search(before):
                out.year_min, out.comparative = item.year + 1, "newer"
            elif _ITEM_AFTER.search(before):
                out.year_max, out.comparative = item.year - 1, "older"
            else:
                continue
            out.reference = item.id
            out.origin = ConstraintOrigin(source="request", certainty=0.9,
                                          said=f"{out.comparative} than {item.display}")
            return True
        return False

    def _comparative(self, text: str, items: Sequence, taken: list[Span], shown_years: Sequence[int],
                     out: TimeReading) -> None:
        found = _film_comparative(text, taken)
        if found is None:
            return
        kind, match = found
        if negation_before(text, match.start()):
            return   # "I don't watch newer movies": a taste, not a time frame to impose
        sentence = sentence_around(text, match.start(), match.end())
        start = text.find(sentence)
        same_sentence = [m for m in items if start <= m.start < start + len(sentence)
                         and text[m.start:m.end].lower() not in _PRONOUN_TITLES]
        reference = _nearest_item(same_sentence, match.start())
        if reference is not None and reference.start >= match.end() \
                and _EXAMPLES.search(text[match.end():reference.start]):
            return   # "I loved older ones like Bridesmaids": examples of what they like, no time frame
        item = self.catalog.get(reference.item_id) if reference is not None and reference.item_id else None
        said = match.group(0)
        if item is not None and item.year is not None:
            # "like Heat but newer": films like Heat, a little newer — a window after its year.
            out.reference = item.id
            if kind == "newer":
                out.year_min = item.year + 1
                out.year_max = min(item.year + P.LIKE_WINDOW_YEARS, self.newest_year)
            else:
                out.year_max = item.year - 1
                out.year_min = item.year - 2 * P.LIKE_WINDOW_YEARS
            out.origin = ConstraintOrigin(source="refinement", certainty=0.8, said=f"{said} than {item.display}")
        elif shown_years:
            # Newer than most of what was shown, and never so new that nothing well known is left.
            middle = int(statistics.median(shown_years))
            if kind == "newer":
                out.year_min = min(middle + 1, self.newest_year - 3)
            else:
                out.year_max = middle - 1
            out.origin = ConstraintOrigin(source="refinement", certainty=0.7, said=f"{said} than those")
        else:
            if kind == "newer":
                out.year_min = self.newest_year - NEWER_DEFAULT
            else:
                out.year_max = OLDER_DEFAULT
            out.origin = ConstraintOrigin(source="refinement", certainty=0.6, said=said)
        out.comparative = kind

    def _examples_disagree(self, text: str, m: re.Match, items: Sequence, low: int | None = None,
                           high: int | None = None) -> bool:
        """"classics like Bambi (2013) and Are We There Yet? (2005)": the films given as examples
        of the time words are outside what they would mean, so the user means something else."""
        joined = _EXAMPLES.match(text[m.end():m.end() + 20].lstrip(" ,"))
        if joined is None:
            return False
        _, stop = sentence_bounds(text, m.start(), m.end())
        years = [item.year for it in items if m.end() <= it.start < stop
                 and (item := self.catalog.get(it.item_id) if it.item_id else None) is not None and item.year]
        return any((low is not None and y < low) or (high is not None and y > high) for y in years)

    def _recent_or_classic(self, text: str, taken: list[Span], spans: Sequence[Span], items: Sequence,
                           out: TimeReading) -> None:
        for m in P.RECENT.finditer(text):
            if _one_film(text, m) or self._examples_disagree(text, m, items, low=self.newest_year - RECENT_YEARS):
                continue
            if not overlaps(m.start(), m.end(), taken) and not negation_before(text, m.start(), spans) \
                    and _asks_for_time(text, m):
                out.year_min = self.newest_year - RECENT_YEARS
                out.origin = ConstraintOrigin(source="request", certainty=0.8, said=m.group(0))
                return
        for m in P.CLASSIC.finditer(text):
            if overlaps(m.start(), m.end(), taken) or not _asks_for_time(text, m) \
                    or self._examples_disagree(text, m, items, high=1979):
                continue
            if negation_before(text, m.start(), spans):   # "no old ones", "not into old movies"
                out.year_min = 1980
            else:
                out.year_max = 1979
            out.origin = ConstraintOrigin(source="request", certainty=0.8, said=m.group(0))
            return


_PRONOUN_TITLES = frozenset({"it", "up", "her", "him", "us", "them", "this", "that", "me", "you"})


def _asks_for_time(text: str, m: re.Match) -> bool:
    """Whether time words ask for a time frame: not in a taste said without a request ("I like
    classics"), not hedged away ("preferably the 90s, but it doesn't really matter"), not turned
    down after ("the new ones, not so much")."""
    sentence = sentence_around(text, m.start(), m.end())
    if P.STRONG_HEDGE.search(sentence) or P.NEGATED_AFTER.search(clause_after(text, m.end())):
        return False
    if _SEEN_OBJECT.search(clause_before(text, m.start())) or describes_films(text, m.start(), m.end()):
        return False   # "I've seen the old ones", "Lethal Weapon is definitely a classic movie"
    if P.ABOUT_FILM_QUESTION.search(sentence) and sentence.rstrip().endswith("?"):
        return False   # "is that the one set in the 80s?": a question about one film
    return not (P.TASTE_BEFORE.search(clause_before(text, m.start())) and not P.ASKS_FOR.search(sentence))


_ONE_FILM = re.compile(r"^(?:new|newest|latest)\s+(?:one|movie|film|release)\b", re.IGNORECASE)
_DETERMINER = re.compile(r"\b(?:the|a|an|that|this|his|her|their|its|your)\s+$", re.IGNORECASE)


def _one_film(text: str, m: re.Match) -> bool:
    """"the new one", "a new movie", "his latest film": one film (a sequel, a remake, something
    not seen yet), not a time frame."""
    return bool(_ONE_FILM.match(text[m.start():])) and bool(_DETERMINER.search(text[max(0, m.start() - 8):m.start()]))


_EXAMPLES = re.compile(r"\b(?:like|such as|e\.g\.|including)\b", re.IGNORECASE)
# "<subject> is/are/'s [up to six words]" right before the time words; the subject and the words
# between decide whether it describes films or asks for them.
_COPULA_BEFORE = re.compile(r"\b([\w']+?)(?:'s|'re|\s*(?:\([^)]*\))?\s+(?:is|are|was|were))[\s,]+"
                            r"((?:[\w'-]+\s+){0,6})$", re.IGNORECASE)
# "his older movies were very funny", "classics are ...": the films described
_COPULA_AFTER = re.compile(r"^\s+(?:(?:movies?|films?|ones?|stuff)\s+)?(?:are|is|were|was|include)\b", re.IGNORECASE)
# "one of the classics", "one of my favourite old movies": a film placed among them
_ONE_OF = re.compile(r"\bone of (?:the|my|our|his|her|their)?\s*(?:\w+\s+){0,2}$", re.IGNORECASE)
# Subjects that ask ("what's a good old movie?", "is there a classic...") or open a relative clause.
_ASKING_SUBJECTS = frozenset({"what", "which", "who", "there", "here", "how", "where", "why"})
_NEW_CLAUSE = re.compile(r"\b(?:and|but|so|or|there|\w+ing)\b", re.IGNORECASE)
# What the user has seen already: "I've seen the old ones", "we watched all the classics".
_SEEN_OBJECT = re.compile(r"\b(?:seen|watched|saw)\s+(?:(?:all|most|both|some|many|lots|a lot|plenty|of|the|those|"
                          r"these|his|her|their)\s+)*$", re.IGNORECASE)


def describes_films(text: str, start: int, end: int) -> bool:
    """"Billy Madison and Happy Gilmore are classics", "Lethal Weapon (1987) is definitely a
    classic movie!", "some classics are When Harry Met Sally": films described, not a time frame
    asked for ("what's a good old movie?", "is there anything from the 90s?" ask)."""
    if _COPULA_AFTER.match(text[end:end + 20]) or _ONE_OF.search(text[max(0, start - 40):start]):
        return True
    before = clause_before(text, start, 70)
    copula = _COPULA_BEFORE.search(before)
    if copula is None:
        return False
    subject, between = copula.group(1).lower(), copula.group(2)
    relative = subject == "that" and bool(re.search(r"\w\s*$", before[:copula.start(1)]))   # "something that is"
    return not (subject in _ASKING_SUBJECTS or relative or _NEW_CLAUSE.search(between) or P.ASKS_FOR.search(between))


def _decade_of(m: re.Match) -> int:
    if m.group(4):
        return P.DECADE_WORDS[m.group(4).lower()]
    if m.group(1):
        return int(m.group(1) + m.group(2) + "0")
    digit = int(m.group(3))
    return 2000 + digit * 10 if digit <= 2 else 1900 + digit * 10


def _is_decade_span(text: str, span: Span) -> bool:
    return bool(P.DECADE.fullmatch(text[span.start:span.end].strip()))


def _film_comparative(text: str, taken: list[Span]) -> tuple[str, re.Match] | None:
    """The first "newer"/"older" comparative that is about films, with its kind."""
    found: list[tuple[int, str, re.Match]] = []
    for kind, pattern in (("newer", P.NEWER), ("older", P.OLDER)):
        for m in pattern.finditer(text):
            if overlaps(m.start(), m.end(), taken) or not _about_films(text, m) or not _asks_for_time(text, m) \
                    or _one_film(text, m):
                continue
            found.append((m.start(), kind, m))
    if not found:
        return None
    _, kind, match = min(found, key=lambda f: f[0])
    return kind, match


def _about_films(text: str, m: re.Match) -> bool:
    word = m.group(0).lower()
    if " " in word and not word.startswith(("a ", "an ")):
        return True   # "more recent", "not as old", "before it came out": comparisons of films
    after = re.findall(r"[a-z'-]+|\?", text[m.end():m.end() + 30].lower())
    before = re.findall(r"[a-z'-]+", text[max(0, m.start() - 30):m.start()].lower())
    nxt = after[0] if after else ""
    prev = before[-1] if before else ""
    if nxt in P.COMPARATIVE_NEXT_BAD or prev in ("are", "is", "were", "was", "re", "they're", "it's"):
        return False   # "older actors"; "they are older films" describes, it does not ask
    if any(word in P.COMPARATIVE_NEXT_BAD for word in before[-4:]):
        return False   # "for kids a little older": people compared, not films
    if word in ("recent", "later", "earlier") and nxt not in P.COMPARATIVE_NEXT_OK and nxt != "?":
        return False   # "I recently", "later tonight", "earlier this morning"
    return nxt in P.COMPARATIVE_NEXT_OK or nxt in ("", "?") or prev in P.COMPARATIVE_PREV_OK


def _nearest_item(items: Sequence, position: int):
    """The film mention a comparison at ``position`` refers to: the last one before it, else the
    first one after it ("a newer version of Heat")."""
    before = [m for m in items if m.end <= position]
    if before:
        return before[-1]
    after = [m for m in items if m.start >= position]
    return after[0] if after else None
