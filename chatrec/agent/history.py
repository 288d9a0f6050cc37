"""What a catalog's interaction log says about a user: seeds for retrieval, the items they
interacted with (never recommended again) and favourites (anchors for explanations)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatrec.agent.config import HistoryPolicy
from chatrec.agent.lru import LRU
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
        self._cache: LRU[str, History] = LRU(self.policy.cache)

    def log_user(self, user_id: str | None) -> str | None:
        """The interaction-log id behind a user id: "ml:42" → "42" when the catalog knows user 42."""
        if not user_id or self.catalog.interactions is None:
            return None
        if user_id.startswith("ml:"):
            raw = user_id[3:]
            return raw if self.catalog.interactions.has_user(raw) else None
        return None

    def of(self, log_user: str | None) -> History:
        """The history of a log user (``log_user``'s result); empty for None."""
        if log_user is None or self.catalog.interactions is None:
            return NO_HISTORY
        cached = self._cache.get(log_user)
        if cached is None:
            cached = self._read(log_user)
            self._cache.put(log_user, cached)
        return cached

    def _read(self, log_user: str) -> History:
        assert self.catalog.interactions is not None
        p = self.policy
        history = self.catalog.interactions.history(log_user)
        good = history[history["rating"] >= p.liked_rating].tail(p.seeds)
        seeds = {str(i): p.seed_base + p.seed_per_point * (float(r) - p.liked_rating)
                 for i, r in zip(good["item_id"], good["rating"], strict=True)}
        top = history[history["rating"] >= p.favourite_rating].tail(p.favourites)["item_id"].tolist()
        return History(seeds=seeds, rated=frozenset(history["item_id"]),
                       favourites=[i for i in reversed(top) if i in self.catalog])
