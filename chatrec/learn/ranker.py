"""Ordering the fused candidates: a LightGBM LambdaRank model learnt at build time, or — for a
catalog without training data — the hand-set fusion with a quality prior.

Both put well-known, well-rated films first for an *open* request (nothing liked, no history, no
person asked for): an obscure film comes only when the user asked for one ("hidden gems") or the
constraints leave too few known films.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lightgbm as lgb
import numpy as np

from chatrec.learn.features import FEATURES, FeatureBuilder
from chatrec.learn.training import CUT_MARK
from kg.models import KEYWORD, PERSON

if TYPE_CHECKING:
    from chatrec.agent.retrieve import RetrievalQuery, Signals

logger = logging.getLogger(__name__)

#: Added to the score of well-known films for an open request: above any learnt difference.
KNOWN_FIRST = 1000.0
#: Weight of the quality prior in the hand-set fusion (open requests / anything else).
QUALITY_OPEN = 0.6
QUALITY_PERSONAL = 0.1
#: Standard deviations of the learnt score per unit of the fusion's corrections (a refinement
#: moves a film by 0.25, a disliked attribute by 0.5).
CORRECTION_WEIGHT = 8.0


def is_open(query: RetrievalQuery) -> bool:
    """A request that says nothing personal: no liked film, no history, no person asked for."""
    return not (query.seeds or query.user_id or query.constraints.people_any)


def likes_people(query: RetrievalQuery) -> bool:
    """"I like Wes Anderson movies": their films come before the best-known others."""
    return any(node.startswith(f"{PERSON}:") for node in query.liked_attributes)


def wants_obscure(query: RetrievalQuery) -> bool:
    return "obscure" in query.refinements


def _known_first(scores: np.ndarray, rows: np.ndarray, query: RetrievalQuery, builder: FeatureBuilder) -> np.ndarray:
    priors = builder.priors
    if not priors.has_counts or not is_open(query) or wants_obscure(query):
        return scores
    known = priors.known[rows]
    scores = scores + KNOWN_FIRST * known
    liked = _with_liked_attributes(query, builder)
    if liked is not None:
        # "I like Wes Anderson movies": his known, not badly rated films, then the other known ones
        scores = scores + KNOWN_FIRST * (known & liked[rows] & ~(priors.bayes_rating[rows] < priors.global_mean))
    return scores


def _with_liked_attributes(query: RetrievalQuery, builder: FeatureBuilder) -> np.ndarray | None:
    """Rows having a person or keyword the user said they like ("a movie about chess"), or None
    when they named none."""
    nodes = [n for n in query.liked_attributes if n.startswith((f"{PERSON}:", f"{KEYWORD}:"))]
    if not nodes:
        return None
    table = builder.table
    mask = np.zeros(len(table), dtype=bool)
    for node in nodes:
        mask[table.rows_with(node)] = True
    return mask


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    count = min(k, len(scores))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, count - 1)[:count]
    return top[np.argsort(-scores[top], kind="stable")]


class PriorRanker:
    """The hand-set fusion plus the quality prior (popularity and Bayesian-average rating):
    the ranker of a catalog with no training data."""

    kind = "fusion + quality prior"

    def __init__(self, builder: FeatureBuilder):
        self.builder = builder

    def order(self, query: RetrievalQuery, signals: Signals, k: int) -> tuple[np.ndarray, np.ndarray]:
        priors = self.builder.priors
        if wants_obscure(query):
            scores = signals.fused + QUALITY_OPEN * priors.gem
        else:
            weight = QUALITY_OPEN if is_open(query) and not likes_people(query) else QUALITY_PERSONAL
            scores = signals.fused + weight * priors.quality
        rows = np.flatnonzero(signals.mask)
        scores = _known_first(scores[rows], rows, query, self.builder)
        top = _top(scores, k)
        return rows[top], scores[top]


@dataclass
class TrainingGroup:
    """One ranking to learn from: a query's candidate rows, their features, which were right."""

    key: str
    features: np.ndarray
    labels: np.ndarray


PARAMS = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10, 50],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "lambdarank_truncation_level": 50,
    "num_threads": 1,          # 2 shared cores: one thread is steadier and deterministic
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def validation_group(key: str, share: int = 5) -> bool:
    """Whether a training group is held out for early stopping (a stable hash of its key; of the
    user's part of an interaction ranking's key, so a user's rankings stay on one side)."""
    unit = key.split(CUT_MARK, 1)[0]
    return zlib.crc32(f"valid:{unit}".encode()) % share == 0


