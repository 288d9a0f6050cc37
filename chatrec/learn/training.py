"""Training rankings for the learnt ranker, recorded through the agent's own query path.

* **Dialogues** (ReDial): each training dialogue is read by the agent turn by turn (seeker turns
  understood, recommender turns observed); before each recommender turn that names films new to
  the dialogue, the query the agent would rank for is recorded with those films as the answer.
* **Interactions** (MovieLens or any catalog with a log): each user's last well-rated film is
  held out; the query is the agent's for that user, built from the log without the held-out films
  (the collaborative models are refitted on it), and the held-out film is the answer.

Recording keeps the *base* sources' scores (vector, content, collaborative, KG, aspects) per query,
so learnt sources fitted on any subset of the dialogues (cross-fitting) can be added later without
replaying anything.
"""

from __future__ import annotations

import copy
import logging
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from chatrec.agent.agent import Agent
    from chatrec.agent.retrieve import RetrievalQuery

logger = logging.getLogger(__name__)

#: Separates a user's key from the cut point in the keys of interaction rankings (all of a user's
#: rankings fall on one side of the ranker's early-stopping split).
CUT_MARK = "#"


@dataclass
class RecordedQuery:
    """One ranking to learn from.

    Attributes:
        key: unique and stable ("<conversation>:<turn>", "user:<id>").
        group: the unit cross-fitting splits on (a conversation id, a user id).
        query: the agent's ``RetrievalQuery`` at that point.
        answers: ids of the right films (a group of ids counts once: one film, several ids).
        base: base source name → (rows, normalised scores) of its non-zero rows.
    """

    key: str
    group: str
    query: RetrievalQuery
    answers: set[str]
    base: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def inner_fold(group: str, folds: int) -> int:
    """A fold for cross-fitting inside the training data (salted: independent of the outer
    evaluation folds of ``redial_dialogues.fold_of``)."""
    return zlib.crc32(f"inner:{group}".encode()) % folds


class SignalRecorder:
    """Wraps a ``Retriever.signals`` to keep the query and the base sources' scores of the calls
    made after ``expect(key, group, answers)``."""

    def __init__(self, retriever):
        self.retriever = retriever
        self.pending: tuple[str, str, set[str]] | None = None
        self.recorded: list[RecordedQuery] = []
        self._signals = retriever.signals
        retriever.signals = self._record

    def expect(self, key: str, group: str, answers: set[str]) -> None:
        self.pending = (key, group, answers)

    def _record(self, query, timings=None):
        signals = self._signals(query, timings)
        if self.pending is not None and signals is not None:
            key, group, answers = self.pending
            base = {}
            for name, scores in signals.per_source.items():
                if name == "popularity":
                    continue
                rows = np.flatnonzero(scores)
                base[name] = (rows.astype(np.int32), scores[rows].astype(np.float32))
            self.recorded.append(RecordedQuery(key, group, copy.deepcopy(query), answers, base))
        self.pending = None
        return signals

    def close(self) -> None:
        self.retriever.signals = self._signals


class Replayed:
    """A base source answering from recorded scores (keyed by the recorded query object)."""

    def __init__(self, name: str, table, by_query: dict[int, tuple[np.ndarray, np.ndarray]]):
        self.name = name
        self.table = table
        self.by_query = by_query

    def __call__(self, query) -> np.ndarray | dict:
        found = self.by_query.get(id(query))
        if found is None:
            return {}
        dense = np.zeros(len(self.table), dtype=np.float32)
        dense[found[0]] = found[1]
        return dense


def replayed_sources(table, recorded: list[RecordedQuery]) -> list[Replayed]:
    names = sorted({name for r in recorded for name in r.base})
    return [Replayed(name, table, {id(r.query): r.base[name] for r in recorded if name in r.base})
            for name in names]


def canonical_dialogues(dialogues: Iterable, catalog) -> list:
    """The dialogues with each mentioned id as the catalog's id of that film: ReDial lists some
    films under several ids, which the catalog merges into one item (statistics and answers
    counted under an alias id would never reach the film). Ids the catalog lacks stay as they are;
    the texts keep their ``@id`` mentions for rendering."""
    from dataclasses import replace

    def canonical(ids: list[str]) -> list[str]:
        return list(dict.fromkeys(catalog.canonical_id(i) or i for i in ids))

    return [replace(d, messages=[replace(m, ids=canonical(m.ids)) for m in d.messages]) for d in dialogues]


