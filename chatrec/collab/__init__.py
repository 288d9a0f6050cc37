"""Collaborative signals from who-rated-what: co-rating neighbours, personalized PageRank over
the user–item graph, and a rating predictor.

    from chatrec.collab import load_or_fit
    models = load_or_fit(catalog, settings)              # cached on disk, < 1 s when cached
    models.cooccur.similar({"1": 1.0}, k=20)             # like Toy Story
    models.ppr.scores({"260": 1.0}, user_id="42")        # walk from Star Wars and user 42
    models.rating.predict("42", "6")                     # what would user 42 rate Heat?
    models.factors.scores({"1": 1.0, "260": 1.0}, k=20)  # implicit MF, folded in from likes

Everything is keyed by the interaction data's own ids (users "42", items "6"); the agent maps its
"ml:42" users. A catalog without interactions gets an empty model that answers nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.catalog.models import Catalog, Interactions
from chatrec.collab.cooccur import CoRatingSimilarity
from chatrec.collab.factors import FactorsConfig, ImplicitFactors
from chatrec.collab.matrix import RatingMatrix
from chatrec.collab.ppr import PersonalizedPageRank
from chatrec.collab.rating import KNNBaselinePredictor, RatingNeighbour, RatingPrediction
from chatrec.config import Settings, get_settings

logger = logging.getLogger(__name__)

#: Bump whenever a model's parameters or fitted arrays change meaning: old caches are ignored.
MODEL_VERSION = 2


@dataclass
class CollaborativeModels:
    """The fitted collaborative models of one set of interactions.

    Attributes:
        matrix: the user × item ratings they were fitted on.
        cooccur: item–item co-rating neighbours (``similar``, ``neighbours_of``).
        ppr: personalized PageRank (``scores``).
        rating: rating predictor (``predict``, ``predict_for``).
        factors: implicit-feedback matrix factorisation over liked ratings (``scores``).
        fingerprint: the interactions' fingerprint ("" when there were none).
    """

    matrix: RatingMatrix
    cooccur: CoRatingSimilarity
    ppr: PersonalizedPageRank
    rating: KNNBaselinePredictor
    factors: ImplicitFactors
    fingerprint: str = ""

    @property
    def is_empty(self) -> bool:
        return self.matrix.nnz == 0

    def has_user(self, user_id: str) -> bool:
        return str(user_id) in self.matrix.user_index

    def user_history(self, user_id: str) -> dict[str, float]:
        """item id → rating of a raw interaction user (empty for an unknown user)."""
        items, ratings = self.matrix.user_row(str(user_id))
        return {str(self.matrix.items[i]): float(r) for i, r in zip(items, ratings, strict=True)}

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"version": np.asarray(MODEL_VERSION), "fingerprint": np.asarray(self.fingerprint),
                  "ppr.params": np.asarray([self.ppr.damping, self.ppr.debias, self.ppr.max_iter,
                                            self.ppr.tol], dtype=np.float64)}
        arrays.update(self.matrix.to_arrays())
        arrays.update(self.cooccur.to_arrays())
        arrays.update(self.rating.to_arrays())
        arrays.update(self.factors.to_arrays())
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> CollaborativeModels:
        matrix = RatingMatrix.from_arrays(arrays)
        damping, debias, max_iter, tol = arrays["ppr.params"].tolist()
        return cls(matrix=matrix,
                   cooccur=CoRatingSimilarity.from_arrays(arrays),
                   ppr=PersonalizedPageRank(matrix, damping=damping, debias=debias,
                                            max_iter=int(max_iter), tol=tol),
                   rating=KNNBaselinePredictor.from_arrays(arrays, matrix),
                   factors=ImplicitFactors.from_arrays(arrays),
                   fingerprint=str(arrays["fingerprint"]))


def fit(interactions: Interactions | None) -> CollaborativeModels:
    """Fit all collaborative models on ``interactions`` (no caching: evaluation fits on a
    training split without its held-out ratings). ``None`` or no rows → empty models."""
    started = time.perf_counter()
    matrix = RatingMatrix.from_interactions(interactions)
    models = CollaborativeModels(
        matrix=matrix,
        cooccur=CoRatingSimilarity.fit(matrix),
        ppr=PersonalizedPageRank(matrix),
        rating=KNNBaselinePredictor.fit(matrix),
        factors=ImplicitFactors.fit(matrix),
        fingerprint=interactions.fingerprint() if interactions is not None and matrix.nnz else "",
    )
    logger.info("fitted collaborative models on %d ratings in %.2f s", matrix.nnz,
                time.perf_counter() - started)
    return models


def load_or_fit(catalog: Catalog, settings: Settings | None = None,
                refit: bool = False) -> CollaborativeModels:
    """The catalog's collaborative models, from ``settings.cache_dir/collab`` when current.

    The cache file is keyed by the interactions' fingerprint and ``MODEL_VERSION``; it holds
    plain arrays (no pickle) and is written atomically, so concurrent processes never read half
    a file. An unreadable cache is refitted, never trusted.

    Args:
        catalog: any catalog; without interactions the result is empty (answers nothing).
        settings: where the cache lives; default ``get_settings()``.
        refit: ignore (and overwrite) the cached models.
    """
    interactions = catalog.interactions
    if interactions is None or len(interactions) == 0:
        return fit(None)
    settings = settings or get_settings()
    path = cache_path(settings, catalog)
    if not refit:
        models = _read(path)
        if models is not None:
            return models
    models = fit(interactions)
    _write(path, models)
    return models


def cache_path(settings: Settings, catalog: Catalog) -> Path:
    """Where ``load_or_fit`` keeps the catalog's models (the catalog must have interactions)."""
    assert catalog.interactions is not None
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in catalog.name)[:40]
    key = f"{catalog.interactions.fingerprint()}-v{MODEL_VERSION}"
    return settings.cache_dir / "collab" / f"{name}-{key}.npz"


def _read(path: Path) -> CollaborativeModels | None:
    try:
        started = time.perf_counter()
        with np.load(path, allow_pickle=False) as arrays:
            if int(arrays["version"]) != MODEL_VERSION:
                return None
            models = CollaborativeModels.from_arrays(arrays)
        logger.info("loaded collaborative models from %s in %.3f s", path,
                    time.perf_counter() - started)
        return models
    except FileNotFoundError:
        return None
    except Exception as exc:  # a cache is only a cache: refit
        logger.warning("ignoring unreadable collaborative cache %s (%s)", path, exc)
        return None


def _write(path: Path, models: CollaborativeModels) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".collab-", suffix=".npz.part")
        try:
            with os.fdopen(fd, "wb") as handle:
                arrays: dict[str, Any] = models.to_arrays()  # (savez's own keywords take no arrays)
                np.savez(handle, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # Older fits of the same catalog are dead weight.
        prefix = path.name.rsplit("-", 2)[0]
        for stale in path.parent.glob(f"{prefix}-*.npz"):
            if stale != path and stale.name.rsplit("-", 2)[0] == prefix:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("could not cache collaborative models at %s: %s", path, exc)


__all__ = [
    "CoRatingSimilarity",
    "CollaborativeModels",
    "FactorsConfig",
    "ImplicitFactors",
    "KNNBaselinePredictor",
    "PersonalizedPageRank",
    "RatingMatrix",
    "RatingNeighbour",
    "RatingPrediction",
    "fit",
    "load_or_fit",
]
