"""``chatrec bench scale`` end to end on a tiny synthetic catalog and a real Chroma server."""

from __future__ import annotations

import json

import pytest

from chatrec.bench.scale import main
from chatrec.bench.synthetic import SyntheticCatalog

pytestmark = pytest.mark.slow


def test_the_synthetic_catalog_is_deterministic_and_well_formed():
    first = [r for batch in SyntheticCatalog(3000, seed=4).batches(700) for r in batch]
    again = [r for batch in SyntheticCatalog(3000, seed=4).batches(1000) for r in batch]
    assert first == again                        # same seed: same items, whatever the batching
    assert first != [r for batch in SyntheticCatalog(3000, seed=5).batches() for r in batch]
    assert len({r["id"] for r in first}) == 3000
    assert all(r["genres"] and r["directors"] and 1920 <= r["year"] <= 2024 for r in first)
    vectors = SyntheticCatalog(3000, seed=4).vectors(100, 50)
    assert vectors.shape == (50, 384) and abs(float((vectors ** 2).sum(axis=1).mean()) - 1) < 1e-5
    assert (SyntheticCatalog(3000, seed=4).vectors(950, 100)[50:100] == SyntheticCatalog(3000, seed=4)
            .vectors(1000, 50)).all()


def test_bench_scale_writes_the_figures(chroma_server_url, tmp_path):
    out = tmp_path / "scale"
    code = main(["--items", "400", "--chroma-url", chroma_server_url, "--out", str(out),
                 "--queries", "20", "--turns", "8", "--batch", "150"])
    results = json.loads((out / "results.json").read_text())
    assert code == 0, results.get("error")
    for key in ("items", "index_docs_per_s", "query_p95_ms", "filtered_query_p95_ms", "turn_p95_ms",
                "worker_rss_mb"):
        assert key in results and results[key] > 0, key
    assert results["items"] == 400 and results["turns"] == 8
