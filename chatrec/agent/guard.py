"""The guard: checks the claims in a reply's final text before it leaves the agent.

It reads the text itself, not the evidence list: every title-like span must resolve to an item that
was recommended or discussed, and every person, genre, tag and year stated in a sentence must be an
edge of an item that sentence talks about (or something the user asked for). A reply that fails is
replaced by the template reply by the caller; the violations go into the trace.

Titles are found three ways: ``**bold**`` (how chatrec writes them), "quoted", and a capitalised
run followed by a year, "Heat (1995)" (how an LLM often writes them); for the last, the longest run
of preceding words that names a catalog item of that year is taken, so "As Good as It Gets (1997)"
is one title, not "It Gets".

Text an LLM wrote is checked in the closed world (``closed_world=True``, see ``closed_world``):
there, what the guard cannot read as a verified claim rejects the sentence, instead of passing
unnoticed. chatrec's own templates are checked in the open world: every claim the guard recognises
must be true, and their fixed wording is not parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from chatrec.agent.closed_world import TITLE, ClosedWorld, Unit
from chatrec.agent.models import Constraints
from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key
from kg.models import (
    DIRECTED_BY,
    GENRE,
    HAS_GENRE,
    HAS_KEYWORD,
    ITEM,
    MADE_BY,
    PERSON,
    STARS,
    WRITTEN_BY,
    keyword_node,
    node_value,
)

# A bold title may hold single asterisks ("**M*A*S*H** (1970)").
_BOLD = re.compile(r"\*\*((?:[^*\n]|\*(?!\*)){1,150}?)\*\*(?:\s*\((\d{4})\))?")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{1,150})[\"”](?:\s*\((\d{4})\))?")
_YEAR_PAREN = re.compile(r"\(((?:18|19|20)\d\d)\)")
# A tag in single quotes ("tagged 'time travel'"); apostrophes inside words do not open one.
_TAG = re.compile(r"(?<![\w])'([^'\n]{1,60})'(?![\w])")
_YEAR = re.compile(r"(?<![\d(])((?:18|19|20)\d\d)(?!\d)(?!\))(?!'?s\b)")
_DECADE = re.compile(r"\b((?:18|19|20)\d0)'?s\b")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s+[A-Z0-9*\"“'])")
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|Vol|No|Mt|Ft|Lt|Col|Gen|Prof|Rev)|\b[A-Z])\.$")
# Possessive: a word's letters cannot be shared out between words again, which on a run that
# does not reach the end ("AAAA…A~") tried every split of it.
_CAPITALISED_RUN = re.compile(r"((?:[A-Z0-9][\w'’:&!?.,-]*+\s*+)+)$")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s")
_LEADING_WORDS = re.compile(r"^(?:(?:And|But|Also|Like|As|In|With|From|Try|Or|If|Then|See|Watch|Since|"
                            r"Because|Both|Check out|Maybe|Perhaps|Consider|I|You|We)\s+)+")
PERSON_RELATIONS = (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY)
MAX_TITLE_WORDS = 14
MAX_TITLE_CHARS = 200      # how far back from a "(1995)" a title may start
MAX_CLOSED_WORLD_CHARS = 4000   # longer LLM text is rejected unread: verifying it would cost too much


@dataclass
class GuardResult:
    """Attributes:
        passed: no violation found.
        violations: what was wrong, one message each.
        checked_claims: titles, people, genres, tags and years looked at.
        last_referenced: the items the last sentence talked about (what "it" means next).
    """

    passed: bool
    violations: list[str] = field(default_factory=list)
    checked_claims: int = 0
    last_referenced: list[str] = field(default_factory=list)


@dataclass
class _Title:
    start: int
    end: int
    item_id: str | None
    allowed: bool
    text: str


def sentence_ranges(line: str, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split a line into sentences, never inside a title span or after "Mrs." / "A."."""
    ranges, start = [], 0
    for m in _SENTENCE_END.finditer(line):
        cut = m.end()
        # The abbreviation is looked for in the few characters before the period only: searching
        # the whole sentence so far made long lines quadratic.
        window = max(start, m.start() - 8)
        if any(s < cut < e for s, e in protected) or _ABBREVIATION.search(line, window, m.start() + 1):
            continue
        ranges.append((start, cut))
        start = cut
    ranges.append((start, len(line)))
    return [(s, e) for s, e in ranges if line[s:e].strip()]


