"""`chatrec bench agent`: the turn-latency benchmark runs end to end and prints its figures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from chatrec.bench.agent import run, script
from chatrec.cli import app


def test_the_scripted_turns_are_varied_and_every_turn_answers(agent):
    turns = script(agent, turns=40, sessions=10)
    assert len(turns) == 40 and len({sid for sid, _, _ in turns}) == 10
    assert len({message for _, message, _ in turns}) == 40   # distinct turns
    result = run(agent, turns=40, sessions=10, warmup=4)
    summary = result.summary()
    assert summary["turns"] == 40 and len(result.latencies_ms) == 40
    assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["max_ms"]
    assert {"understand", "retrieve"} <= set(summary["steps"]), summary["steps"]
    assert summary["decisions"].get("recommend", 0) >= 10, summary["decisions"]


def test_bench_agent_cli_on_a_custom_catalog(tmp_path, small_catalog):
    catalog_file = tmp_path / "films.jsonl"
    with catalog_file.open("w") as out:
        for item in small_catalog.popular(60):
            out.write(json.dumps({"id": item.id, "title": item.title, "year": item.year,
                                  "genres": item.genres, "directors": item.directors,
                                  "cast": item.cast[:4], "keywords": item.keywords[:5],
                                  "description": item.description, "kind": "movie"}) + "\n")
    figures_file = tmp_path / "agent.json"
    result = CliRunner().invoke(app, ["bench", "agent", "--catalog", str(catalog_file), "--turns", "30",
                                      "--sessions", "6", "--json", str(figures_file)])
    assert result.exit_code == 0, result.output
    assert "turn p50/p95/max" in result.output and "query cache hits" in result.output
    figures = json.loads(figures_file.read_text())
    assert figures["items"] == 60 and figures["turns"] == 30
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["query_embeddings"] > 0 and 0 <= figures["query_embedding_cache_hit_rate"] <= 1
