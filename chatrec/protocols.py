"""The interfaces between rooms, as ``typing.Protocol``s.

The agent depends on these, not on the classes that implement them today
(``kg.graph.KnowledgeGraph``, ``kg.linker.EntityLinker``, ``chatrec.index.ItemIndex``,
``chatrec.collab.CollaborativeModels``): a test stand-in or a Chroma server only has to offer these
methods. Each lists what its consumers call, no more. The store's protocol lives in its room
(``chatrec.store.SessionStore``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from chatrec.agent.models import DialogueAct, Recommendation, Trace
    from chatrec.agent.query import UserContext
    from chatrec.agent.retrieve import Candidate
    from chatrec.agent.state import SessionState
    from chatrec.catalog.constraints import Constraints
    from chatrec.catalog.models import Catalog
    from chatrec.collab.rating import RatingPrediction
    from kg.linker import Mention
    from kg.models import Fact


class Graph(Protocol):
    """The knowledge graph: item → entity edges (people, genres, keywords, decades)."""

    @property
    def n_items(self) -> int: ...
    def label(self, node: str) -> str: ...
    def has_item(self, item_id: str) -> bool: ...
    def facts_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[Fact]: ...
    def fact(self, item_id: str, relation: str, entity_node: str) -> Fact | None: ...
    def has_fact(self, item_id: str, relation: str | None, entity_node: str) -> bool: ...
    def items_with(self, entity_node: str, relation: str | None = None) -> set[str]: ...
    def entities_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[str]: ...
    def degree(self, entity_node: str) -> int: ...
    def weight(self, entity_node: str, relation_weights: dict[str, float] | None = None) -> float: ...
    def edges(self, item_id: str) -> tuple[tuple[str, str], ...]: ...


class Linker(Protocol):
    """Finds the items, people, genres, keywords and decades a text names."""

    def link(self, text: str, context: Collection[str] = ()) -> list[Mention]: ...
    def resolve(self, name: str, kind: str | None = None) -> list[str]: ...


class VectorIndex(Protocol):
    """Semantic search over item documents, with hard constraints."""

    def query(self, text: str, k: int = 50, flt: Constraints | None = None) -> list[tuple[str, float]]: ...
    def vectors(self) -> tuple[list[str], np.ndarray]: ...


class PageRank(Protocol):
    def scores(self, seed_items: Mapping[str, float], user_id: str | None = None, k: int = 200,
               exclude: Iterable[str] = (), debias: float | None = None,
               exclude_history: bool = True) -> dict[str, float]: ...


class CoRatings(Protocol):
    def similar(self, seeds: Mapping[str, float], k: int = 20, exclude: Iterable[str] = ()) -> dict[str, float]: ...


class Factors(Protocol):
    def scores(self, seeds: Mapping[str, float], k: int = 300, exclude: Iterable[str] = ()) -> dict[str, float]: ...


class RatingPredictor(Protocol):
    def predict(self, user_id: str, item_id: str) -> RatingPrediction | None: ...
    def predict_for(self, history: Mapping[str, float], item_id: str,
                    user_id: str | None = None) -> RatingPrediction | None: ...


class Collaborative(Protocol):
    """Collaborative models fitted on a catalog's interactions."""

    @property
    def ppr(self) -> PageRank: ...
    @property
    def cooccur(self) -> CoRatings: ...
    @property
    def rating(self) -> RatingPredictor: ...
    @property
    def factors(self) -> Factors: ...


class AgentLLMPort(Protocol):
    """What the agent asks of its LLM (``chatrec.agent.llm_bridge.AgentLLM``): each task optional,
    each answer checked by the agent before use, a budget per turn."""

    @property
    def name(self) -> str: ...
    def new_turn(self) -> Any: ...
    def use(self, budget: Any) -> AbstractContextManager[Any]: ...
    def understand(self, act: DialogueAct, message: str, state: SessionState, linker: Linker, kg: Graph,
                   trace: Trace) -> DialogueAct: ...
    def rerank(self, chosen: list[Candidate], candidates: list[Candidate], context: UserContext, catalog: Catalog,
               trace: Trace, taste: str | None = None) -> list[Candidate]: ...
    def wants_to_phrase(self, recommendations: list[Recommendation]) -> bool: ...
    def phrase(self, recommendations: list[Recommendation], state: SessionState) -> str | None: ...
    def stream_phrase(self, recommendations: list[Recommendation], state: SessionState) -> Iterator[str]: ...
