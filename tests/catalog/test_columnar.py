"""The columnar catalog (memory-mapped columns for large catalogs) gives exactly the items,
look-ups and constraint masks of the ``Catalog`` it stands for."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from chatrec.bench.synthetic import SyntheticCatalog
from chatrec.catalog import Catalog, load_catalog
from chatrec.catalog.columnar import ColumnarCatalog, build_columnar
from chatrec.catalog.constraints import Constraints
from chatrec.catalog.custom import CatalogFormatError, load_custom
from chatrec.config import Settings


@pytest.fixture(scope="module")
def ml_columns(ml: Catalog, tmp_path_factory: pytest.TempPathFactory) -> ColumnarCatalog:
    folder = tmp_path_factory.mktemp("columns") / "movielens"
    build_columnar(iter(ml), folder, ml.name, ml.sources, ml.interactions, ml.id_aliases)
    return ColumnarCatalog(folder)


def test_every_item_reads_back_equal(ml: Catalog, ml_columns: ColumnarCatalog):
    assert len(ml_columns) == len(ml)
    assert list(ml_columns.ids) == list(ml.ids)
    assert ml_columns.fingerprint() == ml.fingerprint()
    for item in ml:
        assert ml_columns[item.id] == item
    assert ml_columns.get("no such id") is None and "no such id" not in ml_columns


def test_look_ups_match(ml: Catalog, ml_columns: ColumnarCatalog):
    assert [i.id for i in ml_columns.popular(50)] == [i.id for i in ml.popular(50)]
    for item in ml.popular(300):
        assert [i.id for i in ml_columns.find_title(item.title)] == [i.id for i in ml.find_title(item.title)]
        assert ml_columns.find_title(item.display)[0].id == ml.find_title(item.display)[0].id
    assert (ml_columns.year_array() == ml.year_array()).all()
    assert (ml_columns.popularity_array() == ml.popularity_array()).all()
    assert np.allclose(ml_columns.mean_rating_array(), ml.mean_rating_array(), equal_nan=True)
    assert ml_columns.interactions is not None and ml.interactions is not None
    assert len(ml_columns.interactions) == len(ml.interactions)


def test_constraint_masks_match(ml: Catalog, ml_columns: ColumnarCatalog):
    rng = random.Random(3)
    plain, columns = ml.constraint_masks(), ml_columns.constraint_masks()
    people = [name for item in ml.popular(200) for _, name in item.people]
    genres = sorted({g for item in ml for g in item.genres})
    keywords = sorted({k for item in ml.popular(300) for k in item.keywords}) or ["space"]
    for _ in range(60):
        decade = rng.choice([1950, 1970, 1990, 2000])
        shape = Constraints(genres_all=[rng.choice(genres)], genres_none=[rng.choice(genres)],
                            year_min=decade, year_max=decade + 9, people_none=[rng.choice(people)])
        exclude = [item.id for item in rng.sample(list(ml), 5)]
        assert (plain.mask(shape, exclude) == columns.mask(shape, exclude)).all()
        who = Constraints(people_any=[rng.choice(people)])
        assert (plain.mask(who) == columns.mask(who)).all() and columns.mask(who).any()
        item = rng.choice(ml.popular(500))
        roles = Constraints(directors_any=item.directors[:1], cast_any=item.cast[:1],
                            keywords_none=[rng.choice(keywords), rng.choice(keywords).split()[-1] + "s"],
                            decades_none=[decade])
        assert (plain.mask(roles) == columns.mask(roles)).all()


def test_the_first_rows_view_maps_only_those_rows(ml: Catalog, ml_columns: ColumnarCatalog):
    """A vector matrix built over the catalog's first n items (a partial index) sees ids and rows
    through ``first(n)``: nothing beyond row n resolves."""
    n = 100
    ids, row_of = ml_columns.ids.first(n), ml_columns.row_of.first(n)
    assert len(ids) == len(row_of) == n
    assert list(ids) == list(ml.ids[:n]) == ids[:] and ids[-1] == ml.ids[n - 1]
    with pytest.raises(IndexError):
        ids[n]
    assert all(row_of[item_id] == row for row, item_id in enumerate(ml.ids[:n]))
    beyond = ml.ids[n]
    assert beyond not in row_of and row_of.get(beyond) is None and ml_columns.row_of[beyond] == n
    with pytest.raises(KeyError):
        row_of[beyond]
    assert list(row_of) == list(ids) and len(ids.first(10 * n)) == n


def test_a_large_custom_catalog_is_loaded_as_columns_and_cached(tmp_path: Path):
    path = SyntheticCatalog(1200, seed=5).write_jsonl(tmp_path / "shop.jsonl")
    settings = Settings(home=tmp_path / "home", columnar_min_items=1000)
    first = load_catalog(str(path), settings)
    assert isinstance(first, ColumnarCatalog)
    plain = load_custom(path)
    assert first.fingerprint() == plain.fingerprint()
    assert [first[i] for i in plain.ids[:50]] == [plain[i] for i in plain.ids[:50]]
    again = load_catalog(str(path), settings)
    assert isinstance(again, ColumnarCatalog) and again.folder == first.folder
    small = load_catalog(str(path), Settings(home=tmp_path / "home2", columnar_min_items=5000))
    assert not isinstance(small, ColumnarCatalog) and small.fingerprint() == plain.fingerprint()


def test_a_duplicate_id_in_a_large_catalog_is_a_clear_error(tmp_path: Path):
    path = SyntheticCatalog(1100, seed=1).write_jsonl(tmp_path / "dup.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[3]]) + "\n", encoding="utf-8")
    with pytest.raises(CatalogFormatError, match=r"dup.jsonl:1101: .*duplicate id 's3'.*line 4"):
        load_catalog(str(path), Settings(home=tmp_path / "home", columnar_min_items=1000))
    assert not list((tmp_path / "home").rglob("*.columns"))