class Guard:
    """Verifies a reply text.

    Args:
        catalog: for resolving titles.
        kg: for checking edges (``has_fact``, ``label``).
        linker: finds people, genres and titles in free text.
    """

    def __init__(self, catalog: Catalog, kg, linker):
        self.catalog = catalog
        self.kg = kg
        self.linker = linker
        self.closed_world = ClosedWorld(catalog, kg, linker)

    def check(self, text: str, recommended: list[str], discussed: set[str],
              constraints: Constraints | None = None, carry: list[str] | None = None, *,
              closed_world: bool = False) -> GuardResult:
        """Check ``text``. ``carry``: the items the text before it talked about, for a sentence
        checked on its own ("It stars ..." after "**Heat** (1995) is ...").

        ``closed_world``: for text an LLM wrote. Every sentence must consist of verified claims
        about the recommended and discussed items and plain words; ``constraints`` then excuse
        nothing (a genre the user asked for must still be the item's)."""
        allowed = set(recommended) | set(discussed)
        result = GuardResult(passed=True, last_referenced=list(carry or []))
        if closed_world:
            self._check_closed(text, recommended, allowed, result)
            return result
        c = constraints or Constraints()
        for line, line_item, _ in self._lines(text, recommended, result):
            self._check_line(line, line_item, allowed, c, result)
        return result

    def _lines(self, text: str, recommended: list[str], result: GuardResult) -> Iterator[tuple[str, str | None, int]]:
        """Each non-empty line, the recommendation a numbered line presents ("2. …": the second;
        a numbered line with none behind it fails) and where the number ends (0: none)."""
        line_item: str | None = None
        for line in text.splitlines():
            numbered = _NUMBERED.match(line)
            if numbered:
                index = int(numbered.group(1)) - 1
                line_item = recommended[index] if 0 <= index < len(recommended) else None
                if line_item is None:
                    self._fail(result, f"numbered line {index + 1} has no recommendation behind it")
            elif not line.strip():
                line_item = None
            if line.strip():
                yield line, line_item, numbered.end() if numbered else 0

    def _check_closed(self, text: str, recommended: list[str], allowed: set[str], result: GuardResult) -> None:
        if len(text) > MAX_CLOSED_WORLD_CHARS:
            self._fail(result, f"a text of {len(text)} characters is too long to verify")
            return
        for line, line_item, marker in self._lines(text, recommended, result):
            if marker:
                if line_item is None:
                    continue
                line = " " * marker + line[marker:]   # the number is a list marker, not a claim
                result.last_referenced = [line_item]
            titles = self._checked_titles(line, allowed, result)
            for start, end in sentence_ranges(line, [(t.start, t.end) for t in titles]):
                units = [Unit(TITLE, t.start - start, t.end - start, line[t.start:t.end], items=(t.item_id,))
                         for t in titles if start <= t.start < end and t.allowed and t.item_id is not None]
                verdict = self.closed_world.check(line[start:end], units, allowed, recommended,
                                                  carry=result.last_referenced)
                result.checked_claims += verdict.claims
                for violation in verdict.violations:
                    self._fail(result, violation)
                result.last_referenced = verdict.subject or result.last_referenced

    # ------------------------------------------------------------------ titles
    @staticmethod
    def _fail(result: GuardResult, message: str) -> None:
        result.passed = False
        result.violations.append(message)

    def _resolve(self, title: str, year: int | None, allowed: set[str]) -> tuple[str | None, bool]:
        """(item id, allowed?) for a title; (None, False) when no catalog item has that title."""
        found = self.catalog.find_title(title.strip(), year)
        if year is not None:
            found = [it for it in found if it.year == year]
        for item in found:
            if item.id in allowed:
                return item.id, True
        return (found[0].id, False) if found else (None, False)

    def _titles(self, line: str, allowed: set[str]) -> list[_Title]:
        titles: list[_Title] = []

        def taken(start: int, end: int) -> bool:
            return any(start < t.end and t.start < end for t in titles)

        for pattern in (_BOLD, _QUOTED):
            for m in pattern.finditer(line):
                if taken(m.start(), m.end()):
                    continue
                year = int(m.group(2)) if m.group(2) else None
                item_id, ok = self._resolve(m.group(1), year, allowed)
                if item_id is None and pattern is _QUOTED and year is None:
                    continue  # quoted words need not be titles ("a 'feel-good' film")
                titles.append(_Title(m.start(), m.end(), item_id, ok, m.group(1).strip()))
        for m in _YEAR_PAREN.finditer(line):
            if taken(m.start(), m.end()):
                continue
            year = int(m.group(1))
            offset = max(0, m.start() - MAX_TITLE_CHARS)
            before = line[offset: m.start()].rstrip()
            words = list(re.finditer(r"\S+", before))[-MAX_TITLE_WORDS:]
            best: _Title | None = None
            for w in words:  # longest candidate first
                candidate = _LEADING_WORDS.sub("", before[w.start():].strip(" ,;:—–-"))
                if not candidate or not candidate[0].isupper() and not candidate[0].isdigit():
                    continue
                item_id, ok = self._resolve(candidate, year, allowed)
                if item_id is not None:
                    # The span starts at the title, after leading words ("Like", "Try") it skipped.
                    start = offset + w.start() + max(0, before.find(candidate, w.start()) - w.start())
                    best = _Title(start, m.end(), item_id, ok, candidate)
                    break
            if best is None:
                # A capitalised run before a year that names nothing in the catalog: invented.
                run = _CAPITALISED_RUN.search(before)
                if run and run.group(1).strip():
                    text = _LEADING_WORDS.sub("", run.group(1).strip())
                    titles.append(_Title(offset + run.start(1), m.end(), None, False, text))
                continue
            titles.append(best)
        return titles

    def _checked_titles(self, line: str, allowed: set[str], result: GuardResult) -> list[_Title]:
        """The line's titles; an unknown one, or one neither recommended nor discussed, fails."""
        titles = self._titles(line, allowed)
        for t in titles:
            result.checked_claims += 1
            if t.item_id is None:
                self._fail(result, f"unknown title: {t.text!r}")
            elif not t.allowed:
                self._fail(result, f"title not recommended or discussed: {t.text!r}")
        return titles

    # ------------------------------------------------------------------ one line
    def _check_line(self, line: str, line_item: str | None, allowed: set[str], c: Constraints,
                    result: GuardResult) -> None:
        titles = self._checked_titles(line, allowed, result)
        try:
            mentions = list(self.linker.link(line))
        except Exception:  # noqa: BLE001 - a linker failure cannot approve a text
            self._fail(result, "could not read the text to verify it")
            return
        asked_people = {label_key(p) for p in (*c.people_any, *c.people_none, *c.directors_any, *c.cast_any,
                                               *c.writers_any)}
        asked_genres = {label_key(g) for g in (*c.genres_all, *c.genres_any, *c.genres_none)}
        for start, end in sentence_ranges(line, [(t.start, t.end) for t in titles]):
            inside = [t for t in titles if start <= t.start < end]
            referenced = ([line_item] if line_item else []) + [t.item_id for t in inside
                                                               if t.allowed and t.item_id is not None]
            if not referenced and not inside:
                # A sentence naming no item talks about the one before it ("It stars ...").
                referenced = list(result.last_referenced)
            spans = [(t.start, t.end) for t in inside]
            sentence = line[start:end]
            self._check_tags(sentence, start, referenced, spans, result)
            for m in mentions:
                if not (start <= m.start < end) or any(m.start < e and s < m.end for s, e in spans):
                    continue
                self._check_mention(m, referenced, allowed, asked_people, asked_genres, result)
            self._check_years(sentence, start, referenced, spans, c, result)
            if referenced:
                result.last_referenced = list(dict.fromkeys(referenced))

    def _check_tags(self, sentence: str, offset: int, referenced: list[str],
                    spans: list[tuple[int, int]], result: GuardResult) -> None:
        for m in _TAG.finditer(sentence):
            result.checked_claims += 1
            node = keyword_node(m.group(1))
            if any(self.kg.has_fact(i, HAS_KEYWORD, node) for i in referenced):
                spans.append((offset + m.start(), offset + m.end()))
            else:
                self._fail(result, f"tag {m.group(1)!r} is not a keyword of {self._names(referenced)}")

    def _check_mention(self, m, referenced: list[str], allowed: set[str], asked_people: set[str],
                       asked_genres: set[str], result: GuardResult) -> None:
        if m.kind == ITEM:
            # Unformatted titles count when unmistakable (several words); one-word titles
            # ("It", "Up") are too often ordinary words to judge without formatting.
            if len(m.text.split()) >= 2 and m.score >= 0.95:
                result.checked_claims += 1
                item_id = node_value(m.node)
                if item_id in allowed:
                    referenced.append(item_id)
                elif not any(node_value(a) in allowed for a in m.alternatives):
                    self._fail(result, f"title not recommended or discussed: {m.text!r}")
        elif m.kind == PERSON:
            result.checked_claims += 1
            if label_key(self.kg.label(m.node)) in asked_people:
                return
            if not any(self.kg.has_fact(i, rel, m.node) for i in referenced for rel in PERSON_RELATIONS):
                self._fail(result, f"{self.kg.label(m.node)} is not credited on {self._names(referenced)}")
        elif m.kind == GENRE:
            result.checked_claims += 1
            genre = node_value(m.node)
            if genre in asked_genres or label_key(genre) in asked_genres:
                return
            if not any(self.kg.has_fact(i, HAS_GENRE, m.node) for i in referenced):
                self._fail(result, f"genre {genre!r} is not a genre of {self._names(referenced)}")

    def _check_years(self, sentence: str, offset: int, referenced: list[str],
                     spans: list[tuple[int, int]], c: Constraints, result: GuardResult) -> None:
        years = {y for i in referenced if i in self.catalog and (y := self.catalog[i].year) is not None}
        bounds = {y for y in (c.year_min, c.year_max) if y is not None}
        for m in _YEAR.finditer(sentence):
            if any(s <= offset + m.start() < e for s, e in spans):
                continue
            result.checked_claims += 1
            year = int(m.group(1))
            if year not in years and year not in bounds:
                self._fail(result, f"year {year} does not belong to {self._names(referenced)}")
        for m in _DECADE.finditer(sentence):
            if any(s <= offset + m.start() < e for s, e in spans):
                continue
            result.checked_claims += 1
            decade = int(m.group(1))
            if any(y // 10 * 10 == decade for y in years) or any(b // 10 * 10 == decade for b in bounds):
                continue
            self._fail(result, f"decade {decade}s does not fit {self._names(referenced)}")

    def _names(self, ids: list[str]) -> str:
        names = [self.catalog[i].display for i in ids if i in self.catalog]
        return ", ".join(dict.fromkeys(names)) if names else "any item named in that sentence"
