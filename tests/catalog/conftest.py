"""Fixtures of the catalog room: the real catalogs, parsed once per session (disk cache under the
session's CHATREC_HOME), and a small non-movie catalog written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.catalog import Catalog, load_catalog
from chatrec.config import Settings


@pytest.fixture(scope="session")
def catalog_settings(session_home: Path, data_dir: Path) -> Settings:
    """Settings on the session home and the shared data (built explicitly: session fixtures run
    before the per-test environment fixture)."""
    return Settings(home=session_home, data_dir=data_dir)


@pytest.fixture(scope="session")
def ml(catalog_settings: Settings) -> Catalog:
    return load_catalog("movielens", catalog_settings)


@pytest.fixture(scope="session")
def redial(catalog_settings: Settings) -> Catalog:
    return load_catalog("redial", catalog_settings)


# A dozen coffee and kitchen products: nothing movie-like, to prove the schema is generic.
COFFEE = [
    {"id": "aero-1", "title": "AeroPress Original", "categories": ["coffee maker", "immersion"],
     "brand": "AeroPress", "features": ["portable", "single cup", "plastic"],
     "description": "A hand press that brews one cup in a minute.", "year": 2005,
     "external_ids": {"sku": "AP-100", "ean": 4012345678901}},
    {"id": "chemex-8", "title": "Chemex 8-Cup (Classic)", "categories": ["coffee maker", "pour-over"],
     "brand": "Chemex", "features": ["glass", "large batch"], "tags": ["design classic"]},
    {"id": "v60-02", "title": "Hario V60 02", "categories": ["pour-over"], "brand": "Hario",
     "features": ["ceramic", "single cup"]},
    {"id": "baratza-encore", "title": "Baratza Encore", "categories": ["grinder"],
     "brand": "Baratza", "features": ["burr", "electric"], "popularity": 40},
    {"id": "comandante-c40", "title": "Comandante C40", "categories": ["grinder"],
     "brand": "Comandante", "features": ["burr", "manual"]},
    {"id": "moka-3", "title": "Bialetti Moka Express 3-Cup", "categories": ["coffee maker",
     "stovetop"], "brand": "Bialetti", "features": ["aluminium", "espresso-style"]},
    {"id": "kettle-gooseneck", "title": "Fellow Stagg EKG", "categories": ["kettle"],
     "brand": "Fellow", "features": ["gooseneck", "temperature control"]},
    {"id": "scale-acaia", "title": "Acaia Pearl", "categories": ["scale"], "brand": "Acaia",
     "features": ["timer", "bluetooth"]},
    {"id": "beans-ethiopia", "title": "Yirgacheffe Natural 250 g", "categories": ["beans"],
     "kind": "coffee", "keywords": ["fruity", "light roast"], "creators": ["Origin Roasters"]},
    {"id": "beans-brazil", "title": "Cerrado Pulped Natural 1 kg", "categories": ["beans"],
     "kind": "coffee", "keywords": ["chocolate", "medium roast"]},
    {"id": "french-press", "title": "Bodum Chambord French Press", "categories": ["coffee maker",
     "immersion"], "brand": "Bodum", "features": ["glass", "large batch"]},
    {"id": "filters-v60", "title": "V60 Paper Filters (100)", "categories": ["accessory"],
     "brand": "Hario", "features": ["paper"]},
]
COFFEE_INTERACTIONS = [
    ("u1", "aero-1", 5, 100), ("u1", "v60-02", 4, 101), ("u1", "comandante-c40", 5, 102),
    ("u2", "aero-1", 4, 200), ("u2", "moka-3", 3, 201), ("u3", "chemex-8", 5, 300),
    ("u3", "kettle-gooseneck", 4, 301), ("u3", "aero-1", 2, 302),
]


@pytest.fixture
def coffee_jsonl(tmp_path: Path) -> Path:
    """coffee.jsonl and coffee.interactions.csv in a fresh folder."""
    path = tmp_path / "coffee.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in COFFEE) + "\n", encoding="utf-8")
    lines = ["user_id,item_id,rating,timestamp"] + [",".join(map(str, r)) for r in COFFEE_INTERACTIONS]
    (tmp_path / "coffee.interactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def coffee_csv(tmp_path: Path) -> Path:
    """The same products as CSV: lists `|`-separated, external ids as external_ids.* columns."""
    import csv

    path = tmp_path / "coffee.csv"
    columns = ["id", "title", "year", "categories", "brand", "creators", "features", "keywords",
               "tags", "description", "popularity", "kind", "external_ids.sku", "external_ids.ean"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in COFFEE:
            out = {k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()
                   if k != "external_ids"}
            for key, value in row.get("external_ids", {}).items():
                out[f"external_ids.{key}"] = value
            writer.writerow(out)
    return path
