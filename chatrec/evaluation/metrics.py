"""Ranking metrics and their confidence intervals, shared by every harness.

All functions take plain lists of item ids so that baselines and the agent are scored by the
same code. Gold items may be *groups* of ids (a title that two catalog ids share): a group counts
as found at the best rank of any of its ids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

GoldItem = str | frozenset[str]


def rank_of(ranked: Sequence[str], gold: GoldItem) -> int | None:
    """1-based rank of ``gold`` in ``ranked`` (a group: its best member), None when absent."""
    ids = {gold} if isinstance(gold, str) else gold
    for position, item_id in enumerate(ranked, 1):
        if item_id in ids:
            return position
    return None


def hit_at(ranked: Sequence[str], gold: GoldItem, k: int) -> float:
    rank = rank_of(ranked, gold)
    return 1.0 if rank is not None and rank <= k else 0.0


def ndcg_at(ranked: Sequence[str], gold: GoldItem, k: int) -> float:
    """NDCG@k with one relevant item: 1 / log2(rank + 1) when ranked within k."""
    rank = rank_of(ranked, gold)
    return 1.0 / math.log2(rank + 1) if rank is not None and rank <= k else 0.0


def recall_counts(
    ranked: Sequence[str], gold: Iterable[GoldItem], ks: Sequence[int]
) -> dict[int, int]:
    """For each k, how many of the gold items are ranked within k."""
    ranks = [rank_of(ranked, g) for g in gold]
    return {k: sum(1 for r in ranks if r is not None and r <= k) for k in ks}


def mean_ci(
    values: Sequence[float], seed: int = 0, n_boot: int = 1000, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, low, high): the mean and a percentile bootstrap interval (seeded, so repeatable)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_boot, data.size))].mean(axis=1)
    alpha = (1 - level) / 2
    return (
        float(data.mean()),
        float(np.quantile(means, alpha)),
        float(np.quantile(means, 1 - alpha)),
    )


def ratio_ci(
    numerator: Sequence[float],
    denominator: Sequence[float],
    seed: int = 0,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Ratio of two means over the same units, with a paired bootstrap interval."""
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size == 0 or a.size != b.size or b.sum() == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_boot, a.size))
    den = b[idx].sum(axis=1)
    ratios = np.where(den > 0, a[idx].sum(axis=1) / np.where(den > 0, den, 1), np.nan)
    alpha = (1 - level) / 2
    return (
        float(a.sum() / b.sum()),
        float(np.nanquantile(ratios, alpha)),
        float(np.nanquantile(ratios, 1 - alpha)),
    )


def finite(value: float, digits: int = 4) -> float | None:
    """A rounded number for a results file; None for NaN (no denominator), which JSON lacks."""
    return None if value is None or math.isnan(value) else round(float(value), digits)


def summary(values: Sequence[float], seed: int = 0) -> dict[str, float | int | None]:
    """{"mean", "ci_low", "ci_high", "n"} for a results file."""
    mean, low, high = mean_ci(values, seed)
    return {
        "mean": finite(mean, 5),
        "ci_low": finite(low, 5),
        "ci_high": finite(high, 5),
        "n": len(values),
    }
