"""Choosing fusion weights on validation data only, never on what is reported.

* ReDial: dialogues of the IARD release (Cai & Chen 2020) that are in ReDial's training id range
  and not among the reported dev dialogues; learnt sources fitted on all dev dialogues (disjoint
  from the tuning dialogues). The reported dev run then uses the chosen weights with 5-fold
  statistics.
* Simulation: the "tune" quarter of the users, a different seed.

A coordinate search: from a start configuration, each parameter is tried at each of its values
with the others fixed; the best value is kept; two rounds. Run with
``python -m chatrec.evaluation.tune redial|sim --out DIR``; every trial is written to
``DIR/trials.jsonl`` (resumable) and the best configuration to ``DIR/best.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from chatrec.config import get_settings
from chatrec.evaluation.run import LogTally

logger = logging.getLogger(__name__)

IARD_JSON = "redial/iard/umap2020_IARD_Cai.json"
#: The configurations chosen so far, shipped with chatrec (see the README there).
TUNED_DIR = Path(__file__).parent / "tuned"

# Parameters: FusionWeights fields, "observed_seed_weight" (Agent), and the learnt sources'.
REDIAL_SPACE = {
    "comention_weight": [0.5, 1.0, 2.0, 4.0],
    "mention_pop_weight": [0.0, 0.3, 1.0, 2.0],
    "alpha": [0.5, 0.7, 1.0],
    "shrink": [0.0, 2.0, 5.0, 20.0],
    "popularity": [0.0, 0.12, 0.4],
    "popularity_cold": [0.0, 0.1, 0.5],
    "liked_attribute": [0.1, 0.35, 1.0],
    "collab": [0.3, 1.0, 2.0],
    "content": [0.0, 0.45, 1.0],
    "kg": [0.0, 0.35, 1.0],
    "vector": [0.0, 0.7, 1.5],
    "observed_seed_weight": [0.0, 0.3, 1.0],
}
REDIAL_START = {
    "comention_weight": 1.0,
    "mention_pop_weight": 0.3,
    "alpha": 1.0,
    "shrink": 5.0,
    "popularity": 0.12,
    "popularity_cold": 0.5,
    "liked_attribute": 0.35,
    "collab": 1.0,
    "content": 0.45,
    "kg": 0.35,
    "vector": 0.7,
    "observed_seed_weight": 0.3,
}
RANK_SPACE = {
    "collab": [0.5, 1.0, 2.0],
    "content": [0.0, 0.2, 0.45, 1.0],
    "kg": [0.0, 0.15, 0.35, 1.0],
    "popularity": [0.0, 0.12, 0.3, 0.6],
    "vector": [0.0, 0.7],
}
RANK_START = {"collab": 1.0, "content": 0.45, "kg": 0.35, "popularity": 0.12, "vector": 0.7}
AGENT_KEYS = ("observed_seed_weight",)
SOURCE_KEYS = ("comention_weight", "mention_pop_weight", "mode", "alpha", "shrink", "beta")


def coordinate_search(
    evaluate: Callable[[dict], float],
    space: dict[str, list],
    start: dict,
    trials_path: Path,
    rounds: int = 2,
) -> tuple[dict, float]:
    """Maximise ``evaluate(config)``; every evaluation is appended to ``trials_path`` and reused
    when the search is run again."""
    cache: dict[str, float] = {}
    if trials_path.exists():
        for line in trials_path.read_text().splitlines():
            entry = json.loads(line)
            cache[json.dumps(entry["config"], sort_keys=True)] = entry["score"]

    def score(config: dict) -> float:
        key = json.dumps(config, sort_keys=True)
        if key not in cache:
            started = time.perf_counter()
            cache[key] = evaluate(config)
            with open(trials_path, "a") as handle:
                handle.write(
                    json.dumps(
                        {
                            "config": config,
                            "score": cache[key],
                            "seconds": round(time.perf_counter() - started, 1),
                        }
                    )
                    + "\n"
                )
            logger.warning("trial %s → %.4f", config, cache[key])
        return cache[key]

    best = dict(start)
    best_score = score(best)
    for _ in range(rounds):
        improved = False
        for name, values in space.items():
            for value in values:
                if best.get(name) == value:
                    continue
                trial = {**best, name: value}
                result = score(trial)
                if result > best_score + 1e-9:
                    best, best_score, improved = trial, result, True
        if not improved:
            break
    return best, best_score


def split_config(config: dict) -> tuple[dict, dict, dict]:
    """(FusionWeights overrides, Agent kwargs, learnt-source parameters) of a flat config."""
    weights = {k: v for k, v in config.items() if k not in AGENT_KEYS + SOURCE_KEYS}
    agent = {k: v for k, v in config.items() if k in AGENT_KEYS}
    sources = {k: v for k, v in config.items() if k in SOURCE_KEYS}
    return weights, agent, sources


def load_tuned(path: Path) -> dict:
    """A ``best.json`` written by this module, as keyword arguments of the harness configs:
    {"weights", "agent", "comention", "comention_weight", "mention_pop_weight"}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    config = data.get("config", data)
    weights, agent, sources = split_config(config)
    out: dict = {
        "weights": weights or None,
        "agent": agent,
        "comention": {k: sources[k] for k in ("mode", "alpha", "shrink", "beta") if k in sources},
    }
    for key in ("comention_weight", "mention_pop_weight"):
        if key in sources:
            out[key] = sources[key]
    return out


