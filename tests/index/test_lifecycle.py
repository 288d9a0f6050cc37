"""The index on disk: survives a restart, reports damage clearly, rebuilds atomically, and
updates incrementally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from chatrec.catalog.commands import build_command
from chatrec.catalog.constraints import ItemFilter
from chatrec.catalog.loader import load_catalog
from chatrec.errors import IndexCorruptError, IndexMissingError
from chatrec.index import ItemIndex
from chatrec.index.cache import EmbeddingCache
from chatrec.index.documents import document_text
from chatrec.testing.small_index import HashEmbedder

pytestmark = pytest.mark.usefixtures("data_dir")


def test_index_survives_a_process_restart(small_index, small_movies, session_settings,
                                          index_cache_root):
    """Reopen the session's index in a new Python process and query it there."""
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from chatrec.config import get_settings
        from chatrec.index import ItemIndex
        from chatrec.testing.small_index import shared_embedder, small_catalog
        settings = get_settings()
        catalog = small_catalog(settings)
        embedder = shared_embedder(settings, Path(sys.argv[1]))
        index = ItemIndex.open(catalog, settings, embedder=embedder)
        hits = index.query("space exploration and time", k=10)
        print(json.dumps({"count": index.count(), "ids": [i for i, _ in hits],
                          "backend": embedder.backend}))
    """)
    env = {**os.environ, "CHATREC_HOME": str(session_settings.home),
           "CHATREC_DATA_DIR": str(session_settings.data_dir)}
    done = subprocess.run([sys.executable, "-c", script, str(index_cache_root)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["count"] == len(small_movies)
    assert small_movies.find_title("Interstellar")[0].id in result["ids"]
    assert result["ids"] == [i for i, _ in small_index.query("space exploration and time", k=10)]


def test_missing_index_names_the_exact_build_command(scratch_settings, tiny_movies, embedder,
                                                     tmp_path):
    catalog_file = tmp_path / "my films.jsonl"
    catalog_file.write_text("".join(json.dumps({"id": item.id, "title": item.title}) + "\n"
                                    for item in tiny_movies), encoding="utf-8")
    custom = load_catalog(str(catalog_file), scratch_settings)
    with pytest.raises(IndexMissingError) as missing:
        ItemIndex.open(custom, scratch_settings, embedder=embedder)
    assert f"run `chatrec build --catalog '{catalog_file.resolve()}'`" in str(missing.value)
    assert build_command("redial") == "chatrec build --catalog redial"
    assert build_command("movielens", rebuild=True) == "chatrec build --catalog movielens --rebuild"


def _damage_sqlite(folder):
    path = folder / "chroma" / "chroma.sqlite3"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _damage_hnsw(folder):
    files = list((folder / "chroma").glob("*/data_level0.bin"))
    assert files, "Chroma should have written its HNSW segment"
    for path in files:
        path.write_bytes(os.urandom(1000))


def _drop_manifest(folder):
    (folder / "manifest.json").unlink()


def _garbage_sqlite(folder):
    (folder / "chroma" / "chroma.sqlite3").write_bytes(b"not a database" * 1000)


@pytest.fixture(scope="session")
def thousand_movies(session_settings):
    """1,200 movies: below 1,000 items Chroma keeps vectors in its log and never reads the HNSW
    files, so damage there would go unnoticed."""
    from chatrec.catalog.loader import load_catalog

    full = load_catalog("movielens", session_settings)
    return full.subset(full.ids[:1200], name="thousand")


@pytest.mark.parametrize("damage", [_damage_sqlite, _garbage_sqlite, _damage_hnsw, _drop_manifest])
def test_damaged_index_gives_a_clear_error_and_rebuild_recovers(damage, scratch_settings,
                                                                thousand_movies, tmp_path):
    # Index mechanics on 1,200 items: the fast hashing embedder stands in for MiniLM.
    embedder = HashEmbedder()

    def build(rebuild=False):
        return ItemIndex.build(thousand_movies, scratch_settings, embedder=embedder,
                               rebuild=rebuild, progress=False, cache=None)

    index = build()
    folder = index.location
    index.close()
    damage(folder)
    with pytest.raises(IndexCorruptError,
                       match=r"run `chatrec build --catalog \S+`: it builds a fresh index beside"):
        ItemIndex.open(thousand_movies, scratch_settings, embedder=embedder)
    rebuilt = build(rebuild=True)
    assert rebuilt.count() == len(thousand_movies)
    assert len(rebuilt.query("a love story", k=5)) == 5
    reopened = ItemIndex.open(thousand_movies, scratch_settings, embedder=embedder)
    assert reopened.count() == len(thousand_movies)


def test_plain_build_also_replaces_a_damaged_index(build_scratch, tiny_movies):
    index = build_scratch(tiny_movies)
    folder = index.location
    index.close()
    _garbage_sqlite(folder)
    assert build_scratch(tiny_movies).count() == len(tiny_movies)


class _Exploding:
    """A real embedder that fails after some texts: a crash in the middle of a build."""

    def __init__(self, inner, fail_after):
        self.inner, self.fail_after = inner, fail_after
        self.name, self.dim, self.seen = inner.name, inner.dim, 0

    def embed(self, texts):
        self.seen += len(texts)
        if self.seen > self.fail_after:
            raise RuntimeError("simulated crash")
        return self.inner.embed(texts)


def test_a_crash_mid_build_leaves_the_old_index_in_place(build_scratch, scratch_settings,
                                                         tiny_movies, small_movies, embedder,
                                                         tmp_path):
    old = build_scratch(tiny_movies)
    folder = old.location
    old.close()
    bigger = small_movies.subset(small_movies.ids[:80], name=tiny_movies.name)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ItemIndex.build(bigger, scratch_settings, embedder=_Exploding(embedder, 10),
                        rebuild=True, progress=False, cache=EmbeddingCache(tmp_path, "x", 384))
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")
                 and not p.name.endswith(".lock")]
    assert leftovers == []
    reopened = ItemIndex.open(tiny_movies, scratch_settings, embedder=embedder)
    assert reopened.count() == len(tiny_movies)


def test_upsert_reembeds_only_changed_items(build_scratch, tiny_movies, embedder, tmp_path):
    index = build_scratch(tiny_movies)
    items = list(tiny_movies)
    story = items[0].model_copy(update={
        "description": "A lighthouse keeper befriends a giant octopus during a winter storm."})
    popular = items[1].model_copy(update={"popularity": items[1].popularity + 1000})
    newcomer = items[2].model_copy(update={
        "id": "new-1", "title": "Octopus Winter", "description": "Tentacles and snow."})
    changed = [story, popular, newcomer, *items[3:]]
    before = embedder.texts_embedded
    # A fresh cache: a changed text can only come from the model.
    report = index.upsert(changed, cache=EmbeddingCache(tmp_path, embedder.name, embedder.dim))
    assert embedder.texts_embedded - before == 2
    assert (report.added, report.reembedded, report.metadata_only, report.embedded) == (1, 1, 1, 2)
    assert report.unchanged == len(items) - 3
    assert index.count() == len(items) + 1

    top = [i for i, _ in index.query("lighthouse keeper and a giant octopus", k=2)]
    assert story.id in top and "new-1" in top
    ids, matrix = index.vectors()
    assert len(ids) == index.count() == matrix.shape[0]
    assert np.allclose(matrix[ids.index(story.id)], embedder.embed_query(document_text(story)),
                       atol=1e-5)
    # The popularity change reached the metadata that filters read.
    stored = index._collection.get(ids=[popular.id], include=["metadatas"])["metadatas"][0]
    assert stored["popularity"] == popular.popularity

    again = index.upsert(changed)
    assert (again.added, again.reembedded, again.metadata_only, again.embedded) == (0, 0, 0, 0)


def test_sync_removes_items_gone_from_the_catalog_and_persists(build_scratch, scratch_settings,
                                                               tiny_movies, embedder):
    build_scratch(tiny_movies)
    smaller = tiny_movies.subset(tiny_movies.ids[:30], name=tiny_movies.name)
    index = build_scratch(smaller)  # not a rebuild: brought up to date in place
    assert index.count() == 30
    gone = set(tiny_movies.ids[30:])
    everything = {i for i, _ in index.query("film", k=100)}
    assert everything and not everything & gone
    reopened = ItemIndex.open(smaller, scratch_settings, embedder=embedder)
    assert reopened.count() == 30 and len(reopened.vectors()[0]) == 30
    assert not gone & {i for i, _ in reopened.query("film", k=100, flt=ItemFilter())}


def test_an_index_of_another_model_must_be_rebuilt(build_scratch, scratch_settings, tiny_movies,
                                                   embedder):
    index = build_scratch(tiny_movies)
    manifest = json.loads((index.location / "manifest.json").read_text())
    manifest["model"] = "some-other-model"
    (index.location / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="some-other-model"):
        ItemIndex.open(tiny_movies, scratch_settings, embedder=embedder)
