"""The closed-world reading of one LLM sentence: it is shown only if all of it is understood.

A sentence is cut into units: titles (an item that was recommended or discussed), people,
genres, keywords, years and decades (each a claim to verify), role phrases ("directed by",
"starring", "X's"), and plain words that claim nothing (``claim_words.PLAIN``). Anything else —
an unknown name, a capitalised word no claim explains, a number, a negation, a link, a word
outside the plain vocabulary — rejects the sentence, since nothing can vouch for it.

Each claim is then bound to what it is said about:

- a person to a role: the role phrase just before them ("directed by X", "starring A and B"),
  or just after ("X directed", "X stars in", "X's"); with none, any credit will do;
- a claim to its subject: the nearest title group before it in the sentence ("A and B are both
  thrillers": both), else the first one after it, else the items the sentence before talked
  about (``carry``: "It stars ..."), else all the recommendations;
- a title introduced by "like" ("a thriller, like Heat") is compared, not described: every claim
  of the sentence must hold for it too.

A claim holds when the knowledge graph has the edge for every item of its subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from chatrec.agent import claim_words as words
from chatrec.catalog.models import Catalog
from kg.models import (
    DECADE,
    GENRE,
    HAS_GENRE,
    HAS_KEYWORD,
    ITEM,
    KEYWORD,
    PERSON,
    node_kind,
    node_value,
)

TITLE, CUE, WORD, PUNCT, YEAR = "title", "cue", "word", "punct", "year"
MAX_SENTENCE_CHARS = 600
_TOKEN = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*|\d+(?:[.,:/]\d+)*|['’]s\b|\S")
_YEAR_OR_DECADE = re.compile(r"(?<![\w'’])(?:(?P<year>(?:18|19|20)\d\d)(?P<s>['’]?s)?"
                             r"|['’]?(?P<short>\d0)['’]?s)(?![\w])")
_PUNCTUATION = frozenset(".,;:!?'\"“”‘’()-–—…&")
_OPENERS = frozenset(":;—–-\"“‘'(")


@dataclass
class Unit:
    """A piece of the sentence. ``items``: a title's item; ``nodes``: the KG nodes a person,
    genre or keyword mention may mean; ``value``: a year or decade; ``cue``: a role phrase."""

    kind: str
    start: int
    end: int
    text: str
    items: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    value: int = 0
    cue: words.Cue | None = None
    compared: bool = False      # a title after "like": the claims must hold for it too
    elliptical: bool = False    # "so is Heat", "Heat too": compared, and needs claims to compare
    bound: bool = False         # a role phrase some person was credited through


@dataclass
class SentenceVerdict:
    """What the closed world made of a sentence: ``violations`` (empty: show it), the number
    of claims checked, and the items its last title group named (what "it" means next)."""

    violations: list[str] = field(default_factory=list)
    claims: int = 0
    subject: list[str] = field(default_factory=list)


class ClosedWorld:
    """Verifies LLM sentences against the knowledge graph, rejecting what it cannot read.

    Args:
        catalog: resolves titles.
        kg: the facts (``has_fact``, ``facts_of``, ``label``).
        linker: finds people, genres, keywords and titles in free text.
    """

    def __init__(self, catalog: Catalog, kg, linker):
        self.catalog = catalog
        self.kg = kg
        self.linker = linker

    # ------------------------------------------------------------------ public
    def check(self, sentence: str, titles: list[Unit], allowed: set[str], recommended: list[str],
              carry: list[str]) -> SentenceVerdict:
        """Verify one sentence. ``titles``: the title spans already found in it (offsets in
        ``sentence``); ``allowed``: items that may be named; ``carry``: what the sentence before
        talked about."""
        verdict = SentenceVerdict(subject=list(carry))
        if len(sentence) > MAX_SENTENCE_CHARS:
            verdict.violations.append(f"a sentence of {len(sentence)} characters is too long to verify")
            return verdict
        units = self._units(sentence, titles, allowed, recommended, carry, verdict)
        if verdict.violations:
            return verdict
        _mark_comparisons(units)
        groups = _title_groups(units)
        context = _Context(units, groups, carry, recommended,
                           compared=[i for u in units if u.kind == TITLE and u.compared for i in u.items])
        self._verify(units, context, verdict)
        if verdict.claims == 0:
            for unit in units:
                if unit.elliptical:
                    verdict.violations.append(f"{unit.text!r} is said to share a claim made elsewhere")
        if groups:
            verdict.subject = list(groups[-1][2])
        return verdict

    # ------------------------------------------------------------------ reading
    def _units(self, sentence: str, titles: list[Unit], allowed: set[str], recommended: list[str],
               carry: list[str], verdict: SentenceVerdict) -> list[Unit]:
        spans: list[Unit] = list(titles)

        def free(start: int, end: int) -> bool:
            return all(end <= u.start or u.end <= start for u in spans)

        about = list(dict.fromkeys([*(i for u in titles for i in u.items), *carry, *recommended]))
        for unit in self._fact_labels(sentence, about):
            if free(unit.start, unit.end):
                spans.append(unit)
        for unit in self._allowed_titles(sentence, allowed, recommended):
            if free(unit.start, unit.end):
                spans.append(unit)
        try:
            mentions = list(self.linker.link(sentence))
        except Exception:  # noqa: BLE001 - a linker failure cannot approve a text
            verdict.violations.append("could not read the text to verify it")
            return []
        for m in mentions:
            start, end = m.start, _without_possessive(sentence, m.start, m.end)
            if not free(start, end):
                continue
            nodes = (m.node, *m.alternatives)
            if m.kind == ITEM:
                ok = [node_value(n) for n in nodes if node_kind(n) == ITEM and node_value(n) in allowed]
                if ok:
                    spans.append(Unit(TITLE, start, end, sentence[start:end], items=(ok[0],)))
                elif len(m.text.split()) >= 2 and m.score >= 0.9:
                    verdict.violations.append(f"title not recommended or discussed: {m.text!r}")
                else:
                    kinds = [n for n in nodes if node_kind(n) in (GENRE, KEYWORD)]
                    if kinds:
                        spans.append(Unit(node_kind(kinds[0]), start, end, sentence[start:end], nodes=tuple(kinds)))
            elif m.kind in (PERSON, GENRE, KEYWORD):
                spans.append(Unit(m.kind, start, end, sentence[start:end],
                                  nodes=tuple(n for n in nodes if node_kind(n) == m.kind)))
        for m in _YEAR_OR_DECADE.finditer(sentence):
            if not free(m.start(), m.end()):
                continue
            if m.group("year") and not m.group("s"):
                spans.append(Unit(YEAR, m.start(), m.end(), m.group(0), value=int(m.group("year"))))
            else:
                value = int(m.group("year") or m.group("short"))
                spans.append(Unit(DECADE, m.start(), m.end(), m.group(0), value=value))
        for m in words.CUE_PATTERN.finditer(sentence):
            if free(m.start(), m.end()):
                cue = words.ROLE_CUES[int(next(k for k, v in m.groupdict().items() if v is not None)[1:])]
                spans.append(Unit(CUE, m.start(), m.end(), m.group(0), cue=cue))
        spans.sort(key=lambda u: u.start)
        units: list[Unit] = []
        cursor = 0
        for span in [*spans, None]:
            stop = span.start if span is not None else len(sentence)
            for t in _TOKEN.finditer(sentence, cursor, stop):
                units.append(self._plain(t.group(0), t.start(), units, verdict))
            if span is not None:
                units.append(span)
                cursor = span.end
        return units

    def _plain(self, token: str, start: int, before: list[Unit], verdict: SentenceVerdict) -> Unit:
        """A leftover token: a plain word, punctuation, or a violation."""
        end = start + len(token)
        if token[0].isdigit():
            verdict.violations.append(f"a number no fact gives: {token!r}")
            return Unit(WORD, start, end, token)
        if not token[0].isalpha() and token not in ("'s", "’s"):
            if token not in _PUNCTUATION:
                verdict.violations.append(f"not plain prose: {token!r}")
            return Unit(PUNCT, start, end, token)
        key = token.lower().replace("’", "'")
        parts = re.split(r"[-]", key)
        if key in words.NEGATIONS or any(p in words.NEGATIONS for p in parts):
            verdict.violations.append(f"a negation cannot be verified: {token!r}")
        elif key not in words.PLAIN and key not in ("'s",) and not all(p in words.PLAIN for p in parts):
            verdict.violations.append(f"unverified word: {token!r}")
        elif token[0].isupper() and token != "I" and not _opens_sentence(before):
            verdict.violations.append(f"unverified name: {token!r}")
        return Unit(WORD, start, end, token)

    def _fact_labels(self, sentence: str, items: list[str]) -> list[Unit]:
        """Mentions of the people, genres and keywords of the items the sentence may be about,
        found by their exact labels (the linker may miss a common word such as "dreams")."""
        by_label: dict[str, set[str]] = {}
        for item_id in items:
            for fact in self.kg.facts_of(item_id):
                if node_kind(fact.object) in (PERSON, GENRE, KEYWORD) and len(fact.object_label) >= 3:
                    by_label.setdefault(fact.object_label.lower(), set()).add(fact.object)
        units: list[Unit] = []
        lowered = sentence.lower()
        for label in sorted(by_label, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w-]){re.escape(label)}(?![\w-])", lowered):
                if all(m.end() <= u.start or u.end <= m.start() for u in units):
                    nodes = sorted(by_label[label])
                    units.append(Unit(node_kind(nodes[0]), m.start(), m.end(), sentence[m.start():m.end()],
                                      nodes=tuple(nodes)))
        return units

    def _allowed_titles(self, sentence: str, allowed: set[str], recommended: list[str]) -> list[Unit]:
        """Titles of allowed items written without a year ("Heat is ..."): capitalised as in the
        catalog; a one-word title only if it is recommended."""
        units: list[Unit] = []
        for item_id in sorted(allowed, key=lambda i: -len(self.catalog[i].title) if i in self.catalog else 0):
            if item_id not in self.catalog:
                continue
            title = self.catalog[item_id].title
            if len(title) < 2 or title not in sentence or (len(title.split()) == 1 and item_id not in recommended):
                continue   # (the substring test first: a user's history can make hundreds of titles allowed)
            for m in re.finditer(rf"(?<![\w-]){re.escape(title)}(?![\w-])", sentence):
                if all(m.end() <= u.start or u.end <= m.start() for u in units):
                    units.append(Unit(TITLE, m.start(), m.end(), m.group(0), items=(item_id,)))
        return units

    # ------------------------------------------------------------------ verifying
    def _verify(self, units: list[Unit], context: _Context, verdict: SentenceVerdict) -> None:
        for index, unit in enumerate(units):
            if unit.kind == PERSON:
                verdict.claims += 1
                role, subject = _person_role(units, index, context)
                if not self._credited(unit.nodes, role, subject):
                    verdict.violations.append(
                        f"{self._label(unit)} is not credited {_role_words(role)} on {self._names(subject)}")
            elif unit.kind in (GENRE, KEYWORD):
                verdict.claims += 1
                subject = context.subject(index)
                if not all(any(self.kg.has_fact(i, rel, n) for n in unit.nodes for rel in (HAS_GENRE, HAS_KEYWORD))
                           or self._same_label(i, unit) for i in subject):
                    verdict.violations.append(f"{unit.kind} {unit.text!r} is not a fact of {self._names(subject)}")
            elif unit.kind == YEAR:
                verdict.claims += 1
                subject = context.subject(index)
                if not subject or not all(self._year(i) == unit.value for i in subject):
                    verdict.violations.append(f"year {unit.value} does not belong to {self._names(subject)}")
            elif unit.kind == DECADE:
                verdict.claims += 1
                subject = context.subject(index)
                if not subject or not all(_in_decade(self._year(i), unit.value) for i in subject):
                    verdict.violations.append(f"the {unit.text} do not fit {self._names(subject)}")
        for index, unit in enumerate(units):
            if unit.kind == CUE and not unit.bound and unit.cue is not None and not unit.cue.plain:
                self._relational(units, index, context, verdict)

    def _relational(self, units: list[Unit], index: int, context: _Context, verdict: SentenceVerdict) -> None:
        """A role phrase no person took: "the director of Heat", "who also made Heat"."""
        cue = units[index].cue
        assert cue is not None
        target = _next_title(units, index + 1, skip={"of", *words.GLUE_BEFORE_TITLE})
        role = cue.active or cue.passive or words.ANY_ROLE
        if target is None:
            verdict.violations.append(f"{units[index].text!r} credits no one the text names")
            return
        verdict.claims += 1
        person = next((u for u in reversed(units[:index]) if u.kind == PERSON), None)
        if person is not None:
            if not self._credited(person.nodes, role, list(target)):
                verdict.violations.append(
                    f"{self._label(person)} is not credited {_role_words(role)} on {self._names(list(target))}")
            return
        subject = context.subject(index)
        shared = [n for n in self._people(target[0], role)
                  if all(n in self._people(i, role) for i in [*target[1:], *subject])]
        if not subject or not shared:
            verdict.violations.append(f"{self._names(subject)} and {self._names(list(target))} share no "
                                      f"one credited {_role_words(role)}")

    def _credited(self, nodes: Iterable[str], role: words.Role, subject: list[str]) -> bool:
        nodes = list(nodes)
        return bool(subject) and any(
            all(all(any(self.kg.has_fact(i, rel, n) for rel in need) for need in role) for i in subject)
            for n in nodes)

    def _people(self, item_id: str, role: words.Role) -> set[str]:
        relations = set().union(*role)
        return {f.object for f in self.kg.facts_of(item_id, relations)}

    def _same_label(self, item_id: str, unit: Unit) -> bool:
        """A genre said with a keyword's words, or the reverse ("action", "crime")."""
        label = unit.text.lower()
        return any(f.object_label.lower() == label for f in self.kg.facts_of(item_id, (HAS_GENRE, HAS_KEYWORD)))

    def _year(self, item_id: str) -> int | None:
        return self.catalog[item_id].year if item_id in self.catalog else None

    def _label(self, unit: Unit) -> str:
        return self.kg.label(unit.nodes[0]) if unit.nodes else unit.text

    def _names(self, ids: list[str]) -> str:
        names = [self.catalog[i].display for i in ids if i in self.catalog]
        return ", ".join(dict.fromkeys(names)) if names else "no item"


