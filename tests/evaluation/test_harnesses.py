"""Smoke runs of every ``chatrec eval`` command on small limits (no vector index in the test
home: the vector-only baseline and the vector/content sources are left out), plus the exact
repeatability of a simulation for a seed."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("data_dir")


@pytest.fixture(scope="module")
def sim_runs(settings, tmp_path_factory):
    from chatrec.evaluation.simulate import SimConfig, run_sim

    config = SimConfig(users=12, seed=3, systems=["agent", "popularity", "collab"])
    outs = [tmp_path_factory.mktemp("sim-a"), tmp_path_factory.mktemp("sim-b")]
    metrics = [
        run_sim(config, settings, out, limit=4, show_progress=False, with_index=False)
        for out in outs
    ]
    return config, outs, metrics


def _records(out):
    return [json.loads(line)["record"] for line in open(out / "checkpoints" / "units.jsonl")]


def test_sim_is_exactly_repeatable(sim_runs):
    _, (a, b), (ma, mb) = sim_runs
    def strip(recs):
        return [{**r, "systems": {n: {**s, "seconds": 0} for n, s in r["systems"].items()}} for r in recs]
    assert strip(_records(a)) == strip(_records(b))
    assert ma == mb


def test_sim_results_and_report(sim_runs, movielens):
    config, (out, _), (metrics, _) = sim_runs
    results = json.loads((out / "results.json").read_text())
    assert results["n_users"] == 4 and set(results["systems"]) == {"agent", "popularity", "collab"}
    for system in results["systems"].values():
        per_turn = system["recall_per_turn"]
        assert len(per_turn) == config.turns and per_turn == sorted(per_turn)  # cumulative
        assert 1 <= system["avg_turns"]["mean"] <= config.turns + 1
    assert (
        results["provenance"]["git"]["commit"]
        and results["provenance"]["catalog"]["sources_sha256"]
    )
    assert results["consistent_items"]["median_final"] >= 1
    report = (out / "report.md").read_text()
    assert (
        "sim_recall_by_turn.png" in report
        and (out / "sim_recall_by_turn.png").stat().st_size > 1000
    )
    # the targets are gone from the interactions everything learns from, the rest is intact
    from chatrec.evaluation.heldout import heldout_catalog
    from chatrec.evaluation.simulate import pick_targets

    pairs = pick_targets(movielens, config)
    held = heldout_catalog(movielens, pairs)
    assert len(held.interactions) == len(movielens.interactions) - len(pairs)
    for record in _records(out):
        history = set(held.interactions.history(record["user"])["item_id"])
        assert record["target"] not in history and history
        assert held[record["target"]].popularity == movielens[record["target"]].popularity - 1


def test_sim_resumes_without_redoing(sim_runs, settings):
    from chatrec.evaluation.simulate import run_sim

    config, (out, _), (metrics, _) = sim_runs
    before = (out / "checkpoints" / "units.jsonl").read_text()
    again = run_sim(config, settings, out, limit=4, show_progress=False, with_index=False)
    assert (out / "checkpoints" / "units.jsonl").read_text() == before
    assert again["systems"] == metrics["systems"]


def test_explain_on_the_sim_run(sim_runs, settings, tmp_path):
    from chatrec.evaluation.explain_eval import run_explain

    _, (out, _), _ = sim_runs
    result = run_explain(out, settings, tmp_path)
    agent, template = result["systems"]["agent"], result["systems"]["template"]
    assert agent["n"] == template["n"] > 0
    assert agent["kg_edge_share"] == 1.0
    assert agent["usr"] > template["usr"]
    assert (tmp_path / "report.md").exists()


def test_redial_raw_and_processed(settings, fixtures, tmp_path):
    from chatrec.evaluation.redial_eval import RedialConfig, run_redial

    raw = str(fixtures / "redial_raw.jsonl")
    config = RedialConfig(dialogues=raw, train=raw, with_index=False)
    metrics = run_redial(config, settings, tmp_path / "raw", show_progress=False)
    assert metrics["input"]["format"] == "dialogues"
    assert metrics["input"]["training"]["mode"].startswith("5-fold")
    # 391: {Step Brothers, Hangover} new, {Anchorman} named before; 402: {Up, Frozen}; 415: {Interstellar}
    assert (metrics["n_turns"], metrics["n_gold"], metrics["n_gold_new"]) == (4, 6, 5)
    # every fold's learnt parts come from the other folds' dialogues only
    for fold, learnt in metrics["input"]["learnt_components"].items():
        stats = [c for c in learnt["components"] if c["name"].startswith("dialogue statistics")]
        assert stats and stats[0]["learnt_from"] != "3 training dialogues", fold
    assert {"recall@1", "recall@10", "recall@50"} <= set(metrics)
    assert set(metrics["systems"]) == {"agent", "popularity", "ml_popularity", "item_cosine"}
    assert 0.0 <= metrics["recall@1"] <= metrics["recall@10"] <= metrics["recall@50"] <= 1.0

    turns = str(fixtures / "redial_turns.jsonl")
    config = RedialConfig(dialogues=turns, train=raw, with_index=False)
    metrics = run_redial(config, settings, tmp_path / "turns", show_progress=False)
    assert metrics["input"]["format"] == "turns" and metrics["input"]["training"][
        "mode"
    ].startswith("5-fold")
    assert (metrics["n_turns"], metrics["n_gold"], metrics["n_gold_new"], metrics["unmatched"]) == (
        2,
        5,
        4,
        1,
    )


@pytest.fixture(scope="module")
def offline_run(settings, tmp_path_factory):
    from chatrec.evaluation.offline import OfflineConfig, run_offline

    config = OfflineConfig(baselines=["popularity", "als"], budget=2, resamples=200,
                           with_index=False)
    out = tmp_path_factory.mktemp("offline")
    return config, out, run_offline(config, settings, out, limit=12, show_progress=False)


def test_offline_results_have_both_splits_with_intervals(offline_run):
    _, out, metrics = offline_run
    results = json.loads((out / "results.json").read_text())
    assert results["split"]["evaluated_users"] == 12
    assert set(results["baselines"]) == {"popularity", "als"}
    for block in (results["agent"], *results["baselines"].values()):
        assert block["settings"]
        for split in ("validation", "test"):
            for metric in ("ndcg@10", "hr@10"):
                low, high = block[split][f"{metric}_ci"]
                assert 0.0 <= low <= block[split][metric] <= high <= 1.0
    for split in ("validation", "test"):
        ratio = results["ratio_ndcg@10"][split]
        assert ratio["baseline"] in ("popularity", "als")
        if ratio["ratio"] is not None:
            assert ratio["ci_low"] <= ratio["ratio"] <= ratio["ci_high"]
    # the chosen settings are the best validation trial, never a test figure
    for name, block in results["baselines"].items():
        best = max(results["searches"][name], key=lambda t: t["ndcg@10"])
        assert block["settings"] == best["params"]
        assert block["validation"]["ndcg@10"] == pytest.approx(best["ndcg@10"], abs=1e-5)
    assert results["agent"]["settings"]["built_by"].startswith("Agent.from_config")
    report = (out / "report.md").read_text()
    assert "÷" in report and "offline_ndcg.png" in report
    assert metrics["target"]["rule"]


def test_offline_agent_never_ranks_what_the_user_rated_in_training(offline_run, movielens):
    from chatrec.evaluation.heldout import temporal_split

    _, out, _ = offline_run
    split = temporal_split(movielens.interactions.frame)
    records = [json.loads(line) for line in open(out / "checkpoints" / "agent.jsonl")]
    assert len(records) == 24  # 12 users × 2 splits
    for line in records:
        which, user = line["key"].split(":")
        log = split.learn_from(which)
        rated = set(log[log["user_id"] == user]["item_id"])
        record = line["record"]
        assert record["item"] == split.truth(which)[user] and record["item"] not in rated
        assert len(record["ranked"]) == 10 and not set(record["ranked"]) & rated


def test_offline_run_resumes_without_refitting(offline_run, settings):
    from chatrec.evaluation.offline import run_offline

    config, out, metrics = offline_run
    before = (out / "checkpoints" / "trials.jsonl").read_text()
    again = run_offline(config, settings, out, limit=12, show_progress=False)
    assert (out / "checkpoints" / "trials.jsonl").read_text() == before
    assert again["ratio_ndcg@10"] == metrics["ratio_ndcg@10"]
    assert again["agent"]["test"] == metrics["agent"]["test"]


def test_cli_sim(tmp_path):
    from typer.testing import CliRunner

    from chatrec.cli import app

    result = CliRunner().invoke(
        app,
        [
            "eval",
            "sim",
            "--users",
            "5",
            "--limit",
            "2",
            "--no-index",
            "--quiet",
            "--systems",
            "agent,popularity",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Simulated users" in result.output and (tmp_path / "results.json").exists()
    bad = CliRunner().invoke(
        app,
        [
            "eval",
            "sim",
            "--users",
            "6",
            "--limit",
            "2",
            "--no-index",
            "--quiet",
            "--systems",
            "agent,popularity",
            "--out",
            str(tmp_path),
        ],
    )
    assert bad.exit_code != 0


@pytest.mark.slow
def test_vector_baseline_on_a_real_index(small_resources):
    """Chat-Rec style: the dialogue so far is the query; nothing shown or seen comes back."""
    from chatrec.evaluation.systems import VectorSystem

    catalog = small_resources.catalog
    system = VectorSystem(catalog, 5, small_resources.index)
    system.start("s", None)
    first = system.turn("s", "a space exploration movie about astronauts and black holes")
    titles = [catalog[i].title for i in first.items]
    assert len(first.items) == 5 and {"Interstellar", "Gravity", "The Martian", "Moon"} & set(
        titles
    )
    second = system.turn("s", "something older please")
    assert len(second.items) == 5 and not set(second.items) & set(first.items)
