"""``AgentConfig``: every policy number of the agent, in one pydantic model.

The numbers that decide what a user is shown — how much each kind of liked item seeds retrieval,
how wide the candidate pool is, how hard a second film by the same director is pushed down — are
fields here, not literals in the steps. The config is written into every reply's trace and into
every evaluation's ``results.json``, as a LensKit component carries its configuration, so a
figure always says which policy produced it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from chatrec.agent.retrieve import FusionWeights


class SeedWeights(BaseModel):
    """How strongly each liked item seeds retrieval (weights in [0, 1], the strongest wins)."""

    recent_like: float = 1.0         # the session's newest likes ...
    recent_likes: int = 3            # ... this many of them
    older_like: float = 0.7          # the session's earlier likes
    profile_like: float = 0.5        # likes remembered from earlier sessions
    profile_likes: int = 20          # how many of them (newest)
    observed: float = 0.3            # items a human recommender named (replayed dialogues)
    seen: float = 0.3                # films the user said they saw (less than a like)


class HistoryPolicy(BaseModel):
    """What a user's interaction log contributes (users addressed as ``<catalog>:<user>``; what
    counts as liked is ``chatrec.catalog.users.liked``: the top quarter of an explicit scale, or
    above their own mean for a user who never rates that high; every interaction in an implicit
    log)."""

    seeds: int = 25                  # most recent liked interactions used as seeds
    seed_base: float = 0.15          # seed weight of a liked interaction ...
    seed_per_point: float = 0.1      # ... plus this per rating point above the user's mean
    favourite_margin: float = 1.0    # explicit logs: this far above the mean (or their top rating) is a favourite
    favourites: int = 15             # most recent favourites offered as explanation anchors
    cache: int = 4096                # users whose history is kept in memory


class DiversityPolicy(BaseModel):
    """Light diversity when choosing the few items a reply shows."""

    director_penalty: float = 0.9    # score factor per film already chosen from that director
    franchise_penalty: float = 0.85  # and per film already chosen from that franchise
    window: int = 4                  # look this many times k candidates ahead


class CachePolicy(BaseModel):
    """In-memory caches of the session repository (the store holds everything)."""

    sessions: int = 2048
    profiles: int = 4096
    locks: int = 4096


class AgentConfig(BaseModel):
    """The agent's policy.

    Attributes:
        k: how many items a reply recommends.
        pool: candidates retrieved for a reply: ``max(pool_per_item * k, pool)``.
        weights: fusion weights of the retrieval sources.
        seeds, history, diversity, caches: see their classes.
    """

    k: int = Field(default=5, ge=1)
    pool: int = 30
    pool_per_item: int = 6
    weights: FusionWeights = Field(default_factory=FusionWeights)
    seeds: SeedWeights = Field(default_factory=SeedWeights)
    history: HistoryPolicy = Field(default_factory=HistoryPolicy)
    diversity: DiversityPolicy = Field(default_factory=DiversityPolicy)
    caches: CachePolicy = Field(default_factory=CachePolicy)

    def pool_size(self) -> int:
        return max(self.pool_per_item * self.k, self.pool)
