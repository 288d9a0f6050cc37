"""What human recommenders did in training dialogues: which films they brought up after which
others (co-mentions), how often each film was recommended at all, and how often anyone named it.

Counted from the ``@id`` mentions in message texts only (never ReDial's ``movieMentions`` or
questionnaires, which list future films too). Each is a retrieval source: a ``name`` and
``__call__(RetrievalQuery) -> {item_id: score}``; ``chatrec build`` fits them for the ReDial
catalog and the agent uses them by default.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Protocol

import numpy as np


class DialogueLike(Protocol):
    """A dialogue as the readers of ``chatrec.catalog.redial_dialogues`` produce it."""

    conversation_id: str
    messages: list  # of objects with ``role`` ("seeker"/"recommender") and ``ids``


class DialogueStats:
    """Counts from training dialogues.

    Attributes:
        recommended: item → number of recommender turns mentioning it.
        together: item a → item b → in how many dialogues both were mentioned.
        in_dialogues: item → in how many dialogues it was mentioned.
        dialogues: how many dialogues were counted.
    """

    def __init__(self) -> None:
        self.recommended: Counter[str] = Counter()
        self.together: dict[str, Counter[str]] = defaultdict(Counter)
        self.in_dialogues: Counter[str] = Counter()
        self.dialogues = 0

    @classmethod
    def fit(cls, dialogues: Iterable[DialogueLike]) -> DialogueStats:
        stats = cls()
        for dialogue in dialogues:
            stats.dialogues += 1
            named = list(dict.fromkeys(i for m in dialogue.messages for i in m.ids))
            for a in named:
                stats.in_dialogues[a] += 1
                for b in named:
                    if a != b:
                        stats.together[a][b] += 1
            for message in dialogue.messages:
                if message.role == "recommender":
                    stats.recommended.update(message.ids)
        return stats

    def to_json(self) -> dict:
        return {"dialogues": self.dialogues, "recommended": dict(self.recommended),
                "in_dialogues": dict(self.in_dialogues),
                "together": {a: dict(c) for a, c in self.together.items()}}

    @classmethod
    def from_json(cls, data: dict) -> DialogueStats:
        stats = cls()
        stats.dialogues = int(data["dialogues"])
        stats.recommended = Counter(data["recommended"])
        stats.in_dialogues = Counter(data["in_dialogues"])
        stats.together = defaultdict(Counter, {a: Counter(c) for a, c in data["together"].items()})
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
    """Films talked about in the same training dialogues as the ones this dialogue named:
    Σ over context items a of weight(a) · co(a, b) / (n_a^alpha · n_b^(1 - alpha) + shrink), where
    co counts dialogues naming both and n_x those naming x.

    Args:
        stats: counts from the training dialogues.
        alpha: how much the context item's own frequency is divided out (1: P(b named | a named);
            0.5: a cosine).
        shrink: pseudo-count; a film seen in few training dialogues says little.
    """

    name = "comention"

    def __init__(self, stats: DialogueStats, alpha: float = 0.7, shrink: float = 5.0):
        self.stats = stats
        self.alpha = alpha
        self.shrink = shrink

    def scores(self, items: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        stats = self.stats
        for a, weight in items.items():
            together = stats.together.get(a)
            if not together:
                continue
            n_a = stats.in_dialogues[a] ** self.alpha
            for b, count in together.items():
                out[b] += weight * count / (n_a * stats.in_dialogues[b] ** (1 - self.alpha) + self.shrink)
        return dict(out)

    def __call__(self, query) -> dict[str, float]:
        return self.scores(context_items(query))


class MentionPopularity:
    """How often human recommenders recommended each film in the training dialogues
    (log-scaled): a prior that needs no context."""

    name = "mention_pop"

    def __init__(self, stats: DialogueStats):
        self.values = {i: math.log1p(c) for i, c in stats.recommended.items()}

    def __call__(self, query) -> dict[str, float]:
        return self.values


class DialoguePopularity:
    """In how many training dialogues each film was named by anyone, seekers included
    (log-scaled): what people talking about films bring up, a broader prior than what
    recommenders suggested."""

    name = "mention_any"

    def __init__(self, stats: DialogueStats):
        self.values = {i: math.log1p(c) for i, c in stats.in_dialogues.items()}

    def __call__(self, query) -> dict[str, float]:
        return self.values


class GenreMentionPopularity:
    """Mention popularity conditioned on the genres the dialogue leans to: log(1 + times
    recommended) · (floor + cosine of the film's genres with the dialogue's genre profile).
    Without a profile it is plain mention popularity.

    Args:
        stats: counts from the training dialogues.
        genres: the catalog's ``GenreProfile``.
        floor: how much a film of other genres keeps.
    """

    name = "mention_genre"

    def __init__(self, stats: DialogueStats, genres, floor: float = 0.2):
        self.genres = genres
        self.floor = floor
        self.values = np.zeros(genres.n, dtype=np.float32)
        for item_id, count in stats.recommended.items():
            row = genres.pos.get(item_id)
            if row is not None:
                self.values[row] = math.log1p(count)

    def __call__(self, query) -> np.ndarray:
        similarity = self.genres.similarity(query)
        if not similarity.any():
            return self.values
        return self.values * (self.floor + similarity)
