"""What counts as liked in an interaction log (``chatrec.catalog.users``): the top of an explicit
scale, a stingy rater's best, everything in an implicit log."""

from __future__ import annotations

import pandas as pd

from chatrec.catalog.models import Interactions
from chatrec.catalog.users import liked, liked_mask, rating_scale


def _log(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
                         "rating": [r[2] for r in rows], "timestamp": list(range(len(rows)))})


FRAME = _log([
    ("generous", "a", 5.0), ("generous", "b", 4.5), ("generous", "c", 4.0), ("generous", "d", 3.0),
    ("stingy", "a", 3.5), ("stingy", "b", 2.0), ("stingy", "c", 1.0),
    ("flat-high", "a", 3.0), ("flat-high", "b", 3.0),
    ("flat-low", "a", 1.0), ("flat-low", "b", 1.0),
    ("critic", "e", 0.5),
])


def _liked_items(frame: pd.DataFrame) -> dict[str, set[str]]:
    mask = liked_mask(frame, rating_scale(Interactions(frame)))
    return {u: set(part["item_id"]) for u, part in frame[mask].groupby("user_id")}


def test_the_top_quarter_of_the_scale_is_liked_whoever_rated_it():
    # scale 0.5–5: 4 and up is liked, even below a generous rater's mean (4.125)
    assert _liked_items(FRAME)["generous"] == {"a", "b", "c"}


def test_a_user_who_never_rates_that_high_likes_what_is_above_their_mean():
    found = _liked_items(FRAME)
    assert found["stingy"] == {"a"}
    assert found["flat-high"] == {"a", "b"}      # all alike, in the scale's upper half
    assert "flat-low" not in found and "critic" not in found


def test_the_rule_reads_the_scale_of_the_log():
    ten = FRAME.assign(rating=FRAME["rating"] * 2)      # 1–10: 8 and up
    assert _liked_items(ten)["generous"] == {"a", "b", "c"}
    assert _liked_items(ten)["stingy"] == {"a"}


def test_every_interaction_of_an_implicit_log_is_liked():
    implicit = FRAME.assign(rating=1.0)
    assert rating_scale(Interactions(implicit)) is None
    assert liked_mask(implicit, None).all()
    assert (liked(implicit[implicit["user_id"] == "stingy"], None)["strength"] == 0).all()


def test_strength_is_the_points_above_the_users_mean_and_never_negative():
    history = FRAME[FRAME["user_id"] == "generous"]
    found = liked(history, (0.5, 5.0)).set_index("item_id")["strength"]
    assert found["a"] == 5.0 - 4.125 and found["c"] == 0.0
