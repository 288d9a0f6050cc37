"""A scripted simulated user who wants one hidden target movie (DESIGN.md, protocol 1).

The user knows the target's KG facts and never says its title. They open vaguely with one or two
attributes, answer questions truthfully, reveal at most one new attribute per turn (genres, the
decade, keywords, and at most one person in the whole dialogue), reject a wrong list with a reason
drawn from an attribute where the shown movies differ from the target ("those are all too old",
"no thrillers please"), and accept as soon as the target is shown.

Every utterance carries its *meaning* (what was revealed or excluded, in catalog terms) and the id
of its template, so the harness can check whether the agent understood it, and can count the
catalog items consistent with everything said so far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from chatrec.catalog.genres import GENRES, canonical_genre
from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.normalize import label_key
from chatrec.evaluation import phrases as P
from kg.models import KEYWORD, keyword_node, person_node
from kg.synonyms import GENRE_SYNONYMS

MAX_GENRES = 2
MAX_KEYWORDS = 2


@dataclass(frozen=True)
class Attribute:
    """One fact about the target the user may say: kind is genre, decade, keyword, director or
    cast; value is the canonical genre, the decade ("1990"), the keyword or the person's name."""

    kind: str
    value: str

    @property
    def is_person(self) -> bool:
        return self.kind in ("director", "cast")


@dataclass
class Meaning:
    """What an utterance tells the recommender, in catalog terms.

    Attributes:
        reveals: attributes of the target stated (positively).
        excludes_genres: genres the target lacks, said as "no thrillers".
        newer_than / older_than: the target is newer than every shown movie (year) / older.
        rejects: the user turned the shown movies down ("Nah.").
        accepted: the user found the target.
    """

    reveals: list[Attribute] = field(default_factory=list)
    excludes_genres: list[str] = field(default_factory=list)
    newer_than: int | None = None
    older_than: int | None = None
    rejects: bool = False
    accepted: bool = False


@dataclass
class Utterance:
    text: str
    meaning: Meaning
    templates: list[str]


@dataclass
class SystemTurn:
    """What a recommender (the agent or a baseline) answered: shown items and/or a question."""

    items: list[str] = field(default_factory=list)
    question: str | None = None  # the question's slot ("preference", "genre", "decade", ...)
    text: str = ""


def target_attributes(
    item: Item, kg, rng: random.Random, max_keywords: int = MAX_KEYWORDS
) -> list[Attribute]:
    """What the user could say about ``item``, in the order they would say it: genres (at most
    two), the decade, keywords (at most two, not genre words) and one person, shuffled a little
    so that users differ."""
    genres = [g for g in item.genres if g in P.GENRE_NOUN][: MAX_GENRES + 1]
    rng.shuffle(genres)
    genre_attrs = [Attribute("genre", g) for g in genres[:MAX_GENRES]]
    decade = [Attribute("decade", str(item.decade))] if item.decade else []
    keywords = []
    for keyword in item.keywords:
        if (
            canonical_genre(keyword) in GENRES
            or label_key(keyword) in GENRE_SYNONYMS
            or not P.speakable_keyword(keyword)
        ):
            continue
        if kg is not None and keyword_node(keyword) not in kg:
            continue
        keywords.append(Attribute("keyword", keyword))
    rng.shuffle(keywords)
    keywords = keywords[:max_keywords]
    people = [Attribute("director", d) for d in item.directors[:1]] + [
        Attribute("cast", c) for c in item.cast[:2]
    ]
    # A user names someone they know: a person with other films in the catalog.
    if kg is not None:
        people = [p for p in people if kg.degree(person_node(p.value)) >= 3]
    person = [rng.choice(people)] if people else []

    # Openings use the broad attributes; the rest follow in a seeded order, the person late.
    broad = genre_attrs[:1] + decade
    rng.shuffle(broad)
    rest = [a for a in genre_attrs + decade + keywords if a not in broad[:1]]
    rng.shuffle(rest)
    return broad[:1] + rest + person


def consistent(item: Item, kg, meaning_so_far: Meaning) -> bool:
    """Does ``item`` agree with everything the user said?"""
    for attribute in meaning_so_far.reveals:
        if not has_attribute(item, attribute, kg):
            return False
    genres = set(item.genres)
    if any(g in genres for g in meaning_so_far.excludes_genres):
        return False
    if meaning_so_far.newer_than is not None and (
        item.year is None or item.year <= meaning_so_far.newer_than
    ):
        return False
    if meaning_so_far.older_than is not None and (
        item.year is None or item.year >= meaning_so_far.older_than
    ):
        return False
    return True


