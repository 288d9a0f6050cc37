"""load_catalog: disk cache, stable ids, provenance."""

from __future__ import annotations

import pickle

from chatrec.catalog import load_catalog
from chatrec.catalog.loader import LOADER_VERSION
from chatrec.catalog.sources import FILES_BY_PATH, MOVIELENS_INPUTS
from chatrec.config import Settings


def _cache_file(settings, name):
    files = list((settings.cache_dir / "catalogs").glob(f"{name}-*.pkl"))
    assert len(files) == 1, files
    return files[0]


def test_sources_hold_input_checksums(ml, redial):
    assert ml.sources == {p: FILES_BY_PATH[p].sha256 for p in MOVIELENS_INPUTS}
    assert "redial/ievalm/id2info.json" in redial.sources
    assert not any("redial_to_movielens" in p for p in ml.sources)  # derived, not an input


def test_second_load_comes_from_the_cache(ml, catalog_settings):
    cache = _cache_file(catalog_settings, "movielens")
    with open(cache, "rb") as handle:
        payload = pickle.load(handle)
    assert payload["version"] == LOADER_VERSION and len(payload["items"]) == 9742
    again = load_catalog("movielens", catalog_settings)
    assert again is not ml and again.ids == ml.ids
    assert again["2571"] == ml["2571"] and again.fingerprint() == ml.fingerprint()
    frame, original = again.interactions.frame, ml.interactions.frame
    assert list(frame["user_id"][:5]) == list(original["user_id"][:5])
    assert frame["item_id"].map(type).eq(str).all()


def test_ids_are_stable_across_a_rebuild(ml, catalog_settings):
    rebuilt = load_catalog("movielens", catalog_settings, rebuild=True)
    assert rebuilt.ids == ml.ids
    assert rebuilt.fingerprint() == ml.fingerprint()
    assert rebuilt.interactions.fingerprint() == ml.interactions.fingerprint()
    _cache_file(catalog_settings, "movielens")  # still exactly one cache file


def test_a_damaged_cache_is_rebuilt(coffee_jsonl, tmp_path):
    settings = Settings(home=tmp_path / "home", data_dir=None)
    first = load_catalog(str(coffee_jsonl), settings)
    cache = _cache_file(settings, "coffee")
    cache.write_bytes(b"not a pickle")
    again = load_catalog(str(coffee_jsonl), settings)
    assert again.ids == first.ids and pickle.loads(cache.read_bytes())["name"] == "coffee"
