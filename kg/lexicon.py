"""The linker's phrase index: every way the catalog's items and the graph's entities can be
written, as normalised token tuples, with a prior weight each.

Built once per catalog (about a second for MovieLens). Looking up a phrase is one dict access, so
the linker can try every n-gram of a message; the fuzzy matcher works on single tokens of the
vocabulary, bucketed by length, never on the whole catalog.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rapidfuzz import process
from rapidfuzz.distance import OSA

from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import title_key
from kg.cache import code_hash, read_pickle, safe_name, settle, write_pickle
from kg.graph import KnowledgeGraph
from kg.models import (
    GENRE,
    ITEM,
    KEYWORD,
    PERSON,
    WRITTEN_BY,
    genre_node,
    item_node,
    node_value,
)
from kg.synonyms import FILM_WORDS, GENRE_SYNONYMS, NO_FUZZY_TARGETS
from kg.text import phrase_of, zipf

if TYPE_CHECKING:
    from chatrec.config import Settings
    from kg.columnar import ColumnarGraph
    from kg.item_phrases import CompactView, ItemPhrases

logger = logging.getLogger(__name__)

Phrase = tuple[str, ...]

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8"}
# Where a long title has a short name people use: "Star Wars: Episode IV" → "Star Wars",
# "Harry Potter and the Goblet of Fire" → "Harry Potter".
_FRANCHISE_BREAK = re.compile(r"\s*(?::|\s[-–—]\s|\sand the\s|\s(?:part|chapter|episode)\s)",
                              re.IGNORECASE)
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
# People are known for what they direct, star in or make; a writing credit counts half.
_FAME = {WRITTEN_BY: 0.5}

# Entry sources, strongest first. The linker scores by source.
TITLE, ALIAS, FRANCHISE = "title", "alias", "franchise"
FULL_NAME, SHORT_NAME, SURNAME = "name", "short_name", "surname"
GENRE_LABEL, GENRE_SYNONYM, KEYWORD_LABEL = "genre", "synonym", "keyword"


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing a phrase can mean.

    Attributes:
        node: KG node id ("item:79132", "person:christopher nolan", "genre:comedy").
        kind: item, person, genre or keyword.
        source: how the phrase names it (title, alias, franchise, name, surname, genre, ...).
        weight: prior for ranking alternatives (item popularity, a person's total popularity,
            an entity's degree).
    """

    node: str
    kind: str
    source: str
    weight: float


