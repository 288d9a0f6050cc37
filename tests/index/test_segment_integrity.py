"""A vector segment deleted or emptied under a built index is found when the index is opened
(the count comes from Chroma's SQLite, which still looks whole: a search must reach the items),
reported in one line with a step that deletes nothing, and a plain ``chatrec build`` repairs it."""

from __future__ import annotations

import shutil

import pytest

from chatrec.errors import IndexCorruptError
from chatrec.index import ItemIndex
from chatrec.testing.small_index import HashEmbedder

pytestmark = pytest.mark.usefixtures("data_dir")


@pytest.fixture(scope="module")
def twelve_hundred_movies(data_dir, tmp_path_factory):
    """Above 1,000 items Chroma moves vectors from its log into an HNSW segment folder."""
    from chatrec.catalog.loader import load_catalog
    from chatrec.config import get_settings

    full = load_catalog("movielens", get_settings())
    return full.subset(full.ids[:1200], name="segments")


def _segments(index: ItemIndex):
    return [header.parent for header in (index.location / "chroma").glob("*/header.bin")]


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_a_missing_vector_segment_is_found_at_load_and_a_plain_build_repairs_it(
        damage, scratch_settings, twelve_hundred_movies):
    embedder = HashEmbedder()
    index = ItemIndex.build(twelve_hundred_movies, scratch_settings, embedder=embedder, progress=False,
                            cache=None)
    assert len(index.query("a love story", k=5)) == 5
    segments = _segments(index)
    assert segments, "Chroma should have written an HNSW segment for 1,200 items"
    index.close()
    for folder in segments:
        if damage == "deleted":
            shutil.rmtree(folder)
        else:
            for path in folder.iterdir():
                path.unlink()

    with pytest.raises(IndexCorruptError) as raised:
        ItemIndex.open(twelve_hundred_movies, scratch_settings, embedder=embedder)
    message = str(raised.value)
    assert "segment" in message and "\n" not in message
    assert "--rebuild" not in message and "aside" not in message and "run `chatrec build --catalog " in message

    repaired = ItemIndex.build(twelve_hundred_movies, scratch_settings, embedder=embedder, progress=False,
                               cache=None)
    assert repaired.count() == len(twelve_hundred_movies)
    assert len(repaired.query("a love story", k=5)) == 5
    assert len(ItemIndex.open(twelve_hundred_movies, scratch_settings, embedder=embedder)
               .query("a love story", k=10)) == 10
