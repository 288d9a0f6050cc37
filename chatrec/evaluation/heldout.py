"""The held-out path: splits of the interaction log, and the agent built on a training log.

Everything an evaluated agent learns from interactions — popularity, mean ratings, the user's
history, collaborative models, any learnt ranker — comes from one training log, through
``Agent.from_config(catalog, interactions=log)`` (see ``Resources.load``). Build-time learners
take the same ``Resources``, so an evaluation that hands them a training log gets components that
never saw a held-out interaction.

The MovieLens split (``temporal_split``), fixed and documented here because every offline number
depends on it:

* a user's *liked* ratings are those ≥ 4 stars, ordered by time (ties by item id);
* **test**: the user's last liked rating; **validation**: the liked rating before it;
* users with fewer than two liked ratings or fewer than three ratings are not evaluated (all
  their ratings stay in training);
* for the validation split every system learns from ``train`` (neither held-out rating); for the
  test split from ``train`` + ``validation`` (everything but the test rating). Other ratings stay
  in training, including a user's ratings below 4 made after the held-out one: they are not
  relevant items, and every system excludes items the user rated in training from its ranking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from chatrec.catalog.models import Catalog, Interactions
from chatrec.config import Settings

logger = logging.getLogger(__name__)

LIKED = 4.0
Split = Literal["validation", "test"]
SPLITS: tuple[Split, ...] = ("validation", "test")
SPLIT_RULE = (
    "per user, liked ratings (≥ 4 stars) in time order (ties by item id): the last is the test "
    "item, the one before it the validation item; users with fewer than 2 liked or 3 ratings "
    "are not evaluated. Validation: systems learn from the training log; test: from the "
    "training log plus the validation items."
)


@dataclass(frozen=True)
class TemporalSplit:
    """A per-user leave-last-liked-out split.

    Attributes:
        train: every interaction but the held-out ones.
        validation: one row per evaluated user, their validation item.
        test: one row per evaluated user, their test item.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def learn_from(self, split: Split) -> pd.DataFrame:
        """The log every system learns from when it is scored on ``split``."""
        if split == "validation":
            return self.train
        if split == "test":
            return pd.concat([self.train, self.validation], ignore_index=True)
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")

    def truth(self, split: Split) -> dict[str, str]:
        """user id → the held-out item of ``split``."""
        frame = self.validation if split == "validation" else self.test
        return dict(zip(frame["user_id"].astype(str), frame["item_id"].astype(str), strict=True))

    def users(self) -> list[str]:
        """The evaluated users, in a stable order (MovieLens ids numerically)."""
        return sorted(self.truth("test"), key=lambda u: (len(u), u))

    def summary(self) -> dict:
        return {
            "rule": SPLIT_RULE,
            "users": len(self.test),
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
        }


def temporal_split(frame: pd.DataFrame, liked: float = LIKED) -> TemporalSplit:
    """Split an interactions frame (user_id, item_id, rating, timestamp) as the module says."""
    ordered = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    ordered = ordered.reset_index(drop=True)
    liked_rows = ordered.index[ordered["rating"].to_numpy() >= liked]
    positives = ordered.loc[liked_rows]
    from_last = positives.groupby("user_id").cumcount(ascending=False).to_numpy()
    n_liked = positives.groupby("user_id")["item_id"].transform("size").to_numpy()
    n_rated = ordered.groupby("user_id")["item_id"].transform("size").to_numpy()[liked_rows]
    eligible = (n_liked >= 2) & (n_rated >= 3)
    test_rows = liked_rows[(from_last == 0) & eligible]
    validation_rows = liked_rows[(from_last == 1) & eligible]
    train_rows = ordered.index.difference(test_rows.append(validation_rows))
    return TemporalSplit(
        ordered.loc[train_rows].reset_index(drop=True),
        ordered.loc[validation_rows].reset_index(drop=True),
        ordered.loc[test_rows].reset_index(drop=True),
    )


def training_agent(catalog: str, log: pd.DataFrame | Interactions, settings: Settings,
                   *, with_index: bool = True, weights: dict[str, float] | None = None):
    """The agent ``Agent.from_config`` builds for ``catalog``, learning from ``log`` only (no
    LLM, no store: nothing a user said before leaks in either).

    Ablations, named in a report when used: ``with_index=False`` leaves the vector index out;
    ``weights`` overrides fusion weights.
    """
    from chatrec.agent import Agent
    from chatrec.agent.retrieve import FusionWeights

    interactions = log if isinstance(log, Interactions) else Interactions(log)
    fusion = FusionWeights(**weights) if weights else None
    if with_index:
        return Agent.from_config(catalog, settings, llm=False, store=False, build_missing=False,
                                 interactions=interactions, weights=fusion)
    from chatrec.resources import Resources

    resources = Resources.load(catalog, settings, build_missing=False, with_index=False,
                               interactions=interactions)
    return Agent(resources, store=None, llm=None, weights=fusion)


def with_interactions(catalog: Catalog, interactions: Interactions) -> Catalog:
    """``catalog`` learning from ``interactions`` (see ``Catalog.with_interactions``)."""
    return catalog.with_interactions(interactions)


def heldout_catalog(catalog: Catalog, pairs: Iterable[tuple[str, str]]) -> Catalog:
    """``catalog`` without the (user, item) interactions in ``pairs``."""
    assert catalog.interactions is not None, "the catalog has no interactions to hold out"
    return catalog.with_interactions(catalog.interactions.without(pairs))


def resources_for(
    catalog: Catalog,
    settings: Settings,
    with_index: bool = True,
    index=None,
):
    """``Resources`` for a derived catalog (e.g. ``heldout_catalog``), learning from its own
    interactions through ``Resources.load(interactions=...)``.

    Args:
        catalog: the held-out catalog.
        settings: where the index lives.
        with_index: False leaves the index out (the agent then runs without vector retrieval).
        index: an already-open index to share.
    """
    from chatrec.resources import Resources

    resources = Resources.load(catalog, settings, build_missing=False,
                               with_index=with_index and index is None,
                               interactions=catalog.interactions)
    if index is not None:
        resources.index = index
    return resources
