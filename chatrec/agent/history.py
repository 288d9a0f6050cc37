"""What a catalog's interaction log says about a user: seeds for retrieval, the items they
interacted with (never recommended again) and favourites (anchors for explanations)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatrec.agent.config import HistoryPolicy
from chatrec.agent.lru import LRU
from chatrec.catalog import users
from chatrec.catalog.models import Catalog


@dataclass(frozen=True)
class History:
    """Attributes:
        seeds: liked item → seed weight (most recent liked interactions).
        rated: every item in the user's log.
        favourites: best-liked items, most recent first.
    """

    seeds: dict[str, float] = field(default_factory=dict)
    rated: frozenset[str] = frozenset()
    favourites: list[str] = field(default_factory=list)


NO_HISTORY = History()


class UserHistory:
    """Users of the catalog's interaction log, and their histories (cached: the log does not
    change while the agent runs).

    Args:
        catalog: the catalog (its ``interactions``, when it has any).
        policy: what counts as liked, and how much it seeds.
    """

    def __init__(self, catalog: Catalog, policy: HistoryPolicy | None = None):
        self.catalog = catalog
        self.policy = policy or HistoryPolicy()
        self.scale = users.rating_scale(catalog.interactions) if catalog.interactions is not None else None
        self._cache: LRU[str, History] = LRU(self.policy.cache)

    def log_user(self, user_id: str | None) -> str | None:
        """The interaction-log id behind a user id: "<catalog>:42" (MovieLens also "ml:42") → "42"
        when the catalog's log knows user 42."""
        return users.log_user(self.catalog, user_id)

    def of(self, raw_user: str | None) -> History:
        """The history of a log user (``log_user``'s result); empty for None."""
        if raw_user is None or self.catalog.interactions is None:
            return NO_HISTORY
        cached = self._cache.get(raw_user)
        if cached is None:
            cached = self._read(raw_user)
            self._cache.put(raw_user, cached)
        return cached

    def _read(self, raw_user: str) -> History:
        assert self.catalog.interactions is not None
        p = self.policy
        history = self.catalog.interactions.history(raw_user)
        good = users.liked(history, self.scale)
        recent = good.tail(p.seeds)
        seeds = {str(i): p.seed_base + p.seed_per_point * float(s)
                 for i, s in zip(recent["item_id"].tolist(), recent["strength"].tolist(), strict=True)}
        # Favourites: liked well above the user's mean, or rated as high as they ever rate.
        best = good if self.scale is None else \
            good[(good["strength"] >= p.favourite_margin) | (good["rating"] >= good["rating"].max())]
        top = best.tail(p.favourites)["item_id"].tolist()
        return History(seeds=seeds, rated=frozenset(history["item_id"]),
                       favourites=[i for i in reversed(top) if i in self.catalog])