# ---------------------------------------------------------------------- binding
@dataclass
class _Context:
    units: list[Unit]
    groups: list[tuple[int, int, tuple[str, ...]]]   # (first unit, last unit, items)
    carry: list[str]
    recommended: list[str]
    compared: list[str]

    def subject(self, index: int) -> list[str]:
        """The items a claim at unit ``index`` is about (with the compared titles)."""
        before = [g for g in self.groups if g[1] < index]
        after = [g for g in self.groups if g[0] > index]
        if before:
            items = list(before[-1][2])
        elif after:
            items = list(after[0][2])
        else:
            items = list(self.carry or self.recommended)
        return list(dict.fromkeys([*items, *self.compared]))


def _opens_sentence(before: list[Unit]) -> bool:
    """Whether a word comes first in its sentence or clause (may be capitalised)."""
    for unit in reversed(before):
        if unit.kind == PUNCT and unit.text in _OPENERS:
            return True
        if unit.kind != PUNCT:
            return False
    return True


def _without_possessive(sentence: str, start: int, end: int) -> int:
    """A mention's end without a trailing "'s" ("Christopher Nolan's" → "Christopher Nolan")."""
    if end - start > 2 and sentence[end - 2: end].lower() in ("'s", "’s"):
        return end - 2
    return end