# ---------------------------------------------------------------------------- ReDial
def redial_objective(
    settings, with_index: bool = True, limit: int | None = None
) -> Callable[[dict], float]:
    """Primary Recall@10 + Recall@50 on the IARD tuning dialogues, by fast re-fusion of queries
    recorded once per ``observed_seed_weight``."""
    from chatrec.agent import Agent
    from chatrec.catalog import load_catalog
    from chatrec.catalog.fetch import ensure_data
    from chatrec.catalog.raw import read_id2info
    from chatrec.evaluation.comention import DialogueCoMention, DialogueStats, MentionPopularity
    from chatrec.evaluation.fastfuse import Case, Memo, fuse, memoised, recall
    from chatrec.evaluation.redial_data import NameFinder, read_dialogues, read_iard, scored_turns
    from chatrec.evaluation.redial_eval import DEV_DIALOGUES, Unit, replay
    from chatrec.resources import Resources

    root = ensure_data(settings, needed=["redial/"], progress=False)
    catalog = load_catalog("redial", settings)
    names = {i: " ".join(v.get("name", "").split()) for i, v in read_id2info(root).items()}
    dev = read_dialogues(root / DEV_DIALOGUES)
    dev_ids = {d.conversation_id for d in dev}
    tuning = read_iard(root / IARD_JSON, exclude=dev_ids, max_id=max(int(i) for i in dev_ids))
    units = [
        Unit(d.conversation_id, d.conversation_id, d.messages, scored_turns(d), False)
        for d in tuning
    ]
    units = [u for u in units if u.scored][:limit]
    stats = DialogueStats.fit(dev)
    resources = Resources.load(catalog, settings, build_missing=False, with_index=with_index)
    finder = NameFinder(names)
    logger.warning(
        "ReDial tuning: %d IARD dialogues (%d turns), statistics from %d dev dialogues",
        len(units),
        sum(len(u.scored) for u in units),
        len(dev),
    )
    recordings: dict[float, tuple[list, list]] = {}
    comention_memos: dict[tuple, Memo] = {}
    popularity = MentionPopularity(stats)

    def record(observed: float) -> tuple[list, list]:
        if observed not in recordings:
            agent = Agent(resources, store=None, llm=None, observed_seed_weight=observed)
            recorded: list = []

            def keep_query(turn, session: str) -> None:
                recorded.append((turn, agent.query(session)))

            with LogTally():
                for unit in units:
                    replay(agent, None, unit, names, finder, None, catalog, before_rank=keep_query)
            cases = [Case(query, list(turn.gold_new)) for turn, query in recorded if turn.gold_new]
            recordings[observed] = (cases, memoised(agent.retriever))
            logger.warning("recorded %d queries (observed_seed_weight %s)", len(cases), observed)
        return recordings[observed]

    def evaluate(config: dict) -> float:
        weights, agent_kwargs, source = split_config(config)
        cases, memos = record(agent_kwargs.get("observed_seed_weight", 0.3))
        params = {k: source[k] for k in ("mode", "alpha", "shrink", "beta") if k in source}
        key = tuple(sorted(params.items()))
        if key not in comention_memos:
            comention_memos[key] = Memo(DialogueCoMention(stats, **params), memos[0].table)
        sources = [*memos, comention_memos[key], Memo(popularity, memos[0].table)]
        extra = {
            "comention": source.get("comention_weight", 1.0),
            "mention_pop": source.get("mention_pop_weight", 0.3),
        }
        rankings = fuse(memos[0].table, sources, weights, extra, cases, 50)
        return round(recall(rankings, cases, 10) + recall(rankings, cases, 50), 5)

    return evaluate


# ---------------------------------------------------------------------------- simulation
def sim_objective(
    settings, users: int = 60, seed: int = 1000, with_index: bool = True, out: Path | None = None
) -> Callable[[dict], float]:
    """Agent Hit@5 within 5 turns on the tune split with another seed."""
    import tempfile

    from chatrec.evaluation.simulate import SimConfig, run_sim

    def evaluate(config: dict) -> float:
        weights, _, _ = split_config(config)
        sim_config = SimConfig(
            users=users, seed=seed, split="tune", systems=["agent"], weights=weights
        )
        with tempfile.TemporaryDirectory(dir=out) as folder:
            metrics = run_sim(
                sim_config, settings, Path(folder), show_progress=False, with_index=with_index
            )
        return metrics["agent_hit@5"]

    return evaluate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=["redial", "sim"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--start", default="{}", help="JSON start configuration")
    parser.add_argument("--space", default=None, help="JSON search space replacing the default one")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = get_settings()
    args.out.mkdir(parents=True, exist_ok=True)
    with_index = not args.no_index
    if args.task == "redial":
        objective, space = redial_objective(settings, with_index, args.limit), REDIAL_SPACE
    else:
        objective, space = (
            sim_objective(settings, args.limit or 60, with_index=with_index, out=args.out),
            RANK_SPACE,
        )
    if args.space:
        space = json.loads(args.space)
    if not with_index:
        space = {k: v for k, v in space.items() if k not in ("vector", "content")}
    start = (
        json.loads(args.start)
        if args.start != "{}"
        else (REDIAL_START if args.task == "redial" else RANK_START)
    )
    best, score = coordinate_search(objective, space, start, args.out / "trials.jsonl", args.rounds)
    (args.out / "best.json").write_text(
        json.dumps(
            {"config": best, "score": score, "task": args.task, "with_index": with_index}, indent=2
        )
    )
    print(json.dumps({"best": best, "score": score}))


if __name__ == "__main__":
    main()
