"""``chatrec eval offline``: MovieLens top-10, the shipped agent against tuned library baselines.

The split is ``chatrec.evaluation.heldout.temporal_split`` (each user's last liked rating is the
test item, the liked rating before it the validation item). Per split, every system learns from
that split's training log only and ranks every item the user has not rated in it (no sampled
negatives):

* **baselines** (``chatrec.evaluation.baselines``: LensKit and ``implicit``): each gets the same
  budget of hyper-parameter trials drawn from its search space, scored on the validation split
  and learnt from the validation split's training log; the best trial's settings are then refitted
  on the test split's log. Nothing is chosen on the test split.
* **agent**: what ``Agent.from_config`` builds, learning from the split's log
  (``heldout.training_agent``); for each user ``rank(k=10)`` of a session attached to
  ``ml:<user>`` with no message: the user's history is the only input.

Intervals come from a paired bootstrap over users (the same resampled users for every system of a
split): each metric's mean, and the ratio of the agent's mean to the best baseline's.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from chatrec.config import Settings
from chatrec.evaluation import metrics as M
from chatrec.evaluation.baselines import LIBRARY, SEARCH_SPACES, ItemSpace, LibraryBaseline
from chatrec.evaluation.heldout import SPLITS, Split, TemporalSplit, temporal_split, training_agent
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

logger = logging.getLogger(__name__)

K = 10
METRICS = ("ndcg@10", "hr@10")
TARGET_RATIO = 1.1


class OfflineConfig(BaseModel):
    """What determines an offline run.

    Attributes:
        seed: random state of the factorisation models, of the trial draw and of the bootstrap.
        baselines: which library baselines run (keys of ``SEARCH_SPACES``).
        budget: hyper-parameter trials per baseline on the validation split (a space smaller than
            the budget is tried whole).
        resamples: bootstrap resamples of the users.
        with_index: False runs the agent without its vector index (an ablation, for tests).
        weights: FusionWeights overrides for the agent (an ablation: None is the shipped agent).
    """

    seed: int = 0
    baselines: list[str] = Field(default_factory=lambda: list(SEARCH_SPACES))
    budget: int = 16
    resamples: int = 2000
    with_index: bool = True
    weights: dict[str, float] | None = None


# ---------------------------------------------------------------------------- scoring
Ranker = Callable[[str], list[str]]


def score_users(rank: Ranker, truth: dict[str, str], users: list[str]) -> dict[str, list[float]]:
    """Per-user NDCG@10 and HR@10 (aligned with ``users``) of a ranking function."""
    ndcg, hit = [], []
    for user in users:
        ranked = rank(user)
        ndcg.append(M.ndcg_at(ranked, truth[user], K))
        hit.append(M.hit_at(ranked, truth[user], K))
    return {"ndcg@10": ndcg, "hr@10": hit}


def _rated(frame: pd.DataFrame) -> dict[str, set[str]]:
    return {str(u): set(part.astype(str)) for u, part in frame.groupby("user_id")["item_id"]}


def trials(name: str, budget: int, seed: int) -> list[dict]:
    """The hyper-parameter settings baseline ``name`` tries: ``budget`` of its grid, drawn
    without replacement (seeded), or the whole grid when it is no larger."""
    space = SEARCH_SPACES[name]
    keys = list(space)
    grid = [dict(zip(keys, values, strict=True)) for values in itertools.product(*space.values())]
    if len(grid) <= budget:
        return grid
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    return [grid[i] for i in sorted(rng.choice(len(grid), size=budget, replace=False))]


def baseline_ranker(baseline: LibraryBaseline, rated: dict[str, set[str]]) -> Ranker:
    return lambda user: baseline.rank(user, K, rated.get(user, ()))


def agent_ranker(agent, split: str) -> Ranker:
    """The agent's top 10 for a MovieLens user from their history alone (no message)."""

    def rank(user: str) -> list[str]:
        session = f"offline:{split}:{user}"
        ranked = [r.item.id for r in agent.rank(session, k=K, user_id=f"ml:{user}")]
        agent.reset(session)
        return ranked

    return rank


# ---------------------------------------------------------------------------- statistics
def bootstrap_indices(n_users: int, resamples: int, seed: int) -> np.ndarray:
    """Resampled user positions (resamples × n_users), shared by every system of a split so that
    comparisons are paired."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_users, size=(resamples, n_users))


def mean_interval(values: list[float], idx: np.ndarray) -> dict:
    data = np.asarray(values, dtype=np.float64)
    means = data[idx].mean(axis=1)
    return {
        "mean": M.finite(float(data.mean()), 5),
        "ci_low": M.finite(float(np.quantile(means, 0.025)), 5),
        "ci_high": M.finite(float(np.quantile(means, 0.975)), 5),
    }


def ratio_interval(numerator: list[float], denominator: list[float], idx: np.ndarray) -> dict:
    """Ratio of two systems' means over the same users, with its paired percentile interval."""
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if b.sum() == 0:
        return {"ratio": None, "ci_low": None, "ci_high": None}
    sums_a, sums_b = a[idx].sum(axis=1), b[idx].sum(axis=1)
    ratios = np.divide(sums_a, sums_b, out=np.full(len(sums_a), np.nan), where=sums_b > 0)
    return {
        "ratio": M.finite(float(a.sum() / b.sum()), 4),
        "ci_low": M.finite(float(np.nanquantile(ratios, 0.025)), 4),
        "ci_high": M.finite(float(np.nanquantile(ratios, 0.975)), 4),
    }


