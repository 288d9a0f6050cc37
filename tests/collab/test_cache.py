"""``load_or_fit``: the on-disk cache round-trips, is keyed by the interactions, and a damaged
cache file is refitted rather than trusted."""

from __future__ import annotations

import numpy as np

from chatrec.collab import cache_path, fit, load_or_fit
from chatrec.config import Settings


def _small(movielens, name="collab-cache-test"):
    # The 400 most rated films: a real slice that fits in a fraction of a second.
    return movielens.subset([item.id for item in movielens.popular(400)], name=name)


def test_cache_round_trip_gives_identical_models(movielens, tmp_path, ids):
    settings = Settings(home=tmp_path)
    catalog = _small(movielens)
    fitted = load_or_fit(catalog, settings)
    path = cache_path(settings, catalog)
    assert path.is_file()
    loaded = load_or_fit(catalog, settings)
    assert loaded is not fitted and loaded.fingerprint == fitted.fingerprint
    np.testing.assert_array_equal(loaded.cooccur.neighbours, fitted.cooccur.neighbours)
    seeds = {ids["toy story"]: 1.0}
    assert loaded.cooccur.similar(seeds, k=20) == fitted.cooccur.similar(seeds, k=20)
    assert loaded.ppr.scores(seeds, user_id="42") == fitted.ppr.scores(seeds, user_id="42")
    assert loaded.rating.predict("42", ids["heat"]) == fitted.rating.predict("42", ids["heat"])


def test_changed_interactions_get_a_new_cache_and_the_old_one_goes(movielens, tmp_path):
    settings = Settings(home=tmp_path)
    first = _small(movielens)
    load_or_fit(first, settings)
    old = cache_path(settings, first)
    second = movielens.subset([item.id for item in movielens.popular(300)], name=first.name)
    load_or_fit(second, settings)
    assert cache_path(settings, second) != old
    assert cache_path(settings, second).is_file() and not old.exists()


def test_a_damaged_cache_is_refitted(movielens, tmp_path, ids):
    settings = Settings(home=tmp_path)
    catalog = _small(movielens)
    expected = load_or_fit(catalog, settings).cooccur.similar({ids["toy story"]: 1.0})
    path = cache_path(settings, catalog)
    path.write_bytes(b"not an npz file at all")
    again = load_or_fit(catalog, settings)
    assert again.cooccur.similar({ids["toy story"]: 1.0}) == expected
    assert path.stat().st_size > 1000     # rewritten


def test_fit_only_knows_its_training_data(movielens):
    catalog = _small(movielens)
    interactions = catalog.interactions
    user_items = interactions.history("42")["item_id"].tolist()
    held_out = user_items[0]
    models = fit(interactions.without([("42", held_out)]))
    assert held_out not in models.user_history("42")

