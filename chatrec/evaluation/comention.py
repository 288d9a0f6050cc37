"""Retrieval sources learnt from *training* dialogues: which movies human recommenders bring up
after which others (co-mentions), and how often each movie is recommended at all.

Both are fair in the ReDial replay only when fitted on dialogues that are not scored (``--train``,
or the other folds when the scored file is also the training file). They read the ``@id``
mentions in message texts, never ``movieMentions`` or questionnaires. Each is a retrieval source
for ``Agent(extra_sources=...)``: a ``name`` and ``__call__(RetrievalQuery) -> {item_id: score}``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from chatrec.evaluation.redial_data import Dialogue, fold_of

logger = logging.getLogger(__name__)


class DialogueStats:
    """Counts from training dialogues.

    Attributes:
        recommended: item → number of recommender turns mentioning it.
        mentioned: item → number of turns (either role) mentioning it.
        follows: context item a → item b → how often a recommender mentioned b in a dialogue where
            a had been mentioned before (by either party).
        together: item a → item b → in how many dialogues both were mentioned.
        in_dialogues: item → in how many dialogues it was mentioned.
        dialogues: how many dialogues were counted.
    """

    def __init__(self) -> None:
        self.recommended: Counter[str] = Counter()
        self.mentioned: Counter[str] = Counter()
        self.follows: dict[str, Counter[str]] = defaultdict(Counter)
        self.together: dict[str, Counter[str]] = defaultdict(Counter)
        self.in_dialogues: Counter[str] = Counter()
        self.dialogues = 0

    @classmethod
    def fit(cls, dialogues: Iterable[Dialogue]) -> DialogueStats:
        stats = cls()
        for dialogue in dialogues:
            stats.dialogues += 1
            named = list(dict.fromkeys(i for m in dialogue.messages for i in m.ids))
            for a in named:
                stats.in_dialogues[a] += 1
                for b in named:
                    if a != b:
                        stats.together[a][b] += 1
            earlier: list[str] = []
            for message in dialogue.messages:
                for item_id in message.ids:
                    stats.mentioned[item_id] += 1
                if message.role == "recommender":
                    for item_id in message.ids:
                        stats.recommended[item_id] += 1
                        for before in earlier:
                            if before != item_id:
                                stats.follows[before][item_id] += 1
                for item_id in message.ids:
                    if item_id not in earlier:
                        earlier.append(item_id)
        return stats


def context_items(query, cap: int = 200) -> dict[str, float]:
    """The items a query's dialogue named, with weights: its seeds as given, anything else named
    (excluded because mentioned, seen or disliked) at half weight. A query that excludes very many
    items (a user's whole history) contributes only its seeds."""
    items = {i: float(w) for i, w in query.seeds.items() if w > 0}
    others = set(query.exclude) | set(query.disliked_items)
    if len(others) <= cap:
        for item_id in others:
            items.setdefault(item_id, 0.5)
    return items


class DialogueCoMention:
    """Movies talked about in the same dialogues as these: Σ over context items a of
    weight(a) · co(a, b) / (n_a^alpha · n_b^(1 - alpha) + shrink), where co counts training
    dialogues naming both and n_x those naming x (``mode="dialogue"``); or, with
    ``mode="directed"``, how often recommenders brought b up after a had been named,
    follows[a][b] / (Σ_b follows[a][b] + shrink).

    The defaults were chosen on the IARD tuning dialogues (``chatrec.evaluation.tune``), where the
    dialogue co-occurrence with alpha = 1 (P(b named | a named)) beat the directed counts.

    Args:
        stats: counts from the training dialogues.
        mode: "dialogue" or "directed".
        alpha: how much the context item's own frequency is divided out (1: a conditional
            probability; 0.5: a cosine).
        shrink: pseudo-count; a movie seen in few training dialogues says little.
        beta: extra popularity damping, score / recommended[b]^beta (0 = none).
    """

    name = "comention"

    def __init__(
        self,
        stats: DialogueStats,
        mode: str = "dialogue",
        alpha: float = 1.0,
        shrink: float = 5.0,
        beta: float = 0.0,
    ):
        if mode not in ("dialogue", "directed"):
            raise ValueError(f"unknown co-mention mode {mode!r}")
        self.stats = stats
        self.mode = mode
        self.alpha = alpha
        self.shrink = shrink
        self.beta = beta
        self._totals = {a: sum(c.values()) for a, c in stats.follows.items()}

    def scores(self, items: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        stats = self.stats
        for a, weight in items.items():
            if self.mode == "directed":
                following = stats.follows.get(a)
                if not following:
                    continue
                denominator = self._totals[a] + self.shrink
                for b, count in following.items():
                    out[b] += weight * count / denominator
                continue
            together = stats.together.get(a)
            if not together:
                continue
            n_a = stats.in_dialogues[a] ** self.alpha
            for b, count in together.items():
                out[b] += (
                    weight * count / (n_a * stats.in_dialogues[b] ** (1 - self.alpha) + self.shrink)
                )
        if self.beta:
            for b in out:
                out[b] /= max(stats.recommended.get(b, 1), 1) ** self.beta
        return dict(out)

    def __call__(self, query) -> dict[str, float]:
        return self.scores(context_items(query))


class MentionPopularity:
    """How often human recommenders recommended each movie in the training dialogues
    (log-scaled): a prior that does not need any context."""

    name = "mention_pop"

    def __init__(self, stats: DialogueStats):
        self.values = {i: math.log1p(c) for i, c in stats.recommended.items()}

    def __call__(self, query) -> dict[str, float]:
        return self.values


class Folded:
    """One source per fold, switched by the harness: while dialogues of fold ``f`` are replayed the
    source fitted on the other folds answers. Used when the scored file is also the training file.

    Args:
        name: the source's name in the fusion.
        per_fold: fold → source.
    """

    def __init__(self, name: str, per_fold: dict[int, object]):
        self.name = name
        self.per_fold = per_fold
        self.active: int | None = None

    def __call__(self, query) -> dict[str, float]:
        if self.active is None:
            raise RuntimeError(f"{self.name}: no fold selected (the harness must call use())")
        return self.per_fold[self.active](query)

    def use(self, fold: int | None) -> None:
        self.active = fold


def fit_sources(
    train: list[Dialogue], scored_ids: set[str], folds: int = 5, **params
) -> tuple[dict[str, object], dict]:
    """The learnt sources for a run, and how they were trained (for the report). ``params`` go to
    ``DialogueCoMention`` (mode, alpha, shrink, beta).

    When the training dialogues overlap the scored ones, each scored dialogue's fold is answered by
    statistics from the training dialogues of the *other* folds (``Folded``); otherwise one model
    fitted on all training dialogues answers everything.
    """
    overlap = {d.conversation_id for d in train} & scored_ids
    if not overlap:
        stats = DialogueStats.fit(train)
        sources = {
            "comention": DialogueCoMention(stats, **params),
            "mention_pop": MentionPopularity(stats),
        }
        return sources, {"mode": "disjoint", "train_dialogues": stats.dialogues}
    per_fold_co, per_fold_pop, sizes = {}, {}, {}
    for fold in range(folds):
        stats = DialogueStats.fit(d for d in train if fold_of(d.conversation_id, folds) != fold)
        per_fold_co[fold] = DialogueCoMention(stats, **params)
        per_fold_pop[fold] = MentionPopularity(stats)
        sizes[fold] = stats.dialogues
    sources = {
        "comention": Folded("comention", per_fold_co),
        "mention_pop": Folded("mention_pop", per_fold_pop),
    }
    return sources, {
        "mode": f"{folds}-fold by conversationId",
        "folds": folds,
        "overlapping_dialogues": len(overlap),
        "train_dialogues_per_fold": sizes,
    }
