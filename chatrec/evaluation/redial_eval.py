"""``chatrec eval redial``: replay real ReDial dialogues (the protocol of the evaluation issue).

For each dialogue, messages are merged by sender and fed in order: seeker turns through
``agent.respond``, recommender turns through ``agent.observe``, every ``@id`` replaced by its
id2info name. Before each recommender turn that mentions movies, ``agent.rank(k=50)`` is scored
against the turn's distinct ``@id``s: *primary* counts only movies not mentioned earlier in the
dialogue, *secondary* all of them. Popularity and MovieLens item-cosine baselines rank the same
turns from the same context in the same run.

Statistics learnt from dialogues (co-mentions, mention popularity) come only from ``--train``;
when it overlaps the scored dialogues, from the other folds (5-fold by conversationId).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from chatrec.config import Settings
from chatrec.evaluation import metrics as M
from chatrec.evaluation.redial_data import (
    Message,
    NameFinder,
    ScoredTurn,
    detect_format,
    fold_of,
    read_dialogues,
    read_processed_turns,
    render,
    scored_turns,
)
from chatrec.evaluation.redial_diagnostics import canonical_turn, ranking_checks, summarise_checks
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

logger = logging.getLogger(__name__)

DEV_DIALOGUES = "redial/dev/dialogues.jsonl"
KS = (1, 10, 50)


class RedialConfig(BaseModel):
    """What determines a ReDial replay's results.

    Attributes:
        dialogues: the scored file (raw/iEvaLM dialogues, or iEvaLM processed turns).
        train: dialogues the learnt sources are fitted on (default: the dev dialogues).
        folds: folds when ``train`` overlaps the scored dialogues.
        comention_weight / mention_pop_weight: fusion weights of the learnt sources (0 = off).
        comention: ``DialogueCoMention`` parameters (mode, alpha, shrink, beta).
        weights: FusionWeights overrides for the agent (None = its defaults).
        agent: other ``Agent`` keyword arguments (``observed_seed_weight``).
        with_index: use the vector index (content and vector sources).
    """

    dialogues: str
    train: str
    folds: int = 5
    comention_weight: float = 1.0
    mention_pop_weight: float = 0.3
    comention: dict[str, float | str] = Field(default_factory=dict)
    weights: dict[str, float] | None = None
    agent: dict[str, float] = Field(default_factory=dict)
    with_index: bool = True


@dataclass
class Unit:
    """What is replayed as one session: a dialogue (raw input) or one processed turn."""

    key: str
    conversation_id: str
    messages: list[Message]
    scored: list[ScoredTurn]
    rendered: bool  # False: text still holds @ids


def load_units(path: Path, names: dict[str, str]) -> tuple[list[Unit], str]:
    kind = detect_format(path)
    if kind == "dialogues":
        units = [
            Unit(d.conversation_id, d.conversation_id, d.messages, scored_turns(d), False)
            for d in read_dialogues(path)
        ]
        return [u for u in units if u.scored], kind
    units = []
    for turn in read_processed_turns(path, names):
        turn.index = len(turn.context)
        units.append(Unit(turn.key, turn.conversation_id, turn.context, [turn], True))
    return units, kind


class ContextBaselines:
    """The same-run baselines: popularity (recommendations in the training dialogues of the
    unit's fold), MovieLens popularity, and MovieLens item-cosine from the context's movies."""

    def __init__(self, catalog, stats_by_fold: dict[int | None, object]):
        from chatrec.evaluation.baselines import ItemKNN, ItemSpace, Popularity

        self.space = ItemSpace(catalog.ids)
        self.popularity = {
            fold: Popularity(self.space, stats.recommended) for fold, stats in stats_by_fold.items()
        }
        self.ml_popularity = Popularity(self.space, {it.id: it.popularity for it in catalog})
        self.cosine = ItemKNN(self.space).fit(catalog.interactions.frame)

    def rank(self, fold: int | None, context_ids: list[str], k: int) -> dict[str, list[str]]:
        exclude = set(context_ids)
        return {
            "popularity": self.popularity[fold].rank(k, exclude),
            "ml_popularity": self.ml_popularity.rank(k, exclude),
            "item_cosine": self.cosine.rank({i: 1.0 for i in context_ids}, k, exclude),
        }


def run_redial(
    config: RedialConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
) -> dict:
    from chatrec.agent import Agent
    from chatrec.agent.retrieve import FusionWeights
    from chatrec.catalog import load_catalog
    from chatrec.catalog.raw import read_id2info
    from chatrec.evaluation.comention import DialogueStats, Folded, fit_sources
    from chatrec.resources import Resources

    run = RunDir(out, "redial", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        catalog = load_catalog("redial", settings, progress=show_progress)
        root = _data_root(settings)
        names = {i: " ".join(v.get("name", "").split()) for i, v in read_id2info(root).items()}
        units, kind = load_units(Path(config.dialogues), names)
        train = read_dialogues(Path(config.train))
        scored_ids = {u.conversation_id for u in units}
        sources, training = fit_sources(train, scored_ids, config.folds, **config.comention)
        folded = training["mode"] != "disjoint"
        if folded:
            stats_by_fold = {
                f: DialogueStats.fit(
                    d for d in train if fold_of(d.conversation_id, config.folds) != f
                )
                for f in range(config.folds)
            }
        else:
            stats_by_fold = {None: DialogueStats.fit(train)}
        # What is missing (the ReDial catalog, its graph, its index) is built first, with progress.
        resources = Resources.load(
            catalog, settings, with_index=config.with_index, progress=show_progress
        )
        extra = {
            name: (source, weight)
            for name, source, weight in (
                ("comention", sources["comention"], config.comention_weight),
                ("mention_pop", sources["mention_pop"], config.mention_pop_weight),
            )
            if weight > 0
        }
        agent = Agent(
            resources,
            store=None,
            llm=None,
            extra_sources=extra,
            weights=FusionWeights(**config.weights) if config.weights else None,
            **config.agent,
        )
        baselines = ContextBaselines(catalog, stats_by_fold)
        finder = NameFinder(names)
    todo = units[:limit] if limit else units
    done = run.done()
    with LogTally() as tally:
        for unit in progress(todo, len(todo), f"ReDial {kind}", show_progress):
            if unit.key in done:
                continue
            fold = fold_of(unit.conversation_id, config.folds) if folded else None
            for source in sources.values():
                if isinstance(source, Folded):
                    source.use(fold)
            started = time.perf_counter()
            record = replay(agent, baselines, unit, names, finder, fold, catalog)
            record["seconds"] = round(time.perf_counter() - started, 3)
            run.record(unit.key, record)
            done[unit.key] = record
    records = [done[u.key] for u in todo if u.key in done]
    metrics = summarise(records, catalog)
    metrics["input"] = {"format": kind, "units": len(records), "training": training}
    metrics["agent_warnings"] = tally.summary()
    metrics["agent_config"] = agent.config.model_dump(mode="json")
    files = [Path(config.dialogues), Path(config.train)]
    run.write_results(metrics, provenance(catalog, files))
    from chatrec.evaluation.report_redial import write_redial_report

    write_redial_report(run, metrics, records, config)
    return metrics


def _data_root(settings: Settings) -> Path:
    from chatrec.catalog.fetch import ensure_data

    return ensure_data(settings, needed=["redial/"], progress=False)


def replay(
    agent,
    baselines: ContextBaselines | None,
    unit: Unit,
    names: dict[str, str],
    finder: NameFinder,
    fold: int | None,
    catalog,
    before_rank=None,
    k: int = 50,
) -> dict:
    """Feed one unit to the agent, scoring each of its turns before the recommender speaks.
    ``before_rank(turn, session)`` is called just before each scored ``rank`` (tuning takes the
    agent's query there)."""
    session = f"redial:{unit.key}"
    agent.reset(session)
    scored_at = {t.index: t for t in unit.scored}
    context_ids: list[str] = []
    turns = []
    for index, message in enumerate(unit.messages + [None]):
        turn = scored_at.get(index)
        if turn is not None:
            ids = (
                context_ids
                if not unit.rendered
                else finder.find(" ".join(m.text for m in unit.messages[:index]))
            )
            turn = canonical_turn(turn, catalog, ids)
            if before_rank is not None:
                before_rank(turn, session)
            recs = agent.rank(session, k=k)
            ranked = [r.item.id for r in recs]
            sources = {r.item.id: r.sources for r in recs}
            rankings = {
                "agent": ranked,
                **(baselines.rank(fold, ids, 50) if baselines is not None else {}),
            }
            scored = _score(turn, rankings, sources, catalog, len(ids))
            _diagnose(agent.session(session), scored, catalog)
            scored["checks"] = ranking_checks(ranked, k, catalog, ids)
            turns.append(scored)
        if message is None:
            break
        text = message.text if unit.rendered else render(message.text, names)
        if message.role == "seeker":
            agent.respond(session, text)
        else:
            agent.observe(session, text, role="recommender")
        context_ids.extend(i for i in message.ids if i not in context_ids)
    agent.reset(session)
    return {"conversation_id": unit.conversation_id, "fold": fold, "turns": turns}


def _score(
    turn: ScoredTurn,
    rankings: dict[str, list[str]],
    agent_sources: dict,
    catalog,
    n_context_items: int,
) -> dict:
    new = set(turn.gold_new)
    gold = []
    for group in turn.gold:
        gold.append(
            {
                "ids": sorted(group),
                "new": group in new,
                "in_catalog": any(i in catalog for i in group),
                "ranks": {name: M.rank_of(ranked, group) for name, ranked in rankings.items()},
                "agent_sources": next(
                    (agent_sources[i] for i in sorted(group) if i in agent_sources), None
                ),
            }
        )
    return {
        "key": turn.key,
        "index": turn.index,
        "n_gold": turn.n_gold,
        "n_gold_new": turn.n_gold_new,
        "unmatched": turn.unmatched,
        "unmatched_new": turn.unmatched_new,
        "gold": gold,
        "n_context_items": n_context_items,
        "agent_top10": rankings["agent"][:10],
    }


def _diagnose(state, scored: dict, catalog) -> None:
    """Why a gold movie could not be ranked: the session's hard constraints rule it out
    ("filtered"), or the agent excludes it as already liked/seen/disliked/mentioned."""
    allowed = state.constraints.matcher()
    excluded = (
        set(state.liked_items)
        | set(state.disliked_items)
        | set(state.seen_items)
        | set(state.mentioned_items)
    )
    c = state.constraints
    scored["constraints"] = c.model_dump(exclude_defaults=True)
    for g in scored["gold"]:
        items = [catalog[i] for i in g["ids"] if i in catalog]
        g["filtered"] = bool(items) and all(not allowed(it) for it in items)
        g["excluded"] = any(i in excluded for i in g["ids"])


def summarise(records: list[dict], catalog) -> dict:
    """Recall@1/10/50 over (turn, movie) pairs, primary (new movies) and secondary (all), per
    system, with intervals from a bootstrap over dialogues."""
    systems = sorted(
        {name for r in records for t in r["turns"] for g in t["gold"] for name in g["ranks"]},
        key=lambda s: (s != "agent", s),
    )
    # per dialogue: hits and gold counts, so the bootstrap resamples whole dialogues
    per_dialogue: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    totals = {
        "n_turns": 0,
        "n_gold": 0,
        "n_gold_new": 0,
        "gold_not_in_catalog": 0,
        "unmatched": 0,
        "unmatched_new": 0,
        "new_gold_ruled_out_by_constraints": 0,
        "new_gold_excluded_by_agent": 0,
    }
    ruled_out_by: dict[str, int] = {}
    for record in records:
        d = per_dialogue[record["conversation_id"]]
        for turn in record["turns"]:
            totals["n_turns"] += 1
            totals["n_gold"] += turn["n_gold"]
            totals["n_gold_new"] += turn["n_gold_new"]
            totals["unmatched"] += len(turn["unmatched"])
            totals["unmatched_new"] += len(turn["unmatched_new"])
            d["gold_all"] += turn["n_gold"]
            d["gold_new"] += turn["n_gold_new"]
            for g in turn["gold"]:
                totals["gold_not_in_catalog"] += 0 if g["in_catalog"] else 1
                if g["new"]:
                    totals["new_gold_ruled_out_by_constraints"] += int(g.get("filtered", False))
                    totals["new_gold_excluded_by_agent"] += int(g.get("excluded", False))
                    if g.get("filtered"):
                        for kind in turn.get("constraints", {}):
                            if kind != "unsupported":
                                ruled_out_by[kind] = ruled_out_by.get(kind, 0) + 1
                for name, rank in g["ranks"].items():
                    for k in KS:
                        hit = 1.0 if rank is not None and rank <= k else 0.0
                        d[f"{name}:all@{k}"] += hit
                        if g["new"]:
                            d[f"{name}:new@{k}"] += hit
    keys = sorted(per_dialogue)
    out: dict = {
        "ruled_out_with_constraint": dict(sorted(ruled_out_by.items(), key=lambda kv: -kv[1]))
    }
    results: dict = {}
    for name in systems:
        entry = {}
        for setting, gold_key in (("primary", "gold_new"), ("secondary", "gold_all")):
            tag = "new" if setting == "primary" else "all"
            entry[setting] = {}
            for k in KS:
                hits = [per_dialogue[c][f"{name}:{tag}@{k}"] for c in keys]
                gold = [per_dialogue[c][gold_key] for c in keys]
                value, low, high = M.ratio_ci(hits, gold)
                entry[setting][f"recall@{k}"] = {
                    "mean": M.finite(value),
                    "ci_low": M.finite(low),
                    "ci_high": M.finite(high),
                }
        results[name] = entry
    if "agent" in results:
        for k in KS:
            out[f"recall@{k}"] = results["agent"]["primary"][f"recall@{k}"]["mean"]
        if "item_cosine" in results:
            ratios = {}
            for k in (10, 50):
                a = [per_dialogue[c][f"agent:new@{k}"] for c in keys]
                b = [per_dialogue[c][f"item_cosine:new@{k}"] for c in keys]
                value, low, high = M.ratio_ci(a, b)
                ratios[f"recall@{k}"] = {
                    "ratio": M.finite(value, 3),
                    "ci_low": M.finite(low, 3),
                    "ci_high": M.finite(high, 3),
                }
            out["agent_vs_item_cosine"] = ratios
    out.update(totals)
    out["diagnostics"] = summarise_checks(records, catalog)
    out["systems"] = results
    return out
