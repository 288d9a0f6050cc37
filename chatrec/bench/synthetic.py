"""A deterministic synthetic catalog of any size, for the scale benchmark.

Same seed, same size → the same items, byte for byte. Items look like films of a shop-sized
catalog: a title made of words (unique: a running number is added when a pair of words repeats),
a year, one to three of the canonical movie genres (so "a 90s comedy, no horror" means something),
a director and three cast members drawn Zipf-like from a pool of people, three to five keywords,
and a Zipf-like popularity. Vectors are seeded random unit vectors: the benchmark measures storage
and search, not the embedding model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENRES = ("action", "adventure", "animation", "children", "comedy", "crime", "documentary", "drama",
          "fantasy", "film-noir", "horror", "musical", "mystery", "romance", "sci-fi", "thriller",
          "war", "western")
# Genre frequencies roughly as in MovieLens (drama and comedy common, film-noir rare).
_GENRE_WEIGHTS = np.array([8, 5, 2, 2, 12, 5, 2, 16, 3, 1, 4, 2, 3, 7, 4, 7, 2, 1], dtype=np.float64)
_ADJECTIVES = ("silent", "broken", "golden", "last", "hidden", "crimson", "frozen", "electric", "lonely",
               "wild", "secret", "burning", "distant", "midnight", "hollow", "iron", "velvet", "savage",
               "gentle", "restless", "forgotten", "bright", "dark", "endless", "fallen", "lucky", "northern",
               "quiet", "rising", "shattered", "southern", "stolen", "sudden", "twisted", "wandering", "young")
_NOUNS = ("harbor", "river", "empire", "garden", "station", "mirror", "summer", "winter", "city", "road",
          "kingdom", "island", "promise", "storm", "horizon", "circus", "mountain", "letter", "shadow",
          "engine", "ocean", "forest", "bridge", "castle", "desert", "valley", "machine", "voyage",
          "frontier", "window", "lantern", "planet", "orchard", "canyon", "festival", "compass")
_FIRST = ("Ada", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi",
          "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera",
          "Wen", "Ximena", "Yusuf", "Zora")
_LAST = ("Abbott", "Bergstrom", "Castellano", "Drummond", "Eriksen", "Fairweather", "Galloway", "Halvorsen",
         "Ibarra", "Jankowski", "Kowalczyk", "Lindqvist", "Marchetti", "Nakagawa", "Okonkwo", "Petrakis",
         "Quintero", "Rasmussen", "Szabo", "Takahashi", "Underwood", "Valdivia", "Whitlock", "Yamamoto",
         "Zielinski", "Achterberg", "Bellweather", "Cavendish", "Delacroix", "Everhart")
_KEYWORD_ROOTS = ("heist", "revenge", "road trip", "time travel", "small town", "coming of age", "betrayal",
                  "friendship", "space", "robots", "haunted house", "courtroom", "family", "war", "sports",
                  "music", "journalism", "detective", "survival", "island", "prison", "wedding", "school",
                  "ocean", "desert", "vampires", "aliens", "magic", "spies", "politics")

DIM = 384
_BLOCK = 1000       # items drawn per seeded block: any batching gives the same catalog


@dataclass(frozen=True)
class SyntheticCatalog:
    """The recipe of a synthetic catalog: ``n`` items from ``seed``."""

    n: int
    seed: int = 0
    people: int = 0          # pool size; 0: about one person per 8 items (at least 500)
    keywords: int = 2000

    @property
    def people_pool(self) -> int:
        return self.people or max(500, self.n // 8)

    def person(self, k: int) -> str:
        first, last = _FIRST[k % len(_FIRST)], _LAST[(k // len(_FIRST)) % len(_LAST)]
        block = k // (len(_FIRST) * len(_LAST))
        return f"{first} {last}" if block == 0 else f"{first} {last} {_roman(block + 1)}"

    def keyword(self, k: int) -> str:
        root = _KEYWORD_ROOTS[k % len(_KEYWORD_ROOTS)]
        block = k // len(_KEYWORD_ROOTS)
        return root if block == 0 else f"{root} {block}"

    def batches(self, size: int = 5000) -> Iterator[list[dict]]:
        """The items as catalog records (``docs/custom-catalog.md`` fields), ``size`` at a time
        (the items do not depend on ``size``: they are drawn in fixed blocks)."""
        pending: list[dict] = []
        for block in range(0, self.n, _BLOCK):
            pending.extend(self._block(block, min(_BLOCK, self.n - block)))
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    def _block(self, start: int, count: int) -> list[dict]:
        rng = np.random.default_rng([self.seed, start])
        pool = self.people_pool
        genre_p = _GENRE_WEIGHTS / _GENRE_WEIGHTS.sum()
        years = np.clip(np.round(rng.normal(1995, 18, count)), 1920, 2024).astype(int)
        n_genres = rng.choice([1, 2, 3], size=count, p=[0.45, 0.4, 0.15])
        people = np.minimum(rng.zipf(1.6, size=(count, 4)) - 1, pool - 1)
        people = (people * 7919 + rng.integers(0, pool, size=(count, 1))) % pool
        n_keywords = rng.integers(3, 6, size=count)
        keywords = (rng.zipf(1.4, size=(count, 5)) - 1) % self.keywords
        popularity = np.minimum(rng.zipf(1.8, size=count), 100_000)
        adjectives = rng.integers(0, len(_ADJECTIVES), size=count)
        nouns = rng.integers(0, len(_NOUNS), size=count)
        # Weighted sampling without replacement for all items at once (Gumbel top-k).
        genre_order = np.argsort(-(np.log(genre_p) + rng.gumbel(size=(count, len(GENRES)))), axis=1)
        records = []
        for j in range(count):
            i = start + j
            genres = genre_order[j, : n_genres[j]]
            title = f"The {_ADJECTIVES[adjectives[j]].title()} {_NOUNS[nouns[j]].title()}"
            if i >= len(_ADJECTIVES) * len(_NOUNS):
                title = f"{title} {i}"
            names = [self.person(int(k)) for k in people[j]]
            records.append({
                "id": f"s{i}",
                "title": title,
                "year": int(years[j]),
                "genres": [GENRES[g] for g in sorted(genres)],
                "directors": names[:1],
                "cast": list(dict.fromkeys(names[1:])),
                "keywords": list(dict.fromkeys(self.keyword(int(k)) for k in keywords[j][: n_keywords[j]])),
                "popularity": int(popularity[j]),
                "kind": "movie",
            })
        return records

    def vectors(self, start: int, count: int) -> np.ndarray:
        """Seeded random unit vectors for items ``start .. start+count-1`` (float32, ``DIM``-d);
        item i's vector is the same whatever range it is asked in."""
        first = start - start % _BLOCK
        blocks = []
        for block in range(first, start + count, _BLOCK):
            rng = np.random.default_rng([self.seed, block, 1])
            blocks.append(rng.standard_normal((_BLOCK, DIM), dtype=np.float32))
        matrix = np.concatenate(blocks)[start - first:start - first + count]
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix

    def write_jsonl(self, path: Path) -> Path:
        """The catalog as a JSONL file (a custom catalog chatrec can load)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for batch in self.batches():
                out.writelines(json.dumps(record, separators=(",", ":")) + "\n" for record in batch)
        return path


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out += letters
            n -= value
    return out
