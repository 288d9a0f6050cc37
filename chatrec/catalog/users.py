"""Users of a catalog's interaction log: how they are addressed, and what they liked.

**Address.** A user of catalog ``C``'s interaction log is ``"C:<raw user id>"``: ``"movielens:42"``,
``"coffee:u17"`` for ``coffee.jsonl``. MovieLens users also answer to the short ``"ml:42"``, in
MovieLens and in the catalogs derived from it (hold-outs and subsets, named ``movielens-…``). Any
other id (``"web:alice"``, ``"slack:T1:U1"``) is a chatrec user without a log history.

**Liked.** What counts as liked is relative to the log, not a fixed number of stars:

* an *explicit* log (ratings on a scale: they vary) — the interactions a user rated in the top
  quarter of the scale (4 and up on MovieLens' 0.5–5, 8 and up on 1–10); a user who never rates
  that high likes what they rated above their own mean (someone stingy, their 3.5s), or everything
  when they rate all alike in the scale's upper half. (Above-the-mean alone, for everyone, left
  out a generous rater's 4-star films: MovieLens validation NDCG@10 of the agent's history-only
  ranking 0.0645 → 0.0694 with this rule, same queries otherwise.)
* an *implicit* log (every rating the same, as in a purchase or play log whose ratings default to
  1.0) — every interaction.

``strength`` says how much: points above the user's mean (explicit; 0 for a liked rating at or
below it), 0 (implicit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chatrec.catalog.models import Catalog, Interactions

#: Other prefixes a catalog family answers to (a family: "movielens" and "movielens-…").
ALIASES: dict[str, tuple[str, ...]] = {"movielens": ("ml", "movielens")}


def _prefixes(catalog_name: str) -> set[str]:
    family = catalog_name.split("-", 1)[0]
    return {catalog_name, *ALIASES.get(family, ())}


def user_address(catalog_name: str, raw_user: str) -> str:
    """The documented id of a log user: ``"<catalog name>:<raw user id>"``."""
    return f"{catalog_name}:{raw_user}"


def log_user(catalog: Catalog, user_id: str | None) -> str | None:
    """The raw log id behind a user id ("movielens:42" or "ml:42" → "42"), or None when the id is
    not of this catalog's log or the log does not know the user."""
    if not user_id or catalog.interactions is None or ":" not in user_id:
        return None
    prefix, raw = user_id.split(":", 1)
    if prefix not in _prefixes(catalog.name):
        return None
    return raw if catalog.interactions.has_user(raw) else None


def rating_scale(interactions: Interactions) -> tuple[float, float] | None:
    """(lowest, highest) rating of an explicit log; None for an implicit one (all ratings alike)."""
    ratings = interactions.frame["rating"]
    low, high = float(ratings.min()), float(ratings.max())
    return (low, high) if high > low else None


#: The top share of an explicit scale that is liked whoever rated it.
TOP_OF_SCALE = 0.25


def _liked_rule(ratings: np.ndarray, mean: np.ndarray | float, alike: np.ndarray | bool,
                any_top: np.ndarray | bool, scale: tuple[float, float]) -> np.ndarray:
    """The rule above, given each rating's user's mean, whether they rate all alike and whether
    they ever rate in the top of the scale."""
    top = ratings >= scale[1] - TOP_OF_SCALE * (scale[1] - scale[0])
    own = np.where(alike, ratings >= sum(scale) / 2, ratings > mean)
    return top | (~np.asarray(any_top) & own)


def liked_mask(frame: pd.DataFrame, scale: tuple[float, float] | None) -> pd.Series:
    """Which rows of an interactions frame (any number of users) are liked, by the rule above."""
    if scale is None or frame.empty:
        return pd.Series(True, index=frame.index)
    ratings = frame["rating"].astype(float)
    by_user = ratings.groupby(frame["user_id"])
    high = scale[1] - TOP_OF_SCALE * (scale[1] - scale[0])
    keep = _liked_rule(ratings.to_numpy(), by_user.transform("mean").to_numpy(),
                       (by_user.transform("min") == by_user.transform("max")).to_numpy(),
                       (by_user.transform("max") >= high).to_numpy(), scale)
    return pd.Series(keep, index=frame.index)


def liked(history: pd.DataFrame, scale: tuple[float, float] | None) -> pd.DataFrame:
    """The liked rows of one user's history (time order kept), with a ``strength`` column.

    Args:
        history: the user's interactions (``Interactions.history``).
        scale: the log's ``rating_scale`` (None: implicit).
    """
    if scale is None or history.empty:
        return history.assign(strength=0.0)
    ratings = history["rating"].to_numpy(dtype=np.float64)
    mean, low, high = float(ratings.mean()), float(ratings.min()), float(ratings.max())
    keep = _liked_rule(ratings, mean, low == high,
                       high >= scale[1] - TOP_OF_SCALE * (scale[1] - scale[0]), scale)
    return history[keep].assign(strength=np.clip(ratings[keep] - mean, 0.0, None))