def _word(unit: Unit) -> str:
    return unit.text.lower().replace("’", "'")


def _mark_comparisons(units: list[Unit]) -> None:
    """Titles the sentence's claims are said of by comparison ("like Heat", "as in Heat") or
    ellipsis ("and so is Heat", "as does Heat", "Heat too", "Heat as well")."""
    for index, unit in enumerate(units):
        if unit.kind != TITLE:
            continue
        before = [_word(u) for u in units[max(0, index - 2): index]]
        after = [_word(u) for u in units[index + 1: index + 3]]
        while after and after[0] in words.ELLIPSIS_VERBS:
            after = after[1:] + [_word(u) for u in units[index + 3: index + 4]]
        if before[-1:] == ["like"]:
            unit.compared = not (len(before) == 2 and before[0] in words.LIKE_AS_VERB_AFTER)
        elif before == ["as", "in"]:
            unit.compared = True
        elif len(before) == 2 and before[0] in ("so", "as") and before[1] in words.ELLIPSIS_VERBS:
            unit.compared = unit.elliptical = True
        elif (after[:1] == ["too"] or after[:2] == ["as", "well"]) \
                and not (before and before[-1] in words.LIKING_VERBS):
            unit.compared = unit.elliptical = True


def _title_groups(units: list[Unit]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Runs of titles joined by "and", "or", "&", "plus", "as well as" (commas and "also" within
    such a run): each run is one subject; titles separated by commas alone are separate."""
    groups: list[tuple[int, int, tuple[str, ...]]] = []
    index = 0
    while index < len(units):
        if units[index].kind != TITLE or units[index].compared:
            index += 1
            continue
        run = [index]
        joined = False
        cursor = index + 1
        while cursor < len(units):
            gap_end = cursor
            while gap_end < len(units) and units[gap_end].kind in (WORD, PUNCT, CUE) \
                    and _word(units[gap_end]) in words.TITLE_GAP:
                gap_end += 1
            if gap_end > cursor and gap_end < len(units) and units[gap_end].kind == TITLE \
                    and not units[gap_end].compared:
                joined = joined or any(_word(u) in words.TITLE_JOINERS for u in units[cursor:gap_end])
                run.append(gap_end)
                cursor = gap_end + 1
            else:
                break
        if joined:
            groups.append((run[0], run[-1], tuple(i for r in run for i in units[r].items)))
        else:
            groups.extend((r, r, units[r].items) for r in run)
        index = run[-1] + 1
    return groups


def _next_title(units: list[Unit], index: int, skip: set[str]) -> tuple[str, ...] | None:
    """The items of the title (group) starting at ``index`` after skippable words."""
    while index < len(units) and units[index].kind in (WORD, PUNCT, CUE) and _word(units[index]) in skip:
        index += 1
    if index >= len(units) or units[index].kind != TITLE:
        return None
    items = list(units[index].items)
    cursor = index + 1
    while cursor + 1 < len(units) and _word(units[cursor]) in {"and", "or", "&", ","} \
            and units[cursor + 1].kind == TITLE:
        items += units[cursor + 1].items
        cursor += 2
    return tuple(items)


def _person_role(units: list[Unit], index: int, context: _Context) -> tuple[words.Role, list[str]]:
    """The role a person is credited in and the items it is claimed for."""
    # A role phrase before them: "directed by X", "starring A, B and X".
    cursor = index - 1
    while cursor >= 0 and (units[cursor].kind == PERSON or _word(units[cursor]) in words.GLUE_BEFORE_PERSON
                           and units[cursor].kind in (WORD, PUNCT)):
        cursor -= 1
    cue = units[cursor].cue if cursor >= 0 and units[cursor].kind == CUE else None
    if cue is not None and cue.passive:
        units[cursor].bound = True
        return cue.passive, context.subject(cursor)
    # A role phrase after them: "X directed Heat", "X, who stars in Heat", "X's Heat", "a X film".
    cursor = index + 1
    if cursor < len(units) and units[cursor].kind == WORD and _word(units[cursor]) == "'s":
        target = _next_title(units, cursor + 1, skip=set())
        if target is not None:
            return words.CREATOR, list(dict.fromkeys([*target, *context.compared]))
        return words.ANY_ROLE, context.subject(index)
    while cursor < len(units) and (units[cursor].kind == PERSON or _word(units[cursor]) in words.GLUE_AFTER_PERSON
                                   and units[cursor].kind in (WORD, PUNCT)):
        cursor += 1
    cue = units[cursor].cue if cursor < len(units) and units[cursor].kind == CUE else None
    if cue is not None and cue.active:
        adjacent = cursor == index + 1
        if cue.plain and not adjacent:
            return words.ANY_ROLE, context.subject(index)
        units[cursor].bound = True
        target = _next_title(units, cursor + 1, skip=set(words.GLUE_BEFORE_TITLE))
        subject = list(dict.fromkeys([*target, *context.compared])) if target else context.subject(index)
        return cue.active, subject
    return words.ANY_ROLE, context.subject(index)


def _role_words(role: words.Role) -> str:
    names = {words.D: "as director", words.S: "as a star", words.W: "as writer", words.M: "as maker"}
    if role == words.ANY_ROLE:
        return "in any role"
    if role == words.CREATOR:
        return "as its maker"
    return " and ".join(" or ".join(sorted(names[r] for r in need)) for need in role)


def _in_decade(year: int | None, decade: int) -> bool:
    if year is None:
        return False
    return year // 10 * 10 == decade if decade >= 100 else year // 10 % 10 * 10 == decade
