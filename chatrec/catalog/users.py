"""Users of a catalog's interaction log: how they are addressed, and what they liked.

**Address.** A user of catalog ``C``'s interaction log is ``"C:<raw user id>"``: ``"movielens:42"``,
``"coffee:u17"`` for ``coffee.jsonl``. MovieLens users also answer to the short ``"ml:42"``, in
MovieLens and in the catalogs derived from it (hold-outs and subsets, named ``movielens-…``). Any
other id (``"web:alice"``, ``"slack:T1:U1"``) is a chatrec user without a log history.

**Liked.** What counts as liked is relative to the log, not a fixed number of stars:

* an *explicit* log (ratings on a scale: they vary) — the interactions a user rated above their
  own mean (someone who rates everything 4 or 5 likes their 5s; someone stingy, their 3.5s); a
  user who rates everything alike likes all of it when that rating is in the scale's upper half;
* an *implicit* log (every rating the same, as in a purchase or play log whose ratings default to
  1.0) — every interaction.

``strength`` says how much: points above the user's mean (explicit), 0 (implicit).
"""

from __future__ import annotations

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


def liked(history: pd.DataFrame, scale: tuple[float, float] | None) -> pd.DataFrame:
    """The liked rows of one user's history (time order kept), with a ``strength`` column.

    Args:
        history: the user's interactions (``Interactions.history``).
        scale: the log's ``rating_scale`` (None: implicit).
    """
    if scale is None:
        return history.assign(strength=0.0)
    ratings = history["rating"].astype(float)
    if ratings.empty:
        return history.assign(strength=0.0)
    mean = float(ratings.mean())
    if ratings.nunique() == 1:  # rates everything alike: liked if that is in the scale's upper half
        keep = ratings >= sum(scale) / 2
    else:
        keep = ratings > mean
    return history[keep].assign(strength=(ratings[keep] - mean).astype(float))