def summarise_split(per_user: dict[str, dict[str, list[float]]], resamples: int, seed: int) -> dict:
    """Every system's metrics with intervals, and the agent's ratios to the best baseline (by
    this split's NDCG@10) and to each baseline, for one split."""
    n_users = len(next(iter(per_user.values()))["ndcg@10"])
    idx = bootstrap_indices(n_users, resamples, seed)
    systems = {
        name: {metric: mean_interval(scores[metric], idx) for metric in METRICS}
        for name, scores in per_user.items()
    }
    out: dict = {"systems": systems, "users": n_users}
    baselines = [n for n in per_user if n != "agent"]
    if "agent" not in per_user or not baselines:
        return out
    best = max(baselines, key=lambda n: (systems[n]["ndcg@10"]["mean"] or 0.0, n))
    for metric in METRICS:
        out[f"ratio_{metric}"] = {
            "baseline": best,
            **ratio_interval(per_user["agent"][metric], per_user[best][metric], idx),
        }
    out["ratio_ndcg@10_each"] = {
        name: ratio_interval(per_user["agent"]["ndcg@10"], per_user[name]["ndcg@10"], idx)
        for name in baselines
    }
    return out


# ---------------------------------------------------------------------------- the run
def tune_baseline(
    name: str,
    config: OfflineConfig,
    space: ItemSpace,
    split: TemporalSplit,
    users: list[str],
    run: RunDir,
    show_progress: bool,
) -> list[dict]:
    """Every trial of ``name`` on the validation split (resumed from the run's checkpoints)."""
    truth = split.truth("validation")
    log = split.learn_from("validation")
    rated = _rated(log)
    done = run.done("trials")
    out = []
    todo = trials(name, config.budget, config.seed)
    for params in progress(todo, len(todo), f"tune {name}", show_progress):
        key = f"{name}:{json.dumps(params, sort_keys=True)}"
        if key not in done:
            started = time.perf_counter()
            baseline = LibraryBaseline(name, params, space, config.seed).fit(log)
            scores = score_users(baseline_ranker(baseline, rated), truth, users)
            done[key] = {
                "baseline": name,
                "params": params,
                "ndcg@10": round(float(np.mean(scores["ndcg@10"])), 5),
                "hr@10": round(float(np.mean(scores["hr@10"])), 5),
                "seconds": round(time.perf_counter() - started, 1),
                "per_user": {m: [round(v, 5) for v in scores[m]] for m in METRICS},
            }
            run.record(key, done[key], "trials")
        out.append(done[key])
    return out


