"""What the agent learns from a catalog's data, built by ``chatrec build`` and used by every
agent ``Agent.from_config`` makes: dialogue statistics (ReDial) and the learnt ranker.

``learn`` is the one entry point: the build calls it with the catalog's own data, an evaluation
with the part of the data it may see (the training interactions of a temporal split; the training
folds of the dialogues it scores), so what is measured is what ships.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chatrec.learn.dialogue_stats import (
    DialogueCoMention,
    DialoguePopularity,
    DialogueStats,
    GenreMentionPopularity,
    MentionPopularity,
)
from chatrec.learn.genres import GenreProfile
from chatrec.learn.neighbours import RequestNeighbours
from chatrec.learn.ranker import LearntRanker, PriorRanker, TrainingGroup, train_bag
from chatrec.learn.training import RecordedQuery, canonical_dialogues, inner_fold, replayed_sources

logger = logging.getLogger(__name__)

#: Bump when what is learnt changes meaning: stored models of another version are relearnt.
LEARN_VERSION = 5
#: Fusion weights of the dialogue sources in the hand-set fusion (which chooses the candidate
#: pool and is itself a feature); chosen on IARD dialogues outside the dev sample.
COMENTION_WEIGHT = 2.0
MENTION_POP_WEIGHT = 2.0
#: Chosen on the ReDial validation fold (fold 0 of ``redial_eval``).
MENTION_GENRE_WEIGHT = 1.0
NEIGHBOURS_WEIGHT = 1.0
MENTION_ANY_WEIGHT = 0.0
#: A film recommended in at least this many training dialogue turns counts as well known (an
#: open request shows well-known films first). ReDial validation fold, learnt ranker R@10/R@50:
#: known = rated ≥ 10 times only 0.165/0.351, or recommended ≥ 2 times 0.175/0.368.
KNOWN_MENTIONS = 2
INNER_FOLDS = 5
#: Held-out interaction rankings the ranker learns from (keeps the MovieLens build within seconds),
#: over cut points before each user's last ``CUTS`` liked films: an evaluation's temporal hold-out
#: asks for the next liked film from what came before, at whatever point the user is. (MovieLens
#: validation NDCG@10, mean of 3 seeds: 2–6 cuts 0.075–0.079, all within noise; each cut refits
#: the collaborative models and replays every user, ~5 s of build.)
MAX_QUERIES = 6000
CUTS = 4
#: The interaction ranker's training: a fixed number of small, slowly learnt trees on every ranking.
#: Early stopping on a fifth of ~2,000 rankings with one right answer each stopped anywhere from 3
#: to 80 rounds (MovieLens validation NDCG@10 0.067–0.078 by seed); these settings 0.078–0.079.
INTERACTION_ROUNDS = 200
INTERACTION_PARAMS = {"num_leaves": 7, "min_data_in_leaf": 100, "learning_rate": 0.02}
#: The dialogue ranker's training: fixed rounds (early stopping on a fifth of ~1,400 rankings
#: stopped anywhere from 12 to 57 rounds by seed and setting), a bag of seeds averaged.
DIALOGUE_TRAINING: dict = {"rounds": 150, "patience": None, "bag": 3}
#: Fewer interaction rankings with their answer among the candidates teach a ranker noise (a
#: 60-product shop's 25 shoppers: ~90): the hand-set fusion with the quality prior ranks instead.
MIN_INTERACTION_RANKINGS = 300


@dataclass
class LearntModels:
    """The learnt parts of one catalog's agent.

    Attributes:
        catalog: the catalog's name.
        stats: dialogue statistics (None: no training dialogues).
        neighbours: the training dialogues' recommender turns as a nearest-neighbour source.
        ranker_model: a LightGBM model as text (None: the hand-set fusion with a quality prior).
        report: every learnt component with the data it was learnt from, sizes, timings,
            the ranker's validation scores and feature importances.
    """

    catalog: str
    stats: DialogueStats | None = None
    ranker_model: str | None = None
    report: dict = field(default_factory=dict)
    neighbours: RequestNeighbours | None = None

    def sources(self, table=None) -> dict[str, tuple[object, float]]:
        """The learnt retrieval sources with their fusion weights (the genre-conditioned ones
        need the agent's ``ItemTable``)."""
        out: dict[str, tuple[object, float]] = {}
        if self.stats is not None:
            out["comention"] = (DialogueCoMention(self.stats), COMENTION_WEIGHT)
            out["mention_pop"] = (MentionPopularity(self.stats), MENTION_POP_WEIGHT)
            out["mention_any"] = (DialoguePopularity(self.stats), MENTION_ANY_WEIGHT)
            if table is not None:
                out["mention_genre"] = (GenreMentionPopularity(self.stats, GenreProfile(table)),
                                        MENTION_GENRE_WEIGHT)
        if self.neighbours is not None:
            out["neighbours"] = (self.neighbours, NEIGHBOURS_WEIGHT)
        return out

    def ranker(self, builder):
        if self.stats is not None:
            # ML-small's ratings end in 2018 and barely know that year's films; human
            # recommenders suggesting a film again and again say people know it.
            pos = builder.table.pos
            builder.priors.add_known(pos[i] for i, count in self.stats.recommended.items()
                                     if count >= KNOWN_MENTIONS and i in pos)
        if self.ranker_model is None:
            return PriorRanker(builder)
        from_dialogues = any(c["name"].startswith("dialogue statistics") for c in self.report.get("components", []))
        return LearntRanker.from_string(self.ranker_model, builder, learnt_open_requests=from_dialogues)

    # ---- storage ----
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        files = {"report.json": json.dumps(self.report, indent=2, default=str)}
        if self.stats is not None:
            files["dialogue_stats.json"] = json.dumps(self.stats.to_json())
        if self.neighbours is not None:
            files["request_neighbours.json"] = json.dumps(self.neighbours.to_json())
        if self.ranker_model is not None:
            files["ranker.txt"] = self.ranker_model
        for stale in ("dialogue_stats.json", "request_neighbours.json", "ranker.txt"):
            if stale not in files:
                (folder / stale).unlink(missing_ok=True)
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}", suffix=".part")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, folder / name)

    @classmethod
    def load(cls, folder: Path) -> LearntModels | None:
        try:
            report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        stats_path, ranker_path = folder / "dialogue_stats.json", folder / "ranker.txt"
        stats = (DialogueStats.from_json(json.loads(stats_path.read_text(encoding="utf-8")))
                 if stats_path.is_file() else None)
        model = ranker_path.read_text(encoding="utf-8") if ranker_path.is_file() else None
        neighbours_path = folder / "request_neighbours.json"
        neighbours = (RequestNeighbours.from_json(json.loads(neighbours_path.read_text(encoding="utf-8")))
                      if neighbours_path.is_file() else None)
        return cls(report.get("catalog", folder.name), stats, model, report, neighbours)


