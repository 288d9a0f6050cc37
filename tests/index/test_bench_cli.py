"""`chatrec bench index` runs end to end and prints every figure (a small --limit)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chatrec.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("data_dir")]


def test_bench_index_prints_the_figures(tmp_path, index_cache_root):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "index", "--limit", "30", "--queries", "200",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    for label in ("catalog + KG load", "raw embedding", "build / raw embedding",
                  "query with filters"):
        assert label in result.output
    figures = json.loads(out.read_text())
    assert figures["indexed_items"] == 30 and figures["queries_per_set"] == 200
    assert figures["build_s"] > 0 and figures["docs_per_s"] > 0
    assert 0 < figures["query_p50_ms"] <= figures["query_p95_ms"]