def evaluate_agent(
    config: OfflineConfig,
    settings: Settings,
    split: TemporalSplit,
    which: Split,
    users: list[str],
    run: RunDir,
    show_progress: bool,
) -> tuple[dict[str, list[float]], dict]:
    """The agent's per-user scores on ``which`` (resumed per user) and its settings."""
    done = run.done("agent")
    todo = [u for u in users if f"{which}:{u}" not in done]
    agent_settings: dict = {}
    if todo or not run.done("agent_settings"):
        with run.timed(f"agent.{which}.build"):
            agent = training_agent(
                "movielens", split.learn_from(which), settings, with_index=config.with_index,
                weights=config.weights,
            )
        agent_settings = describe_agent(agent)
        run.record(which, agent_settings, "agent_settings")
        truth = split.truth(which)
        rank = agent_ranker(agent, which)
        with run.timed(f"agent.{which}.rank"):
            for user in progress(todo, len(todo), f"agent ({which})", show_progress):
                started = time.perf_counter()
                ranked = rank(user)
                done[f"{which}:{user}"] = record = {
                    "item": truth[user],
                    "ranked": ranked,
                    "ndcg@10": M.ndcg_at(ranked, truth[user], K),
                    "hr@10": M.hit_at(ranked, truth[user], K),
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
                run.record(f"{which}:{user}", record, "agent")
    agent_settings = run.done("agent_settings").get(which, agent_settings)
    scores = {m: [float(done[f"{which}:{u}"][m]) for u in users] for m in METRICS}
    return scores, agent_settings


def describe_agent(agent) -> dict:
    """What the evaluated agent is made of, for results.json: its policy (``AgentConfig``) and
    what it learnt from."""
    catalog = agent.catalog
    return {
        "built_by": "Agent.from_config('movielens', interactions=<the split's training log>)",
        "agent_config": agent.config.model_dump(mode="json"),
        "learnt_from_interactions": len(catalog.interactions) if catalog.interactions else 0,
        "vector_index": agent.resources.index is not None,
    }


def run_offline(
    config: OfflineConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
) -> dict:
    from chatrec.catalog import load_catalog

    unknown = [n for n in config.baselines if n not in SEARCH_SPACES]
    if unknown:
        raise ValueError(f"unknown baselines {unknown} (known: {', '.join(SEARCH_SPACES)})")
    run = RunDir(out, "offline", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        full = load_catalog("movielens", settings)
        assert full.interactions is not None
        split = temporal_split(full.interactions.frame)
        space = ItemSpace(full.ids)
    users = split.users()[:limit] if limit else split.users()

    per_split: dict[str, dict[str, dict[str, list[float]]]] = {s: {} for s in SPLITS}
    searches: dict[str, list[dict]] = {}
    chosen: dict[str, dict] = {}
    for name in config.baselines:
        with run.timed(f"tune.{name}"):
            searches[name] = tune_baseline(name, config, space, split, users, run, show_progress)
        best = max(searches[name], key=lambda t: t["ndcg@10"])
        chosen[name] = best["params"]
        per_split["validation"][name] = best["per_user"]
        with run.timed(f"test.{name}"):
            per_split["test"][name] = _test_scores(name, best["params"], config, space, split,
                                                   users, run)

    agent_settings = {}
    with LogTally() as tally:
        for which in SPLITS:
            per_split[which]["agent"], agent_settings[which] = evaluate_agent(
                config, settings, split, which, users, run, show_progress
            )

    summaries = {s: summarise_split(per_split[s], config.resamples, config.seed) for s in SPLITS}
    results = assemble(config, summaries, chosen, searches, agent_settings, split, users)
    results["agent_warnings"] = tally.summary()
    run.write_results(results, provenance(full))
    from chatrec.evaluation.report_offline import write_offline_report

    write_offline_report(run, results)
    return results


def _test_scores(name: str, params: dict, config: OfflineConfig, space: ItemSpace,
                 split: TemporalSplit, users: list[str], run: RunDir) -> dict[str, list[float]]:
    key = f"{name}:{json.dumps(params, sort_keys=True)}"
    done = run.done("test")
    if key not in done:
        log = split.learn_from("test")
        baseline = LibraryBaseline(name, params, space, config.seed).fit(log)
        done[key] = score_users(baseline_ranker(baseline, _rated(log)), split.truth("test"), users)
        run.record(key, done[key], "test")
    return done[key]


def assemble(config: OfflineConfig, summaries: dict, chosen: dict, searches: dict,
             agent_settings: dict, split: TemporalSplit, users: list[str]) -> dict:
    """results.json: ``agent`` and ``baselines`` (settings and, per split, NDCG@10 / HR@10 with
    intervals), ``ratio_ndcg@10`` and ``ratio_hr@10`` per split, the split and the searches."""

    def metrics_of(name: str) -> dict:
        out = {}
        for s in SPLITS:
            system = summaries[s]["systems"][name]
            out[s] = {}
            for metric in METRICS:
                out[s][metric] = system[metric]["mean"]
                out[s][f"{metric}_ci"] = [system[metric]["ci_low"], system[metric]["ci_high"]]
        return out

    results: dict = {
        "agent": {"settings": agent_settings.get("test") or agent_settings.get("validation"),
                  **metrics_of("agent")},
        "baselines": {
            name: {"library": LIBRARY[name], "settings": chosen[name], **metrics_of(name)}
            for name in chosen
        },
    }
    for metric in METRICS:
        results[f"ratio_{metric}"] = {s: summaries[s].get(f"ratio_{metric}") for s in SPLITS}
    results["ratio_ndcg@10_each"] = {s: summaries[s].get("ratio_ndcg@10_each") for s in SPLITS}
    test_ratio = (results["ratio_ndcg@10"]["test"] or {})
    validation_ratio = (results["ratio_ndcg@10"]["validation"] or {})
    results["target"] = {
        "rule": f"test NDCG@10 ratio ≥ {TARGET_RATIO} with ci_low > 1.0, validation ratio ≥ 1.0",
        "met": bool(
            (test_ratio.get("ratio") or 0) >= TARGET_RATIO
            and (test_ratio.get("ci_low") or 0) > 1.0
            and (validation_ratio.get("ratio") or 0) >= 1.0
        ),
    }
    results["split"] = {**split.summary(), "evaluated_users": len(users)}
    results["protocol"] = {
        "k": K,
        "candidates": "every catalog item the user has not rated in the split's training log",
        "agent_input": "Agent.rank(k=10) for user ml:<id>, no message (history only)",
        "bootstrap": {"unit": "user", "paired": True, "resamples": config.resamples,
                      "interval": "95% percentile", "seed": config.seed},
        "tuning": {"split": "validation", "objective": "ndcg@10", "budget": config.budget,
                   "draw": "uniform without replacement from each grid, seeded"},
        "ablation": {"weights": config.weights} if config.weights else None,
    }
    results["search_spaces"] = {name: SEARCH_SPACES[name] for name in chosen}
    results["searches"] = {
        name: [{k: v for k, v in t.items() if k != "per_user"} for t in trials_]
        for name, trials_ in searches.items()
    }
    return results
