"""The pinned sources and the derived ReDial → MovieLens table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from chatrec.catalog import sources
from chatrec.catalog.redial_map import COLUMNS, MISMATCH, OK, UNKNOWN, build_redial_map, write_redial_map, year_check


def _sha256sums(data_dir: Path) -> dict[str, str]:
    pins = {}
    for line in (data_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        pins[name.removeprefix("./")] = digest
    return pins


def test_every_shared_file_is_pinned_with_its_checksum(data_dir):
    pins = _sha256sums(data_dir)
    derived = {d.path for d in sources.DERIVED}
    assert {f.path: f.sha256 for f in sources.FILES} == {
        path: digest for path, digest in pins.items() if path not in derived}
    assert derived == {"redial/redial_to_movielens.csv"} and derived <= pins.keys()


def test_urls_are_pinned_to_commits():
    ratings = sources.FILES_BY_PATH["movielens/ml-latest-small/ratings.csv"]
    assert ratings.url() == "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
    assert ratings.member == "ml-latest-small/ratings.csv"
    facts = sources.FILES_BY_PATH["redial/ievalm/id2info.json"]
    assert facts.url() == ("https://raw.githubusercontent.com/RUCAIBox/iEvaLM-CRS/"
                           "162e2f442fb0799550af587dce0285a2d5ca897f/data/redial/id2info.json")
    for file in sources.FILES:
        if file.host == "github":
            commit = file.remote.split("/")[2]
            assert len(commit) == 40 and int(commit, 16) >= 0, file.path


def test_base_urls_can_be_overridden(monkeypatch):
    file = sources.FILES_BY_PATH["redial/original/movies_with_mentions.csv"]
    monkeypatch.setenv("CHATREC_GITHUB_RAW_URL", "http://mirror.example/gh/")
    assert file.url().startswith("http://mirror.example/gh/ReDialData/website/")
    assert file.url({"github": "http://127.0.0.1:9"}).startswith("http://127.0.0.1:9/ReDialData")


def test_select_by_path_prefix_and_derived():
    assert [f.path for f in sources.select(["movielens/ml-latest-small/"])] == [
        f"movielens/ml-latest-small/{n}" for n in
        ("README.txt", "links.csv", "movies.csv", "ratings.csv", "tags.csv")]
    derived = {f.path for f in sources.select(["redial/redial_to_movielens.csv"])}
    assert derived == set(sources.REDIAL_TO_MOVIELENS.inputs)
    assert len(sources.select(None)) == len(sources.FILES)
    with pytest.raises(KeyError):
        sources.select(["movielens/ml-latest-smal"])


def test_year_check():
    assert year_check(2009, 2010) == OK
    assert year_check(1984, 2010) == MISMATCH
    assert year_check(None, 1999) == UNKNOWN


def test_derived_map_agrees_with_the_shared_file(data_dir, tmp_path):
    shared = pd.read_csv(data_dir / "redial/redial_to_movielens.csv", dtype=str,
                         keep_default_na=False)
    ours = build_redial_map(data_dir)
    assert "redial_nbMentions" not in ours.columns  # never carried along (test-split leakage)
    assert list(ours["redial_movieId"]) == list(shared["redial_movieId"])
    ok = shared["year_check"] == OK
    assert ok.sum() == 3863
    keys = ["redial_movieId", "imdb_id", "ml_movieId", "ml_title", "tmdbId", "year_check"]
    pd.testing.assert_frame_equal(ours.loc[ok, keys].reset_index(drop=True),
                                  shared.loc[ok, keys].reset_index(drop=True))
    # The rest agrees too: the same 67 remakes rejected, the same 301 links without a year.
    assert ours["year_check"].value_counts().to_dict() == shared["year_check"].value_counts().to_dict()
    assert (ours["year_check"] == MISMATCH).sum() == 67
    # A remake: ReDial's 1984 film carries the IMDb id of the 2010 one.
    row = ours.set_index("redial_movieId").loc["77161"]
    assert (row["ml_title"], row["year_check"]) == ("Nightmare on Elm Street, A (2010)", MISMATCH)
    # Written to disk atomically, with our columns.
    written = write_redial_map(data_dir, tmp_path)
    assert written == tmp_path / "redial/redial_to_movielens.csv"
    assert list(pd.read_csv(written, nrows=1).columns) == list(COLUMNS)
    assert not list(written.parent.glob(".*.part"))