# ---------------------------------------------------------------------------- storage keys
def learnt_dir(settings, catalog) -> Path:
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in catalog.name)[:40]
    return settings.home / "learnt" / name


def data_key(catalog, dialogues_digest: str | None) -> str:
    """What the learnt models depend on: the items, the interactions, the dialogues, the code."""
    parts = [catalog.fingerprint(),
             catalog.interactions.fingerprint() if catalog.interactions is not None else "-",
             dialogues_digest or "-", f"v{LEARN_VERSION}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def load_learnt(catalog, settings, dialogues_digest: str | None = None) -> LearntModels | None:
    """The stored models of ``catalog`` if they were learnt from the current data."""
    learnt = LearntModels.load(learnt_dir(settings, catalog))
    if learnt is None or learnt.report.get("key") != data_key(catalog, dialogues_digest):
        return None
    return learnt


# ---------------------------------------------------------------------------- learning
def training_groups(table, builder, recorded: list[RecordedQuery], learnt_for_query=None,
                    ) -> list[TrainingGroup]:
    """Feature rows of every recorded query. ``learnt_for_query(r)`` gives the learnt
    sources a query may see (``LearntModels`` cross-fitted: never from its own dialogue), or
    None."""
    from chatrec.agent.retrieve import Retriever

    replayed = replayed_sources(table, recorded)
    by_learnt: dict[int, Retriever] = {}
    groups = []
    for record in recorded:
        learnt = learnt_for_query(record) if learnt_for_query is not None else None
        retriever = by_learnt.get(id(learnt))
        if retriever is None:
            extra = learnt.sources(table) if learnt is not None else {}
            retriever = Retriever(table, [*replayed, *(s for s, _ in extra.values())],
                                  extra_weights={n: w for n, (_, w) in extra.items()})
            by_learnt[id(learnt)] = retriever
        signals = retriever.signals(record.query)
        if signals is None:
            continue
        rows = builder.pool(signals)
        if len(rows) == 0:
            continue
        labels = np.fromiter((table.ids[r] in record.answers for r in rows), dtype=np.float32,
                             count=len(rows))
        groups.append(TrainingGroup(record.key, builder.build(record.query, signals, rows), labels))
    return groups


def cross_fitted_sources(dialogues: list, recorded: list[RecordedQuery], folds: int = INNER_FOLDS):
    """For each recorded query, the learnt sources (dialogue statistics, request neighbours)
    of the training dialogues of the other inner folds."""
    per_fold = {
        f: LearntModels("", DialogueStats.fit(d for d in dialogues if inner_fold(d.conversation_id, folds) != f),
                        neighbours=RequestNeighbours.fit(r for r in recorded if inner_fold(r.group, folds) != f))
        for f in range(folds)}
    return lambda record: per_fold[inner_fold(record.group, folds)]


def learn(resources, dialogues: list | None = None, names: dict[str, str] | None = None,
          recorded_dialogues: list[RecordedQuery] | None = None, use_interactions: bool = True,
          seed: int = 0, progress: bool = False, sources_note: dict | None = None) -> LearntModels:
    """Learn the agent's data-driven parts for ``resources``' catalog.

    Args:
        resources: the catalog's resources (collaborative models on the log to learn from).
        dialogues: training dialogues (ReDial ids of this catalog); None: none.
        names: ReDial id → film name, to render the dialogues' ``@id`` mentions.
        recorded_dialogues: queries already recorded from ``dialogues`` (an evaluation records
            all its dialogues once and learns on each fold's subset).
        use_interactions: learn from held-out interactions when the catalog has a log and no
            dialogues are given.
        seed: LightGBM's seed.
        sources_note: what the data files were (path → sha256), for the report.
    """
    from chatrec.agent import Agent

    started = time.perf_counter()
    catalog = resources.catalog
    timings: dict[str, float] = {}
    report: dict = {"catalog": catalog.name, "components": [], "data": sources_note or {}}
    stats = neighbours = None
    groups: list[TrainingGroup] = []
    if dialogues:
        t = time.perf_counter()
        base = Agent(resources, store=None, llm=None, learnt=False)
        dialogues = canonical_dialogues(dialogues, catalog)
        stats = DialogueStats.fit(dialogues)
        report["components"].append({
            "name": "dialogue statistics (co-mentions, mention popularity)",
            "learnt_from": f"{stats.dialogues} training dialogues",
            "films": len(stats.in_dialogues)})
        if recorded_dialogues is None:
            recorded_dialogues = record_dialogue_queries(base, dialogues, names or {}, progress)
        wanted = {d.conversation_id for d in dialogues}
        recorded = [r for r in recorded_dialogues if r.group in wanted]
        neighbours = RequestNeighbours.fit(recorded)
        report["components"].append({
            "name": "request neighbours (films suggested in the most similar training turns)",
            "learnt_from": f"{len(neighbours.turns)} recommender turns of {len(wanted)} training dialogues"})
        timings["record dialogues"] = time.perf_counter() - t
        t = time.perf_counter()
        groups = training_groups(base.table, base.ranker_features, recorded,
                                 cross_fitted_sources(dialogues, recorded))
        timings["features"] = time.perf_counter() - t
        data_note = (f"{len(recorded)} recommender turns of {len(wanted)} training dialogues "
                     f"(dialogue statistics cross-fitted over {INNER_FOLDS} inner folds)")
    elif use_interactions and catalog.interactions is not None and len(catalog.interactions):
        from chatrec.learn.training import record_interactions

        t = time.perf_counter()
        per_cut = record_interactions(lambda c: _heldout_agent(resources, c), catalog,
                                      MAX_QUERIES, CUTS, seed, progress)
        timings["record interactions"] = time.perf_counter() - t
        t = time.perf_counter()
        # Each cut's agent's table: popularity and ratings without the films held out there.
        for recorded, held in per_cut:
            groups += training_groups(held.table, held.ranker_features, recorded)
        timings["features"] = time.perf_counter() - t
        n_users = len({r.group for recorded, _ in per_cut for r in recorded})
        data_note = (f"{sum(len(r) for r, _ in per_cut)} rankings of {n_users} users: the next "
                     f"liked film held out at cuts before each of their last {CUTS} liked films in "
                     f"{len(catalog.interactions):,} interactions (collaborative models refitted "
                     f"at each cut)")
    model = None
    if groups:
        t = time.perf_counter()
        fixed = (DIALOGUE_TRAINING if dialogues else
                 {"rounds": INTERACTION_ROUNDS, "patience": None, "params": INTERACTION_PARAMS})
        try:
            usable = sum(bool(g.labels.any()) for g in groups)
            if not dialogues and usable < MIN_INTERACTION_RANKINGS:
                raise ValueError(f"{usable} held-out interaction rankings with their answer among "
                                 f"the candidates (fewer than {MIN_INTERACTION_RANKINGS})")
            bag, ranker_report = train_bag(groups, seed=seed, **fixed)
        except ValueError as exc:
            logger.warning("no learnt ranker for %s: %s", catalog.name, exc)
            report["ranker"] = {"model": PriorRanker.kind, "why": str(exc)}
        else:
            model = bag.to_string()
            ranker_report["learnt_from"] = data_note
            report["ranker"] = ranker_report
            report["components"].append({"name": "ranker (LightGBM LambdaRank)", "learnt_from": data_note})
        timings["train ranker"] = time.perf_counter() - t
    else:
        report["ranker"] = {"model": PriorRanker.kind, "why": "no training data"}
    report["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    report["seconds"] = round(time.perf_counter() - started, 2)
    return LearntModels(catalog.name, stats, model, report, neighbours)


def record_dialogue_queries(base_agent, dialogues: list, names: dict[str, str], progress: bool = False):
    from chatrec.learn.training import record_dialogues

    return record_dialogues(base_agent, dialogues, names, progress)


def _heldout_agent(resources, held_out_catalog):
    """An agent without learnt parts on a held-out log: collaborative models refitted on it, the
    knowledge graph, linker and index shared (the items are the same)."""
    from chatrec import collab
    from chatrec.agent import Agent
    from chatrec.resources import Resources

    models = collab.fit(held_out_catalog.interactions)
    held = Resources(settings=resources.settings, catalog=held_out_catalog, kg=resources.kg,
                     linker=resources.linker, index=resources.index, collab=models)
    return Agent(held, store=None, llm=None, learnt=False)
