"""The guard: checks the claims in a reply's final text before it leaves the agent.

It reads the text itself, not the evidence list: every title-like span must resolve to an item that
was recommended or discussed, and every person, genre and year stated in a sentence must be an edge
of an item that sentence talks about (or something the user asked for). A reply that fails is
replaced by the template reply by the caller; the violations go into the trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatrec.agent.models import Constraints
from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key
from kg.models import (DIRECTED_BY, GENRE, HAS_GENRE, HAS_KEYWORD, ITEM, MADE_BY, PERSON, STARS,
                       WRITTEN_BY, keyword_node, node_value, person_node)

_BOLD = re.compile(r"\*\*([^*]{1,150})\*\*(?:\s*\((\d{4})\))?")
_QUOTED = re.compile(r"[\"“]([^\"”]{1,150})[\"”](?:\s*\((\d{4})\))?")
_TITLE_YEAR = re.compile(r"((?:[A-Z0-9][\w'’:&.!?,-]*)(?:\s+(?:[A-Z0-9][\w'’:&.!?,-]*|of|the|and|a|an|in|on|to|for|at|"
                         r"with|from|vs\.?|&|-)){0,9})\s*\(((?:18|19|20)\d\d)\)")
_YEAR = re.compile(r"(?<![\d(])((?:18|19|20)\d\d)(?!\d)(?!\))(?!'?s\b)")
_DECADE = re.compile(r"\b((?:18|19|20)\d0)s\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\"“])|\n+")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s")
# A tag in single quotes ("tagged 'time travel'"); apostrophes inside words do not open one.
_TAG = re.compile(r"(?<![\w])'([^'\n]{1,60})'(?![\w])")
PERSON_RELATIONS = (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


@dataclass
class GuardResult:
    passed: bool
    violations: list[str] = field(default_factory=list)
    checked_claims: int = 0


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

    def check(self, text: str, recommended: list[str], discussed: set[str],
              constraints: Constraints | None = None) -> GuardResult:
        allowed = set(recommended) | set(discussed)
        result = GuardResult(passed=True)
        c = constraints or Constraints()
        asked_people = {label_key(p) for p in c.people_any}
        asked_genres = {label_key(g) for g in (*c.genres_all, *c.genres_any, *c.genres_none)}
        line_item: str | None = None
        for raw_line in text.splitlines():
            numbered = _NUMBERED.match(raw_line)
            if numbered:
                index = int(numbered.group(1)) - 1
                line_item = recommended[index] if 0 <= index < len(recommended) else None
                if line_item is None:
                    self._fail(result, f"numbered line {index + 1} has no recommendation behind it")
            elif not raw_line.strip():
                line_item = None
            for sentence in split_sentences(raw_line):
                self._check_sentence(sentence, line_item, allowed, asked_people, asked_genres, c, result)
        return result

    # ------------------------------------------------------------------
    @staticmethod
    def _fail(result: GuardResult, message: str) -> None:
        result.passed = False
        result.violations.append(message)

    def _resolve(self, title: str, year: str | None, allowed: set[str]) -> tuple[str | None, bool]:
        """(item id, allowed?) for a title-like span; (None, False) when it is no catalog item."""
        found = self.catalog.find_title(title.strip(), int(year) if year else None)
        if year:
            found = [it for it in found if it.year == int(year)] or []
        for item in found:
            if item.id in allowed:
                return item.id, True
        return (found[0].id, False) if found else (None, False)

    def _check_sentence(self, sentence: str, line_item: str | None, allowed: set[str],
                        asked_people: set[str], asked_genres: set[str], c: Constraints,
                        result: GuardResult) -> None:
        referenced: list[str] = [line_item] if line_item else []
        spans: list[tuple[int, int]] = []
        for pattern in (_BOLD, _QUOTED, _TITLE_YEAR):
            for m in pattern.finditer(sentence):
                if any(m.start() < e and s < m.end() for s, e in spans):
                    continue
                title, year = m.group(1), m.group(2)
                if pattern is _TITLE_YEAR:
                    title = re.sub(r"^(?:(?:And|But|Also|Like|As|In|With|From|Try|Or|If|Then|See|"
                                   r"Check out|Watch|Since|Because|Both)\s+)+", "", title)
                result.checked_claims += 1
                item_id, ok = self._resolve(title, year, allowed)
                if item_id is None:
                    if pattern is _QUOTED and not year:
                        continue  # quoted words need not be titles ("a 'feel-good' film")
                    self._fail(result, f"unknown title: {title.strip()!r}")
                elif not ok:
                    self._fail(result, f"title not recommended or discussed: {title.strip()!r}")
                else:
                    referenced.append(item_id)
                spans.append((m.start(), m.end()))
        tag_spans: list[tuple[int, int]] = []
        for m in _TAG.finditer(sentence):
            result.checked_claims += 1
            node = keyword_node(m.group(1))
            if any(self.kg.has_fact(i, HAS_KEYWORD, node) for i in referenced):
                tag_spans.append((m.start(), m.end()))
            else:
                self._fail(result, f"tag {m.group(1)!r} is not a keyword of {self._names(referenced)}")
        spans += tag_spans
        try:
            mentions = [m for m in self.linker.link(sentence)
                        if not any(m.start < e and s < m.end for s, e in tag_spans)]
        except Exception:  # noqa: BLE001 - a linker failure cannot approve a text
            self._fail(result, "could not read the text to verify it")
            return
        for m in mentions:
            if m.kind == ITEM and not any(m.start < e and s < m.end for s, e in spans):
                # Unformatted titles count when unmistakable (several words); one-word titles
                # ("It", "Up") are too often ordinary words to judge without formatting.
                if len(m.text.split()) >= 2 and m.score >= 0.95:
                    item_id = node_value(m.node)
                    result.checked_claims += 1
                    if item_id in allowed:
                        referenced.append(item_id)
                    elif not any(node_value(a) in allowed for a in m.alternatives):
                        self._fail(result, f"title not recommended or discussed: {m.text!r}")
        for m in mentions:
            if m.kind == PERSON:
                result.checked_claims += 1
                name_key = label_key(self.kg.label(m.node))
                if name_key in asked_people:
                    continue
                if not any(self.kg.has_fact(i, rel, m.node) for i in referenced for rel in PERSON_RELATIONS):
                    self._fail(result, f"{self.kg.label(m.node)} is not credited on "
                                       f"{self._names(referenced)}")
            elif m.kind == GENRE:
                result.checked_claims += 1
                genre = node_value(m.node)
                if genre in asked_genres:
                    continue
                if not any(self.kg.has_fact(i, HAS_GENRE, m.node) for i in referenced):
                    self._fail(result, f"genre {genre!r} is not a genre of {self._names(referenced)}")
        years = {self.catalog[i].year for i in referenced if i in self.catalog and self.catalog[i].year}
        for m in _YEAR.finditer(sentence):
            if any(s <= m.start() < e for s, e in spans):
                continue
            year = int(m.group(1))
            result.checked_claims += 1
            if year in years:
                continue
            if (c.year_min is not None and year == c.year_min) or (c.year_max is not None and year == c.year_max):
                continue
            self._fail(result, f"year {year} does not belong to {self._names(referenced)}")
        for m in _DECADE.finditer(sentence):
            if any(s <= m.start() < e for s, e in spans):
                continue
            decade = int(m.group(1))
            result.checked_claims += 1
            if any(y // 10 * 10 == decade for y in years):
                continue
            if c.year_min is not None and c.year_min // 10 * 10 == decade:
                continue
            self._fail(result, f"decade {decade}s does not fit {self._names(referenced)}")

    def _names(self, ids: list[str]) -> str:
        names = [self.catalog[i].display for i in ids if i in self.catalog]
        return ", ".join(names) if names else "any item named in that sentence"


def person_credited(kg, item_id: str, name: str) -> bool:
    node = person_node(name)
    return any(kg.has_fact(item_id, rel, node) for rel in PERSON_RELATIONS)
