"""``chatrec eval offline``: MovieLens top-10 with a per-user temporal hold-out.

Each user's last rated movie is the test item and the one before it the validation item (ties in
time broken by item id). Baselines are tuned on the validation item (fitted without it), then
refitted on everything but the test item; the agent ranks with the user's training history as its
only input (``respond`` then ``rank(k=10)`` for user ``ml:<id>`` on a catalog whose interactions
are the training split). Every system ranks all items the user has not rated in training: no
sampled negatives.
"""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from chatrec.config import Settings
from chatrec.evaluation import metrics as M
from chatrec.evaluation.baselines import ImplicitMF, ItemKNN, ItemSpace, Popularity
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

logger = logging.getLogger(__name__)

K = 10
OPENING = "What should I watch tonight?"
KNN_GRID = {"neighbours": [10, 20, 50, 100, 200], "shrink": [0.0, 10.0]}
ALS_GRID = {
    "factors": [16, 32, 64, 128],
    "regularization": [0.01, 0.1, 1.0],
    "alpha": [1.0, 10.0, 40.0],
}
BPR_GRID = {
    "factors": [32, 64],
    "learning_rate": [0.01, 0.05],
    "regularization": [0.001, 0.01],
    "iterations": [100],
}


class OfflineConfig(BaseModel):
    """What determines an offline run.

    Attributes:
        seed: random state of the factorisation models.
        weights: FusionWeights overrides for the agent (None = its defaults).
        baselines: which classic baselines run.
        tune: tune baseline hyper-parameters on the validation item (else library defaults).
    """

    seed: int = 0
    weights: dict[str, float] | None = None
    baselines: list[str] = Field(
        default_factory=lambda: ["popularity", "item-knn", "mf-als", "mf-bpr"]
    )
    tune: bool = True
    with_index: bool = True


def temporal_split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train, validation, test): per user the last interaction is test, the one before
    validation. Users with fewer than three interactions keep everything in train."""
    ordered = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    position = ordered.groupby("user_id").cumcount(ascending=False)
    counts = ordered.groupby("user_id")["item_id"].transform("size")
    eligible = counts >= 3
    test = ordered[(position == 0) & eligible]
    validation = ordered[(position == 1) & eligible]
    train = ordered[~(((position == 0) | (position == 1)) & eligible)]
    return train, validation, test


def _score(ranked: list[str], gold: str) -> tuple[float, float]:
    return M.hit_at(ranked, gold, K), M.ndcg_at(ranked, gold, K)


def _evaluate(
    rank_fn, truth: pd.DataFrame, seen: dict[str, set[str]]
) -> dict[str, tuple[float, float]]:
    out = {}
    for user, item in zip(truth["user_id"], truth["item_id"], strict=True):
        out[user] = _score(rank_fn(user, seen.get(user, set())), item)
    return out


def _seen(frame: pd.DataFrame) -> dict[str, set[str]]:
    return {u: set(part) for u, part in frame.groupby("user_id")["item_id"]}


def _history_seeds(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {u: {i: 1.0 for i in part} for u, part in frame.groupby("user_id")["item_id"]}


def fit_baseline(name: str, params: dict, space: ItemSpace, train: pd.DataFrame, seed: int):
    """A fitted baseline and its ``rank(user, seen)`` function."""
    if name == "popularity":
        model = Popularity.from_frame(space, train)
        return model, lambda user, seen: model.rank(K, seen)
    if name == "item-knn":
        model = ItemKNN(space, **params).fit(train)
        seeds = _history_seeds(train)
        return model, lambda user, seen: model.rank(seeds.get(user, {}), K, seen)
    if name in ("mf-als", "mf-bpr"):
        model = ImplicitMF(space, name.split("-")[1], seed=seed, **params).fit(train)
        return model, lambda user, seen: model.rank(user, K, seen)
    raise ValueError(f"unknown baseline {name!r}")


def _grid(name: str) -> list[dict]:
    grid = {"item-knn": KNN_GRID, "mf-als": ALS_GRID, "mf-bpr": BPR_GRID}.get(name)
    if not grid:
        return [{}]
    keys = list(grid)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]


def tune_baselines(
    names: list[str],
    space: ItemSpace,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    seed: int,
    show_progress: bool,
) -> dict[str, dict]:
    """Best hyper-parameters per baseline by validation NDCG@10 (fitted without the validation
    items). Returns name → {"params", "validation_ndcg@10", "grid"}."""
    seen = _seen(train)
    chosen = {}
    for name in names:
        trials = []
        for params in progress(_grid(name), len(_grid(name)), f"tune {name}", show_progress):
            _, rank = fit_baseline(name, params, space, train, seed)
            scores = _evaluate(rank, validation, seen)
            trials.append(
                {
                    "params": params,
                    "ndcg@10": round(float(np.mean([s[1] for s in scores.values()])), 5),
                }
            )
        best = max(trials, key=lambda t: t["ndcg@10"])
        chosen[name] = {
            "params": best["params"],
            "validation_ndcg@10": best["ndcg@10"],
            "grid": trials,
        }
    return chosen


def agent_for(
    catalog_train,
    settings: Settings,
    full,
    weights: dict | None,
    index=None,
    with_index: bool = True,
):
    from chatrec.agent import Agent
    from chatrec.agent.retrieve import FusionWeights
    from chatrec.evaluation.heldout import resources_for

    resources = resources_for(
        catalog_train, settings, index_catalog=full, index=index, with_index=with_index
    )
    return Agent(
        resources, store=None, llm=None, weights=FusionWeights(**weights) if weights else None
    )


def agent_rank(agent, user: str, k: int = K) -> list[str]:
    """The agent's top ``k`` for a MovieLens user, from their history alone."""
    session = f"offline:{user}"
    agent.reset(session)
    agent.respond(session, OPENING, user_id=f"ml:{user}")
    ranked = [r.item.id for r in agent.rank(session, k=k)]
    agent.forget(f"ml:{user}")
    return ranked


