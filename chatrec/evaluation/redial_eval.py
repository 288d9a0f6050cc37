"""``chatrec eval redial``: replay real ReDial dialogues (the protocol of the evaluation issue).

For each dialogue, messages are merged by sender and fed in order: seeker turns through
``agent.respond``, recommender turns through ``agent.observe``, every ``@id`` replaced by its
id2info name. Before each recommender turn that mentions movies, ``agent.rank(k=50)`` is scored
against the turn's distinct ``@id``s: *primary* counts only movies not mentioned earlier in the
dialogue, *secondary* all of them. Popularity and MovieLens item-cosine baselines rank the same
turns from the same context in the same run.

**The agent is the shipped one**: ``Agent(resources)`` with what ``chatrec build`` learns for the
ReDial catalog (``chatrec.learn``: dialogue statistics and the LambdaRank ranker). When the scored
dialogues are among the build's training dialogues (the dev sample is), the learnt parts are
cross-fitted: dialogues of fold f are scored by models learnt, with the build's own code, on the
other folds only. Folds are fixed up front (``fold_of``: crc32 of the conversation id, 5 folds);
fold ``VALIDATION_FOLD`` is the validation fold, the only one anything may be tuned on, and the
report gives it apart from the test folds. ``--no-learnt`` / ``--no-ranker`` are ablations.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatrec.catalog.redial_dialogues import (
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
from chatrec.config import Settings
from chatrec.evaluation import metrics as M
from chatrec.evaluation.redial_diagnostics import canonical_turn, ranking_checks, summarise_checks
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

if TYPE_CHECKING:
    from chatrec.agent.agent import Agent

logger = logging.getLogger(__name__)

DEV_DIALOGUES = "redial/dev/dialogues.jsonl"
KS = (1, 10, 50)
FOLDS = 5
#: The fold anything may be tuned on; folds 1–4 are test folds, reported apart and never tuned on.
VALIDATION_FOLD = 0


class RedialConfig(BaseModel):
    """What determines a ReDial replay's results.

    Attributes:
        dialogues: the scored file (raw/iEvaLM dialogues, or iEvaLM processed turns).
        learnt: use what the build learns (False: an ablation without dialogue statistics and
            learnt ranker: the hand-set fusion with the quality prior).
        ranker: use the learnt ranker (False: learnt sources, hand-set fusion order).
        with_index: use the vector index (content and vector sources).
        seed: the ranker's seed.
        train: training dialogues other than the build's (tests, or another sample of ReDial's
            train split); None: the build's own.
    """

    dialogues: str
    train: str | None = None
    learnt: bool = True
    ranker: bool = True
    with_index: bool = True
    seed: int = 0


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

    def __init__(self, catalog, recommended_by_fold: dict[int | None, dict[str, float]]):
        from chatrec.evaluation.baselines import ItemKNN, ItemSpace, Popularity

        self.space = ItemSpace(catalog.ids)
        self.popularity = {fold: Popularity(self.space, counts) for fold, counts in recommended_by_fold.items()}
        self.ml_popularity = Popularity(self.space, {it.id: it.popularity for it in catalog})
        self.cosine = ItemKNN(self.space).fit(catalog.interactions.frame)

    def rank(self, fold: int | None, context_ids: list[str], k: int) -> dict[str, list[str]]:
        exclude = set(context_ids)
        return {
            "popularity": self.popularity[fold].rank(k, exclude),
            "ml_popularity": self.ml_popularity.rank(k, exclude),
            "item_cosine": self.cosine.rank({i: 1.0 for i in context_ids}, k, exclude),
        }


def fold_split(folds: list[int | None]) -> str:
    if folds == [None]:
        return "all"
    return "validation" if folds == [VALIDATION_FOLD] else "test"


class FoldAgents:
    """The agent that scores each fold: the shipped agent, its learnt parts learnt by the build's
    code on the training dialogues outside that fold (or, for dialogues the build never trains on,
    the build's own learnt parts).

    Args:
        resources: the ReDial catalog's resources (without learnt parts).
        config: the run's configuration (ablations).
        scored_ids: conversation ids of the scored dialogues.
        show_progress: progress bars while learning.
    """

    def __init__(self, resources, config: RedialConfig, scored_ids: set[str], show_progress: bool):
        from chatrec.learn import load_or_learn, training_dialogues

        self.resources = resources
        self.config = config
        train, self.names, self.digest = training_dialogues(resources.catalog, resources.settings)
        if config.train is not None:
            import hashlib

            train = read_dialogues(Path(config.train))
            self.digest = hashlib.sha256(Path(config.train).read_bytes()).hexdigest()
        self.train = train
        self.overlap = {d.conversation_id for d in train} & scored_ids
        self.show_progress = show_progress
        self._recorded = None
        self._agents: dict[int | None, Agent] = {}
        self.components: dict[str, dict] = {}
        self.shipped = None
        if config.learnt and not self.overlap:
            if config.train is None:
                self.shipped = load_or_learn(resources, progress=show_progress)
            else:
                from chatrec.learn import learn

                self.shipped = learn(resources, train, self.names, seed=config.seed,
                                     sources_note={config.train: self.digest})

    @property
    def cross_fitted(self) -> bool:
        return bool(self.overlap)

    def fold(self, conversation_id: str) -> int | None:
        return fold_of(conversation_id, FOLDS) if self.cross_fitted else None

    def recommended(self, fold: int | None) -> dict[str, float]:
        from chatrec.learn.dialogue_stats import DialogueStats

        dialogues = [d for d in self.train if fold is None or fold_of(d.conversation_id, FOLDS) != fold]
        return dict(DialogueStats.fit(dialogues).recommended)

    def learnt(self, fold: int | None):
        if not self.config.learnt:
            return False
        if fold is None:
            return self.shipped
        from chatrec.learn import learn
        from chatrec.learn.models import record_dialogue_queries

        if self._recorded is None:
            from chatrec.agent import Agent

            base = Agent(self.resources, store=None, llm=None, learnt=False)
            self._recorded = record_dialogue_queries(base, self.train, self.names, self.show_progress)
        train = [d for d in self.train if fold_of(d.conversation_id, FOLDS) != fold]
        learnt = learn(self.resources, train, self.names, recorded_dialogues=self._recorded,
                       seed=self.config.seed,
                       sources_note={self.config.train or DEV_DIALOGUES: self.digest})
        return learnt

    def ready(self, fold: int | None) -> bool:
        return fold in self._agents

    def agent(self, fold: int | None):
        if fold not in self._agents:
            from chatrec.agent import Agent

            learnt = self.learnt(fold)
            if learnt and not self.config.ranker:
                learnt.ranker_model = None
            self._agents = {}  # one fold at a time: each holds its own models
            self._agents[fold] = Agent(self.resources, store=None, llm=None, learnt=learnt)
            self.agent_config = self._agents[fold].config.model_dump(mode="json")
            report = learnt.report if learnt else {"components": [], "ranker": {"model": "fusion + quality prior"}}
            self.components[str(fold)] = _component_summary(report)
        return self._agents[fold]


def _component_summary(report: dict) -> dict:
    ranker = dict(report.get("ranker", {}))
    ranker.pop("params", None)
    return {"components": report.get("components", []), "ranker": ranker,
            "timings_s": report.get("timings_s", {})}


def run_redial(
    config: RedialConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
) -> dict:
    from chatrec.catalog import load_catalog
    from chatrec.resources import Resources

    run = RunDir(out, "redial", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        catalog = load_catalog("redial", settings, progress=show_progress)
        names = redial_names(settings)
        units, kind = load_units(Path(config.dialogues), names)
        # What is missing (the ReDial catalog, its graph, its index) is built first, with progress.
        resources = Resources.load(catalog, settings, with_index=config.with_index, with_learnt=False,
                                   progress=show_progress)
        folds = FoldAgents(resources, config, {u.conversation_id for u in units}, show_progress)
        fold_ids = sorted({folds.fold(u.conversation_id) for u in units}, key=_fold_order)
        baselines = ContextBaselines(catalog, {f: folds.recommended(f) for f in fold_ids})
        finder = NameFinder(names)
    todo = units[:limit] if limit else units
    # One fold after another, so each fold's learnt models are built once.
    todo = sorted(todo, key=lambda u: _fold_order(folds.fold(u.conversation_id)))
    done = run.done()
    with LogTally() as tally:
        for unit in progress(todo, len(todo), f"ReDial {kind}", show_progress):
            if unit.key in done:
                continue
            fold = folds.fold(unit.conversation_id)
            with run.timed(f"learn.fold{fold}") if not folds.ready(fold) else nullcontext():
                agent = folds.agent(fold)
            started = time.perf_counter()
            record = replay(agent, baselines, unit, names, finder, fold, catalog)
            record["seconds"] = round(time.perf_counter() - started, 3)
            run.record(unit.key, record)
            done[unit.key] = record
    records = [done[u.key] for u in todo if u.key in done]
    metrics = summarise(records, catalog)
    by_split: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_split[fold_split([record["fold"]])].append(record)
    if folds.cross_fitted:
        metrics["splits"] = {split: _split_summary(part, catalog) for split, part in sorted(by_split.items())}
    metrics["input"] = {
        "format": kind,
        "units": len(records),
        "training": {
            "mode": f"{FOLDS}-fold cross-fitted by conversationId" if folds.cross_fitted
            else "learnt on all training dialogues (disjoint from the scored ones)",
            "validation_fold": VALIDATION_FOLD if folds.cross_fitted else None,
            "training_dialogues": len(folds.train),
            "overlapping_dialogues": len(folds.overlap),
            "learnt": config.learnt,
            "ranker": config.ranker,
        },
        "learnt_components": folds.components,
    }
    metrics["agent_warnings"] = tally.summary()
    metrics["agent_config"] = folds.agent_config
    files = [Path(config.dialogues)]
    run.write_results(metrics, provenance(catalog, files))
    from chatrec.evaluation.report_redial import write_redial_report

    write_redial_report(run, metrics, records, config)
    return metrics


def _fold_order(fold: int | None) -> int:
    return -1 if fold is None else fold


def _split_summary(records: list[dict], catalog) -> dict:
    summary = summarise(records, catalog)
    return {
        "folds": sorted({r["fold"] for r in records}),
        "dialogues": len(records),
        "n_turns": summary["n_turns"],
        "n_gold_new": summary["n_gold_new"],
        **{f"recall@{k}": summary.get(f"recall@{k}") for k in KS},
        "systems": {name: {f"recall@{k}": v["primary"][f"recall@{k}"] for k in KS}
                    for name, v in summary["systems"].items()},
    }


def redial_names(settings: Settings) -> dict[str, str]:
    """ReDial's own film names by ReDial id (what "@id" mentions are written out as in replays)."""
    from chatrec.catalog.fetch import ensure_data
    from chatrec.catalog.raw import read_id2info

    root = ensure_data(settings, needed=["redial/"], progress=False)
    return {i: " ".join(v.get("name", "").split()) for i, v in read_id2info(root).items()}


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
                            if kind not in ("unsupported", "origins"):
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