def record_dialogues(agent, dialogues: Iterable, names: dict[str, str], progress: bool = False,
                     ) -> list[RecordedQuery]:
    """The agent's query before each recommender turn naming new films, for every dialogue
    (answers as catalog ids). The agent must carry no learnt parts (they are what is being
    trained)."""
    from chatrec.catalog.redial_dialogues import render, scored_turns

    recorder = SignalRecorder(agent.retriever)
    dialogues = canonical_dialogues(dialogues, agent.catalog)
    try:
        for dialogue in _progress(dialogues, "learn: reading training dialogues", progress):
            session = f"learn:{dialogue.conversation_id}"
            agent.reset(session)
            scored = {t.index: t for t in scored_turns(dialogue) if t.gold_new}
            for index, message in enumerate(dialogue.messages):
                turn = scored.get(index)
                if turn is not None:
                    answers = {i for group in turn.gold_new for i in group}
                    recorder.expect(turn.key, dialogue.conversation_id, answers)
                    agent.rank(session, k=1)
                agent.observe(session, render(message.text, names), role=message.role)
            agent.reset(session)
    finally:
        recorder.close()
    return recorder.recorded


def holdout_liked(frame: pd.DataFrame, liked: pd.Series, back: int = 0,
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """(log cut before each user's liked film ``back`` places from their last — that film and
    everything after it held out —, user → that film). ``liked`` marks the liked rows of
    ``frame`` (``users.liked_mask``). Users with fewer than two liked films before the cut keep
    their log and give no case."""
    ordered = frame.assign(_liked=liked.to_numpy()).sort_values(
        ["user_id", "timestamp", "item_id"], kind="stable")
    positives = ordered.loc[ordered["_liked"].to_numpy()]
    from_last = positives.groupby("user_id").cumcount(ascending=False).to_numpy()
    counts = positives.groupby("user_id")["item_id"].transform("size").to_numpy()
    cut = positives.loc[(from_last == back) & (counts >= back + 3)]
    targets = dict(zip(cut["user_id"], cut["item_id"], strict=True))
    stamp = ordered["user_id"].map(pd.Series(cut["timestamp"].to_numpy(), index=cut["user_id"],
                                             dtype="float64"))
    keep = stamp.isna() | (ordered["timestamp"] < stamp)
    return ordered.loc[keep].drop(columns="_liked"), targets


def holdout_last_liked(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``holdout_liked`` of each user's last liked film (liked: ``users.liked_mask``)."""
    from chatrec.catalog.models import Interactions
    from chatrec.catalog.users import liked_mask, rating_scale

    return holdout_liked(frame, liked_mask(frame, rating_scale(Interactions(frame))))


def record_interactions(agent_for_log: Callable[[object], Agent], catalog, max_queries: int | None = None,
                        cuts: int = 1, seed: int = 0, progress: bool = False,
                        ) -> list[tuple[list[RecordedQuery], Agent]]:
    """Rankings to learn from, recorded as an evaluation on a temporal hold-out asks for them:
    for each of ``cuts`` cut points (each user's last liked film, the one before, …), the agent
    (built by ``agent_for_log(the log cut there)``: collaborative models refitted on it) ranks for
    each user from their log before the cut, and the liked film at the cut is the answer.
    At most ``max_queries`` users in all (sampled, seeded), the same users at every cut.
    Returns (queries, that cut's agent) per cut."""
    from chatrec.catalog.models import Interactions
    from chatrec.catalog.users import liked_mask, rating_scale, user_address

    frame = catalog.interactions.frame
    liked = liked_mask(frame, rating_scale(catalog.interactions))
    cut_points = [holdout_liked(frame, liked, back) for back in range(cuts)]
    users = sorted(cut_points[0][1])
    budget = max(1, (max_queries or len(users) * cuts) // cuts)
    if len(users) > budget:
        rng = np.random.default_rng(seed)
        users = sorted(rng.choice(users, size=budget, replace=False).tolist())
    out = []
    for back, (reduced, targets) in enumerate(cut_points):
        agent = agent_for_log(catalog.with_interactions(Interactions(reduced)))
        recorder = SignalRecorder(agent.retriever)
        todo = [u for u in users if u in targets]
        try:
            for user in _progress(todo, f"learn: holding out interactions ({back + 1}/{cuts})", progress):
                session = f"learn:user:{user}"
                key = f"user:{user}" if back == 0 else f"user:{user}{CUT_MARK}{back}"
                recorder.expect(key, f"user:{user}", {targets[user]})
                agent.rank(session, k=1, user_id=user_address(catalog.name, user))
                agent.reset(session)
        finally:
            recorder.close()
        out.append((recorder.recorded, agent))
    return out


def _progress(items: list, label: str, show: bool):
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, leave=False)
