"""The recommenders a simulated user talks to: the agent, and the baselines of the protocol
(popularity, vector-only in the Chat-Rec style, collaborative-only). One small interface:
``start(session_id, user)`` then ``turn(session_id, text) -> SystemTurn`` per user message.

Every system excludes what it already showed in the dialogue and the user's rating history (movies
they have seen); none of them ever sees the held-out target's rating.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from chatrec.catalog.constraints import ItemFilter
from chatrec.catalog.models import Catalog
from chatrec.evaluation.baselines import ItemSpace
from chatrec.evaluation.user import SystemTurn

logger = logging.getLogger(__name__)

HISTORY_SEEDS = 25


@dataclass
class _Session:
    user: str | None
    texts: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)


class _Baseline:
    """Shared bookkeeping: per-session texts, shown items and the user's history."""

    name = "baseline"

    def __init__(self, catalog: Catalog, k: int):
        self.catalog = catalog
        self.k = k
        self.space = ItemSpace(catalog.ids)
        self.sessions: dict[str, _Session] = {}

    def start(self, session_id: str, user: str | None) -> None:
        self.sessions[session_id] = _Session(user)

    def history(self, user: str | None) -> list[str]:
        if user is None or self.catalog.interactions is None:
            return []
        return self.catalog.interactions.history(user)["item_id"].tolist()

    def turn(self, session_id: str, text: str, named: Iterable[str] = ()) -> SystemTurn:
        """Answer one user message; ``named``: films the dialogue has named so far (never shown)."""
        session = self.sessions[session_id]
        session.texts.append(text)
        exclude = set(session.shown) | set(self.history(session.user)) | set(named)
        items = self.recommend(session, exclude)[: self.k]
        session.shown.extend(items)
        return SystemTurn(items=items)

    def finish(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def recommend(self, session: _Session, exclude: set[str]) -> list[str]:  # pragma: no cover
        raise NotImplementedError


class PopularitySystem(_Baseline):
    """The most popular movies the user has not seen, whatever they say: by the catalog's
    popularity (ratings), or by given counts (``counts``: item → how often human recommenders
    named it in training dialogues), the catalog's popularity breaking ties."""

    name = "popularity"

    def __init__(self, catalog: Catalog, k: int, counts: Mapping[str, float] | None = None):
        super().__init__(catalog, k)
        popularity = np.array([float(it.popularity) for it in catalog], dtype=np.float64)
        if counts is None:
            self.scores, self.fallback = popularity, None
        else:
            self.scores = np.zeros(len(self.space))
            for item_id, count in counts.items():
                row = self.space.index.get(item_id)
                if row is not None:
                    self.scores[row] = count
            self.fallback = popularity

    def recommend(self, session: _Session, exclude: set[str]) -> list[str]:
        return self.space.top(self.scores, self.k, exclude, fallback=self.fallback)


class VectorSystem(_Baseline):
    """Chat-Rec's retrieval alone: embed the whole dialogue so far (the user's messages), take the
    nearest items in the vector index, minus what was shown or seen."""

    name = "vector"

    def __init__(self, catalog: Catalog, k: int, index):
        super().__init__(catalog, k)
        self.index = index

    def recommend(self, session: _Session, exclude: set[str]) -> list[str]:
        query = " ".join(session.texts)
        hits = self.index.query(query, k=self.k, flt=ItemFilter(exclude_ids=exclude))
        return [item_id for item_id, _ in hits]


class CollaborativeSystem(_Baseline):
    """The agent's collaborative source alone (personalized PageRank from the user and co-rating
    neighbours of their recent well-rated movies), blind to what the user says."""

    name = "collab"

    def __init__(self, catalog: Catalog, k: int, collab):
        super().__init__(catalog, k)
        from chatrec.agent.retrieve import CollaborativeSource

        self.source = CollaborativeSource(collab)
        self.popularity = np.array([float(it.popularity) for it in catalog], dtype=np.float64)
        self._cache: dict[str | None, np.ndarray] = {}

    def _scores(self, user: str | None) -> np.ndarray:
        cached = self._cache.get(user)
        if cached is None:
            from chatrec.agent.retrieve import RetrievalQuery
            from chatrec.catalog.users import liked, rating_scale

            interactions = self.catalog.interactions
            seeds = {}
            if user is not None and interactions is not None:
                good = liked(interactions.history(user), rating_scale(interactions)).tail(HISTORY_SEEDS)
                seeds = {str(i): 1.0 for i in good["item_id"]}
            raw = self.source(RetrievalQuery(seeds=seeds, user_id=user))
            cached = np.zeros(len(self.space))
            for item_id, value in raw.items():
                row = self.space.index.get(item_id)
                if row is not None:
                    cached[row] = value
            self._cache = {user: cached}
        return cached

    def recommend(self, session: _Session, exclude: set[str]) -> list[str]:
        return self.space.top(self._scores(session.user), self.k, exclude, fallback=self.popularity)


class AgentSystem:
    """The agent through its public API: ``respond`` for every user message, ``rank`` for a
    diagnostic (where the target stands in the agent's top 50 after each turn).

    Args:
        agent: a ``chatrec.agent.Agent``.
        k: how many recommendations count as shown.
        diagnose_rank: also call ``rank(k=50)`` after each turn.
    """

    name = "agent"

    def __init__(self, agent, k: int, diagnose_rank: bool = True):
        self.agent = agent
        self.k = k
        self.diagnose_rank = diagnose_rank
        self.users: dict[str, str | None] = {}
        self.last_reply = None

    def start(self, session_id: str, user: str | None) -> None:
        self.users[session_id] = user
        self.agent.reset(session_id)

    def turn(self, session_id: str, text: str, named: Iterable[str] = ()) -> SystemTurn:
        """``respond`` to the message; ``named`` is ignored (the agent reads the films in the text)."""
        user = self.users.get(session_id)
        reply = self.agent.respond(
            session_id, text, user_id=f"ml:{user}" if user is not None else None
        )
        self.last_reply = reply
        items = [r.item.id for r in reply.recommendations][: self.k]
        question = reply.question.slot if reply.question is not None else None
        return SystemTurn(items=items, question=question, text=reply.text)

    def rank(self, session_id: str, k: int = 50) -> list[str]:
        return [r.item.id for r in self.agent.rank(session_id, k=k)]

    def finish(self, session_id: str) -> None:
        """Forget the session and what it taught the user's profile: the next dialogue of the
        same user must start from their rating history alone."""
        user = self.users.pop(session_id, None)
        self.agent.forget(f"ml:{user}" if user is not None else session_id)