def has_attribute(item: Item, attribute: Attribute, kg=None) -> bool:
    if attribute.kind == "genre":
        return attribute.value in item.genres
    if attribute.kind == "decade":
        return item.decade is not None and str(item.decade) == attribute.value
    if attribute.kind == "keyword":
        if kg is not None:
            return item.id in kg.items_with(keyword_node(attribute.value))
        return label_key(attribute.value) in {label_key(k) for k in item.keywords}
    key = label_key(attribute.value)
    return key in {label_key(n) for _, n in item.people}


class SimulatedUser:
    """One simulated user chasing one target.

    Args:
        target: the hidden movie.
        catalog: the catalog (to read shown movies' facts).
        kg: the knowledge graph (keywords, person degrees).
        seed: any string; the same seed gives the same dialogue for the same system answers.
        max_keywords: keywords the user may reveal (0: only genres, decade and a person, a
            harder setting since tag-genome keywords single out few films).
        phrases: the templates this user speaks with (one half of the bank, or all of it).
    """

    def __init__(
        self,
        target: Item,
        catalog: Catalog,
        kg,
        seed: str,
        max_keywords: int = MAX_KEYWORDS,
        phrases: P.Phrases | None = None,
    ):
        self.target = target
        self.phrases = phrases or P.Phrases()
        self.catalog = catalog
        self.kg = kg
        self.seed = seed
        self.plan = target_attributes(target, kg, random.Random(f"{seed}:plan"), max_keywords)
        self.told = Meaning()
        self.turn = 0
        self.person_said = False

    # ------------------------------------------------------------------ helpers
    def _rng(self, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.turn}:{purpose}")

    def _next_unsaid(self, kinds: tuple[str, ...] | None = None) -> Attribute | None:
        for attribute in self.plan:
            if attribute in self.told.reveals:
                continue
            if attribute.is_person and self.person_said:
                continue
            if kinds is None or attribute.kind in kinds:
                return attribute
        return None

    def _say(self, attribute: Attribute, rng: random.Random) -> tuple[str, str]:
        kind = attribute.kind
        if kind == "genre":
            avoid = None if attribute.value in P.GENRE_WORD else "{word}"
            template = self.phrases.pick(rng, "genre", avoid)
            text = template.format(**P.genre_slots(attribute.value))
        elif kind == "decade":
            template = self.phrases.pick(rng, "decade")
            text = template.format(**P.decade_forms(int(attribute.value)))
        elif kind == "keyword":
            template = self.phrases.pick(rng, "keyword")
            kw = attribute.value
            text = template.format(kw=kw, Kw=kw[:1].upper() + kw[1:])
        else:
            template = self.phrases.pick(rng, kind)
            text = template.format(name=attribute.value)
        return _sentence(text), template.id

    def _reveal(self, attribute: Attribute, meaning: Meaning) -> None:
        meaning.reveals.append(attribute)
        if attribute not in self.told.reveals:
            self.told.reveals.append(attribute)
        if attribute.is_person:
            self.person_said = True

    # ------------------------------------------------------------------ dialogue
    def opening(self) -> Utterance:
        """A vague first request from one or two attributes (seeded: half the users use two)."""
        rng = self._rng("open")
        meaning = Meaning()
        first = self._next_unsaid(("genre", "decade", "keyword"))
        parts, templates = [], []
        count = 2 if rng.random() < 0.5 else 1
        for attribute in [first] if first else []:
            text, tid = self._say(attribute, rng)
            parts.append(text)
            templates.append(tid)
            self._reveal(attribute, meaning)
        if count == 2:
            second = self._next_unsaid(("genre", "decade", "keyword"))
            if second is not None:
                text, tid = self._say(second, rng)
                parts.append(text)
                templates.append(tid)
                self._reveal(second, meaning)
        prefix = self.phrases.pick(rng, "open").text
        text = prefix + " ".join(parts) if parts else prefix + "Can you recommend a movie?"
        self.turn += 1
        return Utterance(text.strip(), meaning, templates)

    def reply(self, system: SystemTurn) -> Utterance:
        """The user's answer to one system turn."""
        rng = self._rng("reply")
        meaning = Meaning()
        parts: list[str] = []
        templates: list[str] = []
        if self.target.id in system.items:
            template = self.phrases.pick(rng, "accept")
            meaning.accepted = True
            self.turn += 1
            return Utterance(template.format(title=self.target.title), meaning, [template.id])
        wanted = None
        if system.items:
            text, tid = self._reject(system.items, rng, meaning)
            parts.append(text)
            templates.append(tid)
        elif system.question:
            wanted = _slot_kinds(system.question)
        attribute = self._next_unsaid(wanted) or (self._next_unsaid() if wanted else None)
        if attribute is not None:
            text, tid = self._say(attribute, rng)
            parts.append(text)
            templates.append(tid)
            self._reveal(attribute, meaning)
        elif not parts:
            template = self.phrases.pick(rng, "nothing")
            parts.append(_sentence(template.text))
            templates.append(template.id)
        self.turn += 1
        return Utterance(" ".join(parts), meaning, templates)

    def _reject(self, shown: list[str], rng: random.Random, meaning: Meaning) -> tuple[str, str]:
        """A turn-down ("Nah.") plus a reason true of the target and of every shown movie when there is one."""
        items = [self.catalog[i] for i in shown if i in self.catalog]
        reasons: list[tuple[str, str]] = []
        target = self.target
        years = [it.year for it in items if it.year]
        decade = target.decade
        if target.year and decade is not None and years and len(years) == len(items):
            if all(it.decade is not None and it.decade < decade for it in items):
                reasons.append(("newer", ""))
            elif all(it.decade is not None and it.decade > decade for it in items):
                reasons.append(("older", ""))
        # Genres most of the shown movies have and the target lacks: "no thrillers please".
        extra: dict[str, int] = {}
        for it in items:
            for genre in it.genres:
                if (
                    genre not in target.genres
                    and genre in P.GENRE_NOUN
                    and genre not in self.told.excludes_genres
                ):
                    extra[genre] = extra.get(genre, 0) + 1
        for genre, count in sorted(extra.items(), key=lambda kv: (-kv[1], kv[0])):
            if count * 2 >= len(items):
                reasons.append(("not_genre", genre))
        # A genre of the target already said that the shown movies lack: insist.
        said = [a.value for a in self.told.reveals if a.kind == "genre"]
        for genre in said:
            if all(genre not in it.genres for it in items):
                reasons.append(("want_genre", genre))
        opener = self.phrases.pick(rng, "reject")
        meaning.rejects = True
        if not reasons:
            return _sentence(opener.text), opener.id
        kind, value = reasons[rng.randrange(len(reasons))]
        needs_word = kind == "not_genre" and value not in P.GENRE_WORD
        template = self.phrases.pick(rng, kind, "{word}" if needs_word else None)
        if kind == "newer":
            meaning.newer_than = max(years)
            self.told.newer_than = max(self.told.newer_than or 0, max(years))
        elif kind == "older":
            meaning.older_than = min(years)
            self.told.older_than = min(self.told.older_than or 10_000, min(years))
        elif kind == "not_genre":
            meaning.excludes_genres.append(value)
            self.told.excludes_genres.append(value)
        text = template.format(**P.genre_slots(value)) if value else template.text
        return f"{_sentence(opener.text)} {_sentence(text)}", template.id


def _sentence(text: str) -> str:
    """A template's words with a full stop when none ends them: seekers write "no not really",
    and joined to the next sentence it must still read as two (their casing is kept)."""
    text = text.strip()
    return text + "." if text and text[-1] not in ".!?" else text


def _slot_kinds(slot: str) -> tuple[str, ...] | None:
    """Which attribute kinds answer a question slot (None: any)."""
    slot = slot.lower()
    if "genre" in slot:
        return ("genre",)
    if any(w in slot for w in ("decade", "year", "era", "period", "old", "new")):
        return ("decade",)
    if any(w in slot for w in ("actor", "cast", "star")):
        return ("cast",)
    if "director" in slot:
        return ("director",)
    if any(w in slot for w in ("person", "people")):
        return ("director", "cast")
    if any(w in slot for w in ("keyword", "mood", "theme", "topic", "plot", "about")):
        return (KEYWORD,)
    return None
