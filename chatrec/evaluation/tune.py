"""Choosing how the agent learns, on the ReDial validation fold only.

``python -m chatrec.evaluation.tune --out DIR`` records the base agent's query before every
recommender turn of the dev dialogues once (``DIR/recorded.pkl``, reused by later runs), learns
with the build's code on the training folds (every fold but ``VALIDATION_FOLD``) and prints
Recall@10/50 of the learnt ranker on the validation fold's recorded queries, and of the hand-set
fusion for comparison, and where the gold films are lost before the ranker (candidate recall,
per source). Seconds per setting instead of a full replay; the reported figures come
from ``chatrec eval redial`` (the real agent, every fold), whose test folds nothing here reads.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
from pathlib import Path

from chatrec.catalog.redial_dialogues import fold_of
from chatrec.evaluation.redial_eval import FOLDS, VALIDATION_FOLD

logger = logging.getLogger(__name__)


def recall(rankings: list[list[str]], answers: list[set[str]], k: int) -> float:
    hits = total = 0
    for ranked, gold in zip(rankings, answers, strict=True):
        total += len(gold)
        hits += len(gold & set(ranked[:k]))
    return hits / total if total else 0.0


def candidate_recall(retriever, features, recorded: list, depths: tuple[int, ...] = (25, 150)) -> dict:
    """Where the gold films are lost before the ranker: how many are in the catalog, pass the
    query's hard constraints ("reachable"), are among the ranker's candidates, and, per source,
    the share of reachable gold the source scores at all and within its top ``depths``."""
    import numpy as np

    table = retriever.table
    counts = {"gold": 0, "in_catalog": 0, "reachable": 0, "in_candidates": 0}
    per_source: dict[str, dict[str, int]] = {}
    for record in recorded:
        counts["gold"] += len(record.answers)
        signals = retriever.signals(record.query)
        rows = [table.pos[i] for i in record.answers if i in table.pos]
        counts["in_catalog"] += len(rows)
        if signals is None:
            continue
        rows = [r for r in rows if signals.mask[r]]
        counts["reachable"] += len(rows)
        pool = set(features.pool(signals).tolist())
        counts["in_candidates"] += sum(r in pool for r in rows)
        for name, scores in [("fused", signals.fused), *signals.per_source.items()]:
            tally = per_source.setdefault(name, {"scored": 0, **{f"top{d}": 0 for d in depths}})
            masked = np.where(signals.mask, scores, -np.inf)
            for row in rows:
                if name != "fused" and scores[row] <= 0:
                    continue
                tally["scored"] += 1
                rank = int((masked > masked[row]).sum()) + 1
                for depth in depths:
                    tally[f"top{depth}"] += rank <= depth
    reachable = max(counts["reachable"], 1)
    return {**counts, "per_source_share_of_reachable": {
        name: {k: round(v / reachable, 3) for k, v in tally.items()} for name, tally in per_source.items()}}


def validate(out: Path, seed: int = 0) -> dict:
    from chatrec.agent import Agent
    from chatrec.agent.retrieve import Retriever
    from chatrec.catalog import load_catalog
    from chatrec.config import get_settings
    from chatrec.learn import learn, training_dialogues
    from chatrec.learn.models import record_dialogue_queries
    from chatrec.learn.training import replayed_sources
    from chatrec.resources import Resources

    settings = get_settings()
    catalog = load_catalog("redial", settings)
    resources = Resources.load(catalog, settings, build_missing=False, with_learnt=False)
    dialogues, names, _ = training_dialogues(catalog, settings)
    cache = out / "recorded.pkl"
    if cache.is_file():
        recorded = pickle.loads(cache.read_bytes())
    else:
        base = Agent(resources, store=None, llm=None, learnt=False)
        recorded = record_dialogue_queries(base, dialogues, names, progress=True)
        cache.write_bytes(pickle.dumps(recorded))
    train = [d for d in dialogues if fold_of(d.conversation_id, FOLDS) != VALIDATION_FOLD]
    learnt = learn(resources, train, names, recorded_dialogues=recorded, seed=seed)
    validation = [r for r in recorded if fold_of(r.group, FOLDS) == VALIDATION_FOLD]
    agent = Agent(resources, store=None, llm=None, learnt=learnt)
    table = agent.table
    replayed = replayed_sources(table, validation)
    extra = learnt.sources(table)
    results = {}
    for name, ranker in (("learnt ranker", agent.retriever.ranker), ("hand-set fusion", None)):
        retriever = Retriever(table, [*replayed, *(s for s, _ in extra.values())], agent.config.weights,
                              {n: w for n, (_, w) in extra.items()}, ranker=ranker)
        rankings = [[c.item_id for c in retriever.retrieve(r.query, 50)] for r in validation]
        answers = [r.answers for r in validation]
        results[name] = {f"recall@{k}": round(recall(rankings, answers, k), 4) for k in (1, 10, 50)}
    results["validation_turns"] = len(validation)
    retriever = Retriever(table, [*replayed, *(s for s, _ in extra.values())], agent.config.weights,
                          {n: w for n, (_, w) in extra.items()}, ranker=agent.retriever.ranker)
    results["candidates"] = candidate_recall(retriever, agent.ranker_features, validation)
    results["ranker"] = {k: v for k, v in learnt.report.get("ranker", {}).items() if k != "params"}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    results = validate(args.out, args.seed)
    (args.out / "validation.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k not in ("ranker", "candidates")}, indent=1))
    candidates = results["candidates"]
    print("gold {gold}, in catalog {in_catalog}, reachable {reachable}, in the ranker's candidates "
          "{in_candidates}".format(**candidates))
    for name, shares in candidates["per_source_share_of_reachable"].items():
        print(f"  {name:14s}", "  ".join(f"{k} {v:.3f}" for k, v in shares.items()))
    print("importance:", list(results["ranker"].get("feature_importance_gain", {}).items())[:12])


if __name__ == "__main__":
    main()
