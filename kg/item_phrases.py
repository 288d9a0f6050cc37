"""The item half of the linker's lexicon for a columnar catalog: memory-mapped tries, not dicts.

``Lexicon`` keeps phrase → entries for every title, alias and franchise name as Python tuples
and objects (with every prefix and every spelling without spaces): about a kilobyte per item,
a gigabyte per worker for a million items. ``ItemPhrases`` holds the same phrases in marisa
tries built once per catalog under the cache (``phrases.marisa``: phrase → (row, source);
``compact.marisa``: a phrase written without spaces → the phrase; ``tokens.marisa``: every
title word), memory-mapped and shared by the workers of a machine. ``Lexicon`` asks it the same
questions as its own dicts (``kg.lexicon.Lexicon`` for a columnar catalog).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import marisa_trie

from chatrec.catalog.columnar import ColumnarCatalog
from chatrec.catalog.columns import build_aside
from chatrec.catalog.normalize import title_key
from kg.models import item_node
from kg.synonyms import NO_FUZZY_TARGETS
from kg.text import zipf

if TYPE_CHECKING:
    from kg.lexicon import Entry, Phrase

#: Sources in the order the dict lexicon adds them (the record stores the index).
SOURCES = ("title", "alias", "franchise")
#: Bump when the files change.
ITEM_PHRASES_VERSION = 1


def item_phrases(title: str, aliases: list[str]) -> Iterator[tuple[Phrase, str]]:
    """(phrase, source) for one item, in the dict lexicon's order (see ``Lexicon._add_items``)."""
    from kg.lexicon import _FRANCHISE_BREAK, _number_variants

    for source, names in (("title", (title,)), ("alias", aliases)):
        for name in names:
            phrase = tuple(title_key(name).split())
            yield phrase, source
            for variant in _number_variants(phrase):
                yield variant, "alias"
    head = _FRANCHISE_BREAK.split(title, maxsplit=1)[0]
    if head != title:
        phrase = tuple(title_key(head).split())
        if len(phrase) >= 2 or (phrase and zipf(phrase[0]) < 4.0):
            yield phrase, "franchise"


class ItemPhrases:
    """Phrase look-ups over the titles of a columnar catalog (see the module docstring)."""

    def __init__(self, folder: Path, catalog: ColumnarCatalog):
        self.folder = folder
        self.catalog = catalog
        self._phrases = marisa_trie.RecordTrie("<iB")
        self._phrases.mmap(str(folder / "phrases.marisa"))
        self._compact = marisa_trie.BytesTrie()
        self._compact.mmap(str(folder / "compact.marisa"))
        self._tokens = marisa_trie.Trie()
        self._tokens.mmap(str(folder / "tokens.marisa"))
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.max_len: int = int(meta["max_len"])
        #: token (≥ 4 letters) → the largest popularity of an item whose phrase holds it
        self.token_weight: dict[str, float] = {k: float(v) for k, v in meta["token_weight"].items()}
        self._popularity = catalog.popularity_array()

    # ---- building
    @classmethod
    def load_or_build(cls, catalog: ColumnarCatalog, cache_dir: Path) -> ItemPhrases:
        folder = (cache_dir / "kg" / f"item-phrases-{catalog.folder.name}-v{ITEM_PHRASES_VERSION}")
        if not (folder / "meta.json").is_file():
            cls.build(catalog, folder)
        return cls(folder, catalog)

    @staticmethod
    def build(catalog: ColumnarCatalog, folder: Path) -> Path:
        """Write the tries of ``catalog`` into ``folder`` (built aside, renamed into place)."""
        max_len = 1
        weights: dict[str, int] = {}
        compact: dict[str, str] = {}
        popularity = catalog.popularity_array()

        def records() -> Iterator[tuple[str, tuple[int, int]]]:
            nonlocal max_len
            for row in range(len(catalog)):
                title, aliases = catalog.title_and_aliases(row)
                seen: set[Phrase] = set()
                for phrase, source in item_phrases(title, aliases):
                    if not phrase or phrase in seen:
                        continue
                    seen.add(phrase)
                    key = " ".join(phrase)
                    max_len = max(max_len, len(phrase))
                    if len(phrase) > 1:
                        compact.setdefault("".join(phrase), key)
                    weight = int(popularity[row])
                    for token in phrase:
                        if len(token) >= 4 and token.isalpha() and token not in NO_FUZZY_TARGETS \
                                and weights.get(token, -1) < weight:
                            weights[token] = weight
                    yield key, (row, SOURCES.index(source))

        def write(staging: Path) -> None:
            phrases = marisa_trie.RecordTrie("<iB", records())
            phrases.save(str(staging / "phrases.marisa"))
            marisa_trie.Trie({token for key in phrases.keys() for token in key.split()}).save(
                str(staging / "tokens.marisa"))
            marisa_trie.BytesTrie((k, v.encode()) for k, v in compact.items()).save(str(staging / "compact.marisa"))
            (staging / "meta.json").write_text(json.dumps({"max_len": max_len, "token_weight": weights}),
                                               encoding="utf-8")

        return build_aside(folder, write)

    # ---- look-ups
    def entries(self, phrase: Phrase) -> list[Entry]:
        """The items a phrase names (catalog order), as lexicon entries weighted by popularity."""
        from kg.lexicon import Entry

        found = self._phrases.get(" ".join(phrase))
        if not found:
            return []
        ids = self.catalog.ids
        return [Entry(item_node(ids[row]), "item", SOURCES[source], float(self._popularity[row]))
                for row, source in sorted(found)]

    def has_prefix(self, phrase: Phrase) -> bool:
        """Whether some item phrase starts with these words."""
        key = " ".join(phrase)
        return key in self._phrases or self._phrases.has_keys_with_prefix(key + " ")

    def compact(self, text: str) -> Phrase | None:
        found = self._compact.get(text)
        return tuple(found[0].decode().split()) if found else None

    def has_token(self, token: str) -> bool:
        return token in self._tokens


class PrefixView:
    """``phrase in lexicon.prefixes`` over the entity prefixes and the item tries."""

    def __init__(self, own: frozenset, items: ItemPhrases):
        self._own, self._items = own, items

    def __contains__(self, phrase: object) -> bool:
        return phrase in self._own or (isinstance(phrase, tuple) and self._items.has_prefix(phrase))


class CompactView:
    """``lexicon.compact``: "spiderman" → ("spider", "man"), items first (as the dict lexicon)."""

    def __init__(self, own: dict, items: ItemPhrases):
        self._own, self._items = own, items

    def get(self, text: str, default: Phrase | None = None) -> Phrase | None:
        found = self._items.compact(text)
        if found is None:
            found = self._own.get(text)
        return default if found is None else found

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.get(text) is not None

    def __getitem__(self, text: str) -> Phrase:
        found = self.get(text)
        if found is None:
            raise KeyError(text)
        return found


class VocabView:
    """``token in lexicon.vocab`` over the entity phrases' words and every title word."""

    def __init__(self, own: frozenset, items: ItemPhrases):
        self._own, self._items = own, items

    def __contains__(self, token: object) -> bool:
        return token in self._own or (isinstance(token, str) and self._items.has_token(token))


__all__ = ["CompactView", "ItemPhrases", "PrefixView", "VocabView", "item_phrases"]
