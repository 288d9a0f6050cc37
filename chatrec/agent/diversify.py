"""Choosing the few items a reply shows from the ranked candidates, with light diversity."""

from __future__ import annotations

import re

from chatrec.agent.config import DiversityPolicy
from chatrec.agent.retrieve import Candidate
from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.normalize import title_key


def franchise(title: str) -> str:
    """The franchise a title belongs to, crudely: its words before a colon, number or "Part"."""
    head = re.split(r"[:(]| \d| II| III| Part ", title, maxsplit=1)[0]
    return head.strip().lower()


class Diversifier:
    """Picks ``k`` of the ranked candidates: a second film by the same director or from the
    same franchise has to beat the others by a margin to be shown, and a film the catalog holds
    twice (ReDial has several ids for some IMDb entries) is shown once, its best-ranked copy.

    Args:
        catalog: the items.
        policy: the penalties and how far down the ranking to look.
    """

    def __init__(self, catalog: Catalog, policy: DiversityPolicy | None = None):
        self.catalog = catalog
        self.policy = policy or DiversityPolicy()

    def __call__(self, candidates: list[Candidate], k: int) -> list[Candidate]:
        pool, seen_films = [], set()
        for cand in candidates:
            item = self.catalog[cand.item_id]
            key = (title_key(item.title), item.year)
            if key not in seen_films:
                seen_films.add(key)
                pool.append(cand)
        chosen: list[Candidate] = []
        directors: dict[str, int] = {}
        franchises: dict[str, int] = {}
        while pool and len(chosen) < k:
            best = max(pool[: self.policy.window * k],
                       key=lambda c: self._penalised(c, self.catalog[c.item_id], directors, franchises))
            pool.remove(best)
            chosen.append(best)
            item = self.catalog[best.item_id]
            for d in item.directors[:1]:
                directors[d] = directors.get(d, 0) + 1
            franchises[franchise(item.title)] = franchises.get(franchise(item.title), 0) + 1
        return chosen

    def _penalised(self, cand: Candidate, item: Item, directors: dict[str, int], franchises: dict[str, int]) -> float:
        penalty = 1.0
        for d in item.directors[:1]:
            penalty *= self.policy.director_penalty ** directors.get(d, 0)
        penalty *= self.policy.franchise_penalty ** franchises.get(franchise(item.title), 0)
        return cand.score * penalty if cand.score > 0 else cand.score / penalty