def run_offline(
    config: OfflineConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
) -> dict:
    from chatrec.catalog import load_catalog
    from chatrec.catalog.models import Interactions
    from chatrec.evaluation.heldout import with_interactions

    run = RunDir(out, "offline", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        full = load_catalog("movielens", settings)
        frame = full.interactions.frame
        train, validation, test = temporal_split(frame)
        train_val = pd.concat([train, validation], ignore_index=True)
        space = ItemSpace(full.ids)
    users = sorted(test["user_id"].unique(), key=lambda u: (len(u), u))
    if limit:
        users = users[:limit]
    test = test[test["user_id"].isin(set(users))]
    with run.timed("baselines.tune"):
        if config.tune:
            tuned = tune_baselines(
                config.baselines,
                space,
                train,
                validation[validation["user_id"].isin(set(users))],
                config.seed,
                show_progress,
            )
        else:
            tuned = {name: {"params": {}} for name in config.baselines}
    per_user: dict[str, dict[str, tuple[float, float]]] = {}
    seen = _seen(train_val)
    for name in config.baselines:
        with run.timed(f"baseline.{name}"):
            _, rank = fit_baseline(name, tuned[name]["params"], space, train_val, config.seed)
            per_user[name] = _evaluate(rank, test, seen)

    with run.timed("agent.setup"):
        catalog_train = with_interactions(full, Interactions(train_val))
        agent = agent_for(
            catalog_train, settings, full, config.weights, with_index=config.with_index
        )
    done = run.done()
    truth = dict(zip(test["user_id"], test["item_id"], strict=True))
    with LogTally() as tally, run.timed("agent.rank"):
        for user in progress(users, len(users), "agent", show_progress):
            if user in done:
                continue
            started = time.perf_counter()
            ranked = agent_rank(agent, user)
            hr, ndcg = _score(ranked, truth[user])
            record = {
                "test_item": truth[user],
                "ranked": ranked,
                "hr@10": hr,
                "ndcg@10": ndcg,
                "seconds": round(time.perf_counter() - started, 3),
            }
            run.record(user, record)
            done[user] = record
    per_user["agent"] = {u: (done[u]["hr@10"], done[u]["ndcg@10"]) for u in users if u in done}

    metrics = summarise(per_user, users, config.seed)
    metrics["agent_warnings"] = tally.summary()
    metrics["agent_config"] = agent.config.model_dump(mode="json")
    metrics["tuning"] = {
        name: {k: v for k, v in t.items() if k != "grid"} for name, t in tuned.items()
    }
    metrics["tuning_grids"] = {name: t.get("grid", []) for name, t in tuned.items()}
    metrics["split"] = {
        "train": len(train),
        "validation": len(validation),
        "test": len(test),
        "users": len(users),
        "rule": "per user: last rated = test, the one before = validation (ties by item id)",
    }
    run.write_results(metrics, provenance(full))
    from chatrec.evaluation.report_offline import write_offline_report

    write_offline_report(run, metrics)
    return metrics


def summarise(
    per_user: dict[str, dict[str, tuple[float, float]]], users: list[str], seed: int
) -> dict:
    out: dict = {"systems": {}}
    for name, scores in per_user.items():
        hr = [scores[u][0] for u in users if u in scores]
        ndcg = [scores[u][1] for u in users if u in scores]
        out["systems"][name] = {"hr@10": M.summary(hr, seed), "ndcg@10": M.summary(ndcg, seed)}
    if "agent" in per_user:
        out["hr@10"] = out["systems"]["agent"]["hr@10"]["mean"]
        out["ndcg@10"] = out["systems"]["agent"]["ndcg@10"]["mean"]
        classic = [n for n in per_user if n != "agent"]
        if classic:
            best = max(classic, key=lambda n: out["systems"][n]["ndcg@10"]["mean"])
            a = [per_user["agent"][u][1] for u in users if u in per_user["agent"]]
            b = [per_user[best][u][1] for u in users if u in per_user["agent"]]
            ratio, low, high = M.ratio_ci(a, b, seed)
            out["agent_vs_best_classic"] = {
                "baseline": best,
                "ndcg_ratio": M.finite(ratio, 3),
                "ci_low": M.finite(low, 3),
                "ci_high": M.finite(high, 3),
            }
    return out
