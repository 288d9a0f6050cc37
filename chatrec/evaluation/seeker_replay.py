"""``chatrec eval sim --simulator seeker-replay``: a real ReDial seeker's own words as the
simulated user.

Each dialogue becomes one episode. The seeker speaks their own messages, in order (consecutive
messages of one sender merged, each ``@id`` written as the film's title without its year, as a
person would type it), up to the first message — by either party — that names one of the films
the seeker ended up liking: the films their questionnaire marks ``suggested = 1`` and
``liked = 1``. Those are the episode's *targets*. After each seeker message every system answers
(the agent through ``respond``); the episode succeeds when a target is among the first ``k``
recommendations of a reply. The human recommender's messages are never shown to anyone: the
system under test is the recommender now.

**What is hidden.** The targets come from the questionnaires, which list future films; they are
read by ``read_targets`` for the judge only. What the systems are given is built from
``redial_dialogues.read_dialogues`` (texts and roles, nothing else), cut before the first message
naming a target.

**The agent** is the shipped one, with what ``chatrec build`` learns for the ReDial catalog from
ReDial training dialogues (``chatrec.learn``).

**Splits and cross-fitting.** Dialogues are split up front by the ReDial replay's folds
(``redial_eval``: crc32 of the conversation id, 5 folds): fold ``VALIDATION_FOLD`` is the
validation split, the only one anything may be tuned on; the other folds are the test split,
reported apart. When the scored dialogues are among the training dialogues (the dev sample is
what the build learns from), each fold is scored by an agent whose learnt parts were learnt on
the other folds only, and the popularity baseline (the films human recommenders named in the
training dialogues) is counted the same way.

Baselines through the same loop: ``popularity`` (that count, minus films already named or
shown) and ``vector`` (Chat-Rec's retrieval alone: the seeker's messages so far as the query to
the vector index, minus films named or shown).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from chatrec.catalog.redial_dialogues import (
    Dialogue,
    fold_of,
    read_dialogues,
    read_records,
)
from chatrec.config import Settings
from chatrec.errors import CatalogFormatError, ConfigError
from chatrec.evaluation import metrics as M
from chatrec.evaluation.outcomes import from_records, headline
from chatrec.evaluation.redial_eval import DEV_DIALOGUES, FOLDS, VALIDATION_FOLD, redial_names
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

logger = logging.getLogger(__name__)

SYSTEMS = ("agent", "popularity", "vector")
SPLITS = ("validation", "test")
_YEAR = re.compile(r"\s*\(\s*\d{4}\s*\)\s*$")
_SPACES = re.compile(r"\s+")


class ReplayConfig(BaseModel):
    """What determines a seeker-replay run's results.

    Attributes:
        dialogues: ReDial dialogues (raw release or iEvaLM's preprocessed), with questionnaires.
        train: dialogues the popularity baseline counts from (None: the dev dialogues);
            cross-fitted by fold when they overlap the scored ones.
        k: recommendations of a reply that count; success is a target among them.
        systems: which systems play the recommender.
        seed: the bootstrap's seed.
        with_index: use the vector index (the agent's vector/content sources, the vector baseline).
        split: the dialogues replayed: "validation" (fold ``VALIDATION_FOLD``, the only one to
            tune on), "test" (the other folds) or "all" (both, reported apart).
    """

    dialogues: str
    train: str | None = None
    k: int = 5
    systems: list[str] = Field(default_factory=lambda: list(SYSTEMS))
    seed: int = 0
    with_index: bool = True
    split: Literal["all", "validation", "test"] = "all"


# ---------------------------------------------------------------------------- episodes
@dataclass
class SeekerTurn:
    """One thing the seeker says: the rendered text and the films it names (catalog ids)."""

    text: str
    named: list[str] = field(default_factory=list)


@dataclass
class Episode:
    """One dialogue, replayed.

    Attributes:
        turns: what the seeker says, in order, up to the first message naming a target.
        targets: catalog ids of the films the seeker ended up liking (hidden from every system).
        ended_by: what cut the replay: "recommender" or "seeker" (who named a target first), or
            "end" (no message named one).
    """

    conversation_id: str
    fold: int
    split: Literal["validation", "test"]
    turns: list[SeekerTurn]
    targets: list[str]
    ended_by: str


def split_of(conversation_id: str) -> Literal["validation", "test"]:
    return "validation" if fold_of(conversation_id, FOLDS) == VALIDATION_FOLD else "test"


def spoken_title(name: str) -> str:
    """A film's name as a person types it in a chat: no "(year)", single spaces."""
    return _YEAR.sub("", _SPACES.sub(" ", name)).strip()


def _questionnaire(value) -> dict:
    return value if isinstance(value, dict) else {}


def read_targets(path: Path) -> dict[str, list[str]]:
    """conversationId → ReDial ids the seeker's questionnaire marks suggested and liked (the
    respondent's answers about the seeker when the seeker's are missing). For the judge only:
    these list films the dialogue has not reached yet."""
    out: dict[str, list[str]] = {}
    for number, record in read_records(Path(path)):
        try:
            cid = str(record["conversationId"])
        except (KeyError, TypeError) as exc:
            raise CatalogFormatError(f"{path}:{number}: a ReDial dialogue needs conversationId") from exc
        answers = _questionnaire(record.get("initiatorQuestions")) or _questionnaire(
            record.get("respondentQuestions")
        )
        out[cid] = [
            str(movie)
            for movie, answer in answers.items()
            if isinstance(answer, dict)
            and _flag(answer.get("suggested")) == 1
            and _flag(answer.get("liked")) == 1
        ]
    return out


def _flag(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def build_episode(
    dialogue: Dialogue, target_ids: list[str], catalog, names: dict[str, str]
) -> Episode | None:
    """The episode of one dialogue, or None when none of its targets is in the catalog."""
    targets = sorted({c for c in (catalog.canonical_id(i) for i in target_ids) if c})
    if not targets:
        return None
    wanted = set(targets)
    turns: list[SeekerTurn] = []
    ended_by = "end"
    for message in dialogue.messages:
        named = [c for c in (catalog.canonical_id(i) for i in message.ids) if c]
        if wanted & set(named):
            ended_by = message.role
            break
        if message.role != "seeker":
            continue
        text = render_spoken(message.text, names)
        if text:
            turns.append(SeekerTurn(text, list(dict.fromkeys(named))))
    cid = dialogue.conversation_id
    return Episode(cid, fold_of(cid, FOLDS), split_of(cid), turns, targets, ended_by)


def render_spoken(text: str, names: dict[str, str]) -> str:
    """``@id`` mentions as the titles a person would type (unknown ids dropped)."""

    def title(match: re.Match) -> str:
        name = names.get(match.group(1))
        return spoken_title(name) if name else ""

    return _SPACES.sub(" ", re.sub(r"@(\d+)", title, text)).strip()


def read_episodes(path: Path, catalog, names: dict[str, str]) -> tuple[list[Episode], dict]:
    """Every dialogue of ``path`` as an episode; the counts of the dialogues left out and why."""
    targets = read_targets(path)
    episodes: list[Episode] = []
    skipped: Counter[str] = Counter()
    for dialogue in read_dialogues(path):
        ids = targets.get(dialogue.conversation_id, [])
        if not ids:
            skipped["no film suggested and liked"] += 1
            continue
        episode = build_episode(dialogue, ids, catalog, names)
        if episode is None:
            skipped["no target in the catalog"] += 1
        elif not episode.turns:
            skipped["a target named before the seeker spoke"] += 1
        else:
            episodes.append(episode)
    return episodes, dict(skipped)


# ---------------------------------------------------------------------------- the loop
def play(system, episode: Episode, k: int, session_id: str) -> dict:
    """One system as the recommender of one episode; returns its record."""
    wanted = set(episode.targets)
    named: list[str] = []
    record: dict = {"success_turn": None, "turns": []}
    system.start(session_id, None)
    for t, turn in enumerate(episode.turns, 1):
        named.extend(i for i in turn.named if i not in named)
        answer = system.turn(session_id, turn.text, named=named)
        shown = answer.items[:k]
        entry: dict = {"items": shown, "question": answer.question}
        reply = getattr(system, "last_reply", None)
        if reply is not None:
            entry["decision"] = reply.trace.decision
            entry["text"] = answer.text
            act = reply.trace.act
            if act is not None:
                entry["act"] = {
                    "intent": act.intent,
                    "constraints": act.constraints.model_dump(exclude_defaults=True),
                    "liked_items": list(act.liked_items),
                    "liked_attributes": act.liked_attributes,
                    "disliked_attributes": act.disliked_attributes,
                }
        if getattr(system, "diagnose_rank", False):
            entry["target_rank50"] = M.rank_of(system.rank(session_id, 50), frozenset(wanted))
        record["turns"].append(entry)
        if wanted & set(shown):
            record["success_turn"] = t
            break
    system.finish(session_id)
    return record


class Recommenders:
    """The systems of a run, fold by fold.

    The agent is the shipped one: ``Agent(resources)`` with what ``chatrec build`` learns for
    the ReDial catalog — ``Agent.from_config(catalog="redial")`` without a store or an LLM. When
    the scored dialogues are among the dialogues it learns from (the dev sample is), each fold
    is answered by an agent whose learnt parts were learnt, by the build's own code, on the other
    folds only (``redial_eval.FoldAgents``, the ReDial replay's). The popularity baseline counts
    what human recommenders named in the same training dialogues, cross-fitted the same way.
    """

    def __init__(self, resources, config: ReplayConfig, scored_ids: set[str], show_progress: bool):
        from chatrec.evaluation.redial_eval import FoldAgents, RedialConfig

        self.resources = resources
        self.config = config
        self.folds = FoldAgents(
            resources,
            RedialConfig(dialogues=config.dialogues, train=config.train,
                         with_index=config.with_index, seed=config.seed),
            scored_ids,
            show_progress,
        )
        self._popularity: dict[int | None, object] = {}
        self._vector = None
        self._agent: tuple[int | None, object] | None = None

    def fold(self, episode: Episode) -> int | None:
        return self.folds.fold(episode.conversation_id)

    def names(self) -> list[str]:
        names = []
        for name in self.config.systems:
            if name not in SYSTEMS:
                raise ConfigError(f"unknown system {name!r} for seeker-replay (choose from {', '.join(SYSTEMS)})")
            if name == "vector" and self.resources.index is None:
                logger.warning("no vector index: the vector-only baseline is skipped")
                continue
            names.append(name)
        return names

    def popularity_counts(self, fold: int | None) -> dict[str, float]:
        """Recommender mentions per catalog item (a film's ReDial ids counted together)."""
        counts: dict[str, float] = {}
        for item_id, count in self.folds.recommended(fold).items():
            canonical = self.resources.catalog.canonical_id(item_id)
            if canonical:
                counts[canonical] = counts.get(canonical, 0.0) + count
        return counts

    def get(self, name: str, fold: int | None):
        from chatrec.evaluation.systems import AgentSystem, PopularitySystem, VectorSystem

        catalog, k = self.resources.catalog, self.config.k
        if name == "agent":
            if self._agent is None or self._agent[0] != fold:
                self._agent = (fold, AgentSystem(self.folds.agent(fold), k))
            return self._agent[1]
        if name == "popularity":
            if fold not in self._popularity:
                self._popularity = {fold: PopularitySystem(catalog, k, self.popularity_counts(fold))}
            return self._popularity[fold]
        if self._vector is None:
            self._vector = VectorSystem(catalog, k, self.resources.index)
        return self._vector


# ---------------------------------------------------------------------------- the run
def run_seeker_replay(
    config: ReplayConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
) -> dict:
    """Replay the seekers of ``config.dialogues`` to every system; write results.json and
    report.md into ``out``; return the metrics."""
    from chatrec.catalog import load_catalog
    from chatrec.resources import Resources

    for path in filter(None, (config.dialogues, config.train)):
        if not Path(path).is_file():
            raise ConfigError(f"no such file: {path}")
    run = RunDir(out, "sim-seeker-replay", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        catalog = load_catalog("redial", settings, progress=show_progress)
        names = redial_names(settings)
        episodes, skipped = read_episodes(Path(config.dialogues), catalog, names)
        if config.split != "all":
            episodes = [e for e in episodes if e.split == config.split]
        # What is missing (the ReDial catalog's graph, index) is built first, with progress.
        resources = Resources.load(catalog, settings, with_index=config.with_index,
                                   with_learnt=False, progress=show_progress)
        recommenders = Recommenders(resources, config, {e.conversation_id for e in episodes},
                                    show_progress)
    todo = episodes[:limit] if limit else episodes
    done = run.done()
    # One fold after another: a fold's learnt models are built once.
    missing = sorted((e for e in todo if e.conversation_id not in done),
                     key=lambda e: _order(recommenders.fold(e)))
    with LogTally() as tally:
        for episode in progress(missing, len(missing), "seekers replayed", show_progress):
            fold = recommenders.fold(episode)
            if "agent" in config.systems:
                with run.timed("learn") if not recommenders.folds.ready(fold) else nullcontext():
                    recommenders.get("agent", fold)
            record = {
                "conversation_id": episode.conversation_id,
                "fold": episode.fold,
                "split": episode.split,
                "targets": episode.targets,
                "target_titles": [catalog[i].display for i in episode.targets],
                "ended_by": episode.ended_by,
                "seeker": [t.text for t in episode.turns],
                "systems": {},
            }
            for name in recommenders.names():
                system = recommenders.get(name, fold)
                with run.timed(f"system.{name}"):
                    record["systems"][name] = play(
                        system, episode, config.k, f"replay:{episode.conversation_id}:{name}"
                    )
            shown = {i for r in record["systems"].values() for t in r["turns"] for i in t["items"]}
            record["titles"] = {i: catalog[i].display for i in sorted(shown) if i in catalog}
            run.record(episode.conversation_id, record)
            done[episode.conversation_id] = record
    records = [done[e.conversation_id] for e in todo if e.conversation_id in done]
    names_run = list(records[0]["systems"]) if records else []
    metrics = {
        "simulator": "seeker-replay",
        **headline(from_records(records, names_run, "success_turn"), config.k, config.seed),
        "splits": {
            split: headline(from_records([r for r in records if r["split"] == split], names_run,
                                         "success_turn"),
                            config.k, config.seed)
            for split in SPLITS
        },
        "input": {
            "dialogues": config.dialogues,
            "episodes": len(records),
            "skipped": skipped,
            "ended_by": dict(Counter(r["ended_by"] for r in records)),
            "targets_per_episode": M.finite(
                sum(len(r["targets"]) for r in records) / max(len(records), 1), 3),
            "seeker_turns_per_episode": M.finite(
                sum(len(r["seeker"]) for r in records) / max(len(records), 1), 3),
            "validation_fold": VALIDATION_FOLD,
            "folds": FOLDS,
            "training": {
                "dialogues": config.train or DEV_DIALOGUES,
                "count": len(recommenders.folds.train),
                "overlapping_dialogues": len(recommenders.folds.overlap),
                "mode": f"{FOLDS}-fold cross-fitted by conversationId" if recommenders.folds.cross_fitted
                else "learnt on all training dialogues (disjoint from the scored ones)",
                "learnt_by_agent": "dialogue statistics and the LambdaRank ranker (chatrec.learn)",
                "popularity_baseline": "recommender mentions in the same training dialogues",
            },
        },
        "learnt_components": recommenders.folds.components,
        "diagnostics": diagnostics(records),
        "agent_warnings": tally.summary(),
    }
    if hasattr(recommenders.folds, "agent_config"):
        metrics["agent_config"] = recommenders.folds.agent_config
    files = [Path(config.dialogues)] + ([Path(config.train)] if config.train else [])
    run.write_results(metrics, provenance(catalog, files))
    from chatrec.evaluation.report_replay import write_replay_report

    write_replay_report(run, metrics, records)
    return metrics


def _order(fold: int | None) -> int:
    return -1 if fold is None else fold


def diagnostics(records: list[dict]) -> dict:
    """Where the agent's replies went: decisions, replies without a film, and where the targets
    stood in its ``rank(k=50)`` after the seeker's last message."""
    decisions: Counter[str] = Counter()
    empty = total = 0
    last_ranks: list[int | None] = []
    for record in records:
        turns = record["systems"].get("agent", {}).get("turns", [])
        for turn in turns:
            total += 1
            decisions[turn.get("decision") or "–"] += 1
            empty += not turn["items"]
        if turns and "target_rank50" in turns[-1]:
            last_ranks.append(turns[-1]["target_rank50"])
    ranked = sorted(r for r in last_ranks if r is not None)
    return {
        "agent_turns": total,
        "agent_turns_without_films": empty,
        "agent_decisions": dict(decisions.most_common()),
        "target_in_rank50_at_end": len(ranked),
        "target_in_rank10_at_end": sum(1 for r in ranked if r <= 10),
        "episodes_with_rank_diagnostic": len(last_ranks),
    }