class Lexicon:
    """Phrase → entries, plus the vocabulary for typo correction.

    Args:
        kg: the knowledge graph (entity nodes, degrees, labels).
        catalog: the items (titles, aliases, popularity).
        surname_dominance: a surname alone names a person only when that person holds at least
            this share of the weight of everyone with the surname ("Nolan", "Spielberg").
        surname_min_items: ... and has at least this many items (no "Disney" for Tim Disney) in
            a catalog of a thousand items or more; in a smaller one, one item is enough.
    """

    def __init__(self, kg: KnowledgeGraph | ColumnarGraph, catalog: Catalog, surname_dominance: float = 0.6,
                 surname_min_items: int = 3, items: ItemPhrases | None = None):
        # ``items``: the titles of a columnar catalog as memory-mapped tries, asked alongside the
        # dicts below (which then hold only people, genres and keywords).
        self.items = items
        self.phrases: dict[Phrase, list[Entry]] = defaultdict(list)
        self._seen: set[tuple[Phrase, str]] = set()
        # first name → (rest of the name, person node): "brad pit" is corrected among Brads only
        self.first_names: dict[str, list[tuple[Phrase, str]]] = defaultdict(list)
        if items is None:
            self._add_items(catalog)
        self._add_people(kg, surname_dominance, surname_min_items if kg.n_items >= 1000 else 1)
        genre_phrases = self._add_genres(kg)
        self._add_keywords(kg, genre_phrases)
        self.phrases = dict(self.phrases)
        self.first_names = dict(self.first_names)
        for entries in self.phrases.values():
            entries.sort(key=lambda e: -e.weight)
        self.max_len = max((len(p) for p in self.phrases), default=1)
        # every proper prefix of a phrase: the n-gram scan stops as soon as none can follow
        self.prefixes: Container[Phrase] = frozenset(
            phrase[:k] for phrase in self.phrases for k in range(1, len(phrase) + 1))
        # "spiderman" ↔ "spider man", "walle" ↔ "wall e": a phrase written without its spaces.
        self.compact: dict[str, Phrase] | CompactView = {}
        for phrase in self.phrases:
            if len(phrase) > 1:
                self.compact.setdefault("".join(phrase), phrase)
        self._build_fuzzy_vocab()
        if items is not None:
            from kg.item_phrases import CompactView, PrefixView, VocabView

            self.max_len = max(self.max_len, items.max_len)
            self.prefixes = PrefixView(cast(frozenset, self.prefixes), items)
            self.compact = CompactView(cast(dict, self.compact), items)
            self.vocab = VocabView(cast(frozenset, self.vocab), items)

    # ---------------------------------------------------------------- building
    def _add(self, phrase: Phrase, entry: Entry) -> None:
        if not phrase or (phrase, entry.node) in self._seen:
            return
        self._seen.add((phrase, entry.node))
        self.phrases[phrase].append(entry)

    def _add_items(self, catalog: Catalog) -> None:
        for item in catalog:
            node = item_node(item.id)
            weight = float(item.popularity)
            for source, names in ((TITLE, (item.title,)), (ALIAS, item.aliases)):
                for name in names:
                    phrase = tuple(title_key(name).split())
                    self._add(phrase, Entry(node, ITEM, source, weight))
                    for variant in _number_variants(phrase):
                        self._add(variant, Entry(node, ITEM, ALIAS, weight))
            head = _FRANCHISE_BREAK.split(item.title, maxsplit=1)[0]
            if head != item.title:
                phrase = tuple(title_key(head).split())
                if len(phrase) >= 2 or (phrase and zipf(phrase[0]) < 4.0):
                    self._add(phrase, Entry(node, ITEM, FRANCHISE, weight))

    def _add_people(self, kg: KnowledgeGraph | ColumnarGraph, dominance: float, min_items: int) -> None:
        by_surname: dict[str, list[tuple[str, float]]] = defaultdict(list)
        full_names: set[Phrase] = set()
        for node in kg.nodes(PERSON):
            weight = kg.weight(node, _FAME)
            phrase = tuple(node_value(node).split())  # node values are already label keys
            if not phrase:
                continue
            full_names.add(phrase)
            self._add(phrase, Entry(node, PERSON, FULL_NAME, weight))
            if len(phrase) >= 2:
                self.first_names[phrase[0]].append((phrase[1:], node))
            core = [tok for tok in phrase if tok not in _NAME_SUFFIXES] or list(phrase)
            if len(core) >= 3:  # "Samuel L. Jackson" → "Samuel Jackson"
                self._add((core[0], core[-1]), Entry(node, PERSON, SHORT_NAME, weight))
            if len(core) >= 2 and len(core[-1]) >= 3 and not core[-1].isdigit():
                by_surname[core[-1]].append((node, weight))
        for surname, people in by_surname.items():
            if (surname,) in full_names:  # a one-word name ("Madonna") owns the word
                continue
            total = sum(w for _, w in people)
            node, weight = max(people, key=lambda p: p[1])
            if total > 0 and weight / total >= dominance and kg.degree(node) >= min_items:
                self._add((surname,), Entry(node, PERSON, SURNAME, weight))

    def _add_genres(self, kg: KnowledgeGraph | ColumnarGraph) -> set[Phrase]:
        nodes = set(kg.nodes(GENRE))
        phrases: set[Phrase] = set()
        for node in nodes:
            phrase = phrase_of(node_value(node))
            for variant in (phrase, *_plural_variants(phrase)):
                self._add(variant, Entry(node, GENRE, GENRE_LABEL, kg.degree(node)))
                phrases.add(variant)
        for surface, targets in GENRE_SYNONYMS.items():
            phrase = phrase_of(surface)
            for spellings in targets:
                target = next((genre_node(s) for s in spellings if genre_node(s) in nodes), None)
                if target is not None:
                    self._add(phrase, Entry(target, GENRE, GENRE_SYNONYM, kg.degree(target)))
                    phrases.add(phrase)
        return phrases

    def _add_keywords(self, kg: KnowledgeGraph | ColumnarGraph, genre_phrases: set[Phrase]) -> None:
        for node in kg.nodes(KEYWORD):
            phrase = phrase_of(node_value(node))
            if len(phrase) > 1 and phrase[-1] in FILM_WORDS and phrase[:-1] in genre_phrases:
                continue  # "war movie" the keyword is the genre "war" + "movie"
            for variant in (phrase, *_plural_variants(phrase)):
                if variant not in genre_phrases:  # "comedy" the keyword is the genre
                    self._add(variant, Entry(node, KEYWORD, KEYWORD_LABEL, kg.degree(node)))

    def _build_fuzzy_vocab(self) -> None:
        """Vocabulary tokens (≥ 4 letters) by length, for typo correction of unknown words."""
        weight: dict[str, float] = defaultdict(float)
        for phrase, entries in self.phrases.items():
            top = entries[0].weight
            for tok in phrase:
                if len(tok) >= 4 and tok.isalpha() and tok not in NO_FUZZY_TARGETS:
                    weight[tok] = max(weight[tok], top)
        if self.items is not None:
            for tok, top in self.items.token_weight.items():
                weight[tok] = max(weight[tok], top)
        self.vocab: Container[str] = frozenset(tok for phrase in self.phrases for tok in phrase)
        self._token_weight = dict(weight)
        # by (first letter, length): typos rarely hit the first letter, and a bucket of a few
        # hundred words keeps a correction well under a millisecond
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for tok in weight:
            self._buckets[(tok[0], len(tok))].append(tok)
        self._corrections: dict[str, list[tuple[str, float]]] = {}

    # ---------------------------------------------------------------- queries
    def get(self, phrase: Phrase) -> list[Entry]:
        own = self.phrases.get(phrase, [])
        if self.items is None:
            return own
        found = self.items.entries(phrase)
        if not found:
            return own
        # items first, then the rest, most weighty first (stable): the dict lexicon's order
        return sorted(found + own, key=lambda e: -e.weight)

    def corrections(self, token: str, limit: int = 3) -> list[tuple[str, float]]:
        """Vocabulary words an unknown token may be a typo of, closest (then most popular)
        first, each with a similarity in (0, 1]. One edit for words up to 7 letters, two beyond.
        "letal" → lethal, metal: the caller keeps the one that completes a known phrase."""
        cached = self._corrections.get(token)
        if cached is not None:
            return cached[:limit]
        max_edits = 1 if len(token) <= 7 else 2
        found: list[tuple[int, float, str]] = []
        for length in range(len(token) - max_edits, len(token) + max_edits + 1):
            choices = self._buckets.get((token[0], length))
            if not choices:
                continue
            for match, distance, _ in process.extract(token, choices, scorer=OSA.distance,
                                                      score_cutoff=max_edits, limit=limit):
                found.append((int(distance), -self._token_weight[match], match))
        found.sort()
        result = [(match, 1.0 - distance / max(len(token), len(match)))
                  for distance, _, match in found[:max(limit, 3)]]
        if len(self._corrections) > 50_000:  # bounded: a long-running server sees many typos
            self._corrections.clear()
        self._corrections[token] = result
        return result[:limit]

    def __len__(self) -> int:
        return len(self.phrases)

    # ---------------------------------------------------------------- caching
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_seen", None)  # build-time only
        state["_corrections"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @classmethod
    def load_or_build(cls, kg: KnowledgeGraph | ColumnarGraph, catalog: Catalog,
                      settings: Settings | None = None) -> Lexicon:
        """The lexicon of ``catalog`` from the cache (~0.2 s), else built (~1 s) and cached."""
        if settings is None:
            from chatrec.config import get_settings

            settings = get_settings()
        code = code_hash("lexicon.py", "synonyms.py", "text.py", "models.py")
        path = (settings.cache_dir / "kg"
                / f"lexicon-{safe_name(catalog.name)}-{kg.fingerprint}-{code}.pickle")
        from chatrec.catalog.columnar import ColumnarCatalog

        if isinstance(catalog, ColumnarCatalog):
            # The titles live in tries under the cache; the people, genres and keywords left
            # are built in seconds from the columnar graph.
            from kg.item_phrases import ItemPhrases

            return cls(kg, catalog, items=ItemPhrases.load_or_build(catalog, settings.cache_dir))
        cached = read_pickle(path)
        if isinstance(cached, cls):
            return cached
        lexicon = cls(kg, catalog)
        try:
            write_pickle(path, lexicon)
        except OSError as exc:  # a read-only home still links, only slower to start
            logger.warning("cannot cache the lexicon at %s: %s", path, exc)
        settle()
        return lexicon


def _number_variants(phrase: Phrase) -> list[Phrase]:
    """"hangover part ii" → "hangover part 2", "hangover 2", "hangover ii"."""
    variants: list[Phrase] = []
    if any(tok in _ROMAN for tok in phrase[1:]):
        variants.append(tuple(_ROMAN.get(tok, tok) if i else tok for i, tok in enumerate(phrase)))
    for base in [phrase, *variants]:
        if "part" in base[1:-1] or (len(base) > 2 and base[-2] == "part"):
            variants.append(tuple(tok for i, tok in enumerate(base) if not (tok == "part" and i)))
    return [v for v in variants if v != phrase]


# Words ending in "s" that are not plurals: "news" must not link "new" ("any new movies?").
_NOT_PLURALS = frozenset({"news", "series", "species", "physics", "politics", "mathematics"})


def _plural_variants(phrase: Phrase) -> list[Phrase]:
    """"zombie" ↔ "zombies", "comedy" → "comedies" (last word only)."""
    last = phrase[-1]
    if len(last) < 4 or not last.isalpha() or last in _NOT_PLURALS:
        return []
    if last.endswith("ies"):
        other = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        other = last[:-1]
    elif last.endswith("y"):
        other = last[:-1] + "ies"
    else:
        other = last + "s"
    return [(*phrase[:-1], other)]