def train_lambdarank(groups: list[TrainingGroup], seed: int = 0, rounds: int = 400,
                     patience: int | None = 40, params: dict | None = None, holdout: bool = False,
                     ) -> tuple[lgb.Booster, dict]:
    """A LightGBM LambdaRank booster over ``FEATURES``, early-stopped on a fifth of the groups
    (``patience`` rounds without gain). ``patience=None`` trains ``rounds`` rounds on every group,
    or, with ``holdout``, on four fifths with the other fifth's scores in the report. ``params``
    override ``PARAMS``. Groups without a positive teach nothing and are dropped.
    Returns (booster, report)."""
    useful = [g for g in groups if g.labels.any() and len(g.labels) > 1]
    if patience is None and not holdout:
        train, valid = useful, []
    else:
        train = [g for g in useful if not validation_group(g.key)]
        valid = [g for g in useful if validation_group(g.key)]
    if not train or (patience is not None and not valid):
        raise ValueError(f"too little training data for the ranker ({len(useful)} usable groups)")

    def dataset(part: list[TrainingGroup], reference=None):
        return lgb.Dataset(np.vstack([g.features for g in part]),
                           np.concatenate([g.labels for g in part]).astype(np.float32),
                           group=[len(g.labels) for g in part], feature_name=list(FEATURES),
                           reference=reference, free_raw_data=True)

    train_set = dataset(train)
    params = {**PARAMS, **(params or {}), "seed": seed}
    evals: dict = {}
    callbacks: list = [lgb.record_evaluation(evals)]
    if patience is not None:
        callbacks.append(lgb.early_stopping(patience, verbose=False))
    booster = lgb.train(params, train_set, num_boost_round=rounds,
                        valid_sets=[dataset(valid, train_set)] if valid else None,
                        valid_names=["validation"] if valid else None,
                        callbacks=callbacks if valid else None)
    best = booster.best_iteration or rounds
    gains = booster.feature_importance(importance_type="gain", iteration=best)
    scores = evals.get("validation", {})
    report = {
        "model": "LightGBM LambdaRank",
        "params": {k: v for k, v in params.items() if k != "verbose"},
        "groups": {"total": len(groups), "with_positive": len(useful), "train": len(train),
                   "validation": len(valid)},
        "rows": int(sum(len(g.labels) for g in useful)),
        "best_iteration": int(best),
        "validation": {f"ndcg@{k}": round(float(scores[f"ndcg@{k}"][best - 1]), 4)
                       for k in (10, 50) if f"ndcg@{k}" in scores},
        "feature_importance_gain": _shares(gains),
    }
    return booster, report


def _shares(gains: np.ndarray) -> dict[str, float]:
    total = float(gains.sum()) or 1.0
    return {name: round(float(g) / total, 4)
            for name, g in sorted(zip(FEATURES, gains, strict=True), key=lambda kv: -kv[1]) if g > 0}


#: Between the models of a ``BoosterBag`` in its text form (LightGBM's model text has no such line).
MODEL_SEPARATOR = "\n# chatrec: next model of the bag\n"


class BoosterBag:
    """Boosters of one configuration learnt with different seeds (each bags other rows and
    features), their scores averaged: a ranker learnt from ~1,500 rankings differs by seed by
    about as much as a feature adds; the average does not."""

    def __init__(self, boosters: list[lgb.Booster]):
        self.boosters = boosters

    def predict(self, features: np.ndarray, num_threads: int = 1) -> np.ndarray:
        return np.mean([np.asarray(b.predict(features, num_threads=num_threads), dtype=np.float64)
                        for b in self.boosters], axis=0)

    def to_string(self) -> str:
        return MODEL_SEPARATOR.join(b.model_to_string(num_iteration=b.best_iteration or None)
                                    for b in self.boosters)

    @classmethod
    def from_string(cls, text: str) -> BoosterBag:
        return cls([lgb.Booster(model_str=part) for part in text.split(MODEL_SEPARATOR)])


def train_bag(groups: list[TrainingGroup], seed: int = 0, bag: int = 1, **train_args,
              ) -> tuple[BoosterBag, dict]:
    """``bag`` boosters by ``train_lambdarank`` with seeds ``seed``, ``seed + 1``, …; the report
    is the first one's, with the importances averaged over all."""
    trained = [train_lambdarank(groups, seed=seed + i, **train_args) for i in range(max(1, bag))]
    boosters = [b for b, _ in trained]
    report = trained[0][1]
    if len(boosters) > 1:
        gains = np.mean([b.feature_importance(importance_type="gain", iteration=b.best_iteration or None)
                         / max(float(b.feature_importance(importance_type="gain").sum()), 1e-12)
                         for b in boosters], axis=0)
        report["feature_importance_gain"] = _shares(gains)
        report["bag"] = {"boosters": len(boosters), "seeds": [seed + i for i in range(len(boosters))]}
    return BoosterBag(boosters), report


class LearntRanker:
    """Orders a query's candidate pool by a LambdaRank model over ``FEATURES``.

    Rows beyond the pool (asked for when ``k`` exceeds it) follow in the fusion's order.
    """

    kind = "LightGBM LambdaRank"

    def __init__(self, booster: BoosterBag, builder: FeatureBuilder, learnt_open_requests: bool = True):
        self.booster = booster
        self.builder = builder
        # A ranker learnt from interaction histories never saw a request without one: open
        # requests keep the fusion with the quality prior, where the request's aspects count.
        self.open_fallback = None if learnt_open_requests else PriorRanker(builder)

    @classmethod
    def from_string(cls, model: str, builder: FeatureBuilder, learnt_open_requests: bool = True) -> LearntRanker:
        return cls(BoosterBag.from_string(model), builder, learnt_open_requests)

    def order(self, query: RetrievalQuery, signals: Signals, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.open_fallback is not None and is_open(query):
            return self.open_fallback.order(query, signals, k)
        rows = self.builder.pool(signals)
        if len(rows) == 0:
            return rows, np.zeros(0, dtype=np.float32)
        features = self.builder.build(query, signals, rows)
        scores = np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float32)
        if signals.corrections is not None and signals.corrections[rows].any():
            # Training data holds no "lighter" or "not horror": the user's corrections move
            # films by standard deviations of the learnt scores.
            spread = float(scores.std()) or 1.0
            scores = scores + CORRECTION_WEIGHT * spread * signals.corrections[rows]
        scores = _known_first(scores, rows, query, self.builder)
        top = _top(scores, k)
        rows, scores = rows[top], scores[top]
        if len(rows) < k:
            rest = np.where(signals.mask, signals.fused, -np.inf)
            rest[rows] = -np.inf
            extra = _top(rest, min(k - len(rows), int(np.isfinite(rest).sum())))
            floor = float(scores.min(initial=0.0)) - 1.0
            rows = np.concatenate([rows, extra])
            scores = np.concatenate([scores, floor - np.arange(len(extra), dtype=np.float32) * 1e-3])
        return rows, scores
