"""Composition of the agent's steps from ``Resources`` and an ``AgentConfig``: which retrieval
sources run, with which ranker, and how the turn steps are wired together. ``Agent.__init__``
calls these once; nothing here runs per turn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chatrec.agent.answer import Answerer
from chatrec.agent.config import AgentConfig
from chatrec.agent.explain import Explainer
from chatrec.agent.guard import Guard
from chatrec.agent.policy import DialoguePolicy
from chatrec.agent.query import QueryBuilder
from chatrec.agent.rate import Rater
from chatrec.agent.recommend import Recommender
from chatrec.agent.retrieve import (
    CollaborativeSource,
    ContentSource,
    FactorSource,
    KnowledgeGraphSource,
    Retriever,
    Source,
    VectorSource,
)
from chatrec.agent.sessions import SessionRepository
from chatrec.agent.table import ItemTable
from chatrec.agent.turn import TurnSteps
from chatrec.agent.understand import RuleUnderstander
from chatrec.agent.verify import ReplyVerifier
from chatrec.index.aspects import AspectIndex
from chatrec.learn.features import FeatureBuilder
from chatrec.learn.models import LearntModels
from chatrec.learn.ranker import PriorRanker
from chatrec.protocols import AgentLLMPort
from chatrec.resources import Resources
from kg.paths import explain as find_paths


@dataclass
class Retrieval:
    """The retriever and what it was built from.

    Attributes:
        retriever: the fused sources and the ranker.
        features: the ranker's feature builder.
        learnt: the learnt sources and ranker in use (None: none).
    """

    retriever: Retriever
    features: FeatureBuilder
    learnt: LearntModels | None


def retrieval(resources: Resources, table: ItemTable, config: AgentConfig,
              learnt: LearntModels | Literal[False] | None = None,
              extra_sources: dict[str, tuple[Source, float]] | None = None) -> Retrieval:
    """The retrieval sources over ``resources``, the learnt ones (``resources.learnt`` unless
    ``learnt`` is given; False: none), any ``extra_sources``, and the ranker."""
    kg_source = KnowledgeGraphSource(resources.kg, table)
    aspects = AspectIndex(resources.catalog, cache_dir=resources.settings.cache_dir)
    sources: list[Source] = [VectorSource(resources.index), ContentSource(resources.index, table),
                             CollaborativeSource(resources.collab), FactorSource(resources.collab),
                             kg_source, aspects]
    used = resources.learnt if learnt is None else (learnt or None)
    extra = {**(used.sources(table) if used is not None else {}), **(extra_sources or {})}
    extra_weights = {}
    for name, (source, weight) in extra.items():
        sources.append(source)
        extra_weights[name] = weight
    features = FeatureBuilder(table, kg_source.matrix, aspects)
    ranker = used.ranker(features) if used is not None else PriorRanker(features)
    return Retrieval(Retriever(table, sources, config.weights, extra_weights, ranker=ranker), features, used)


def turn_steps(resources: Resources, config: AgentConfig, sessions: SessionRepository,
               understander: RuleUnderstander, queries: QueryBuilder, retriever: Retriever,
               llm: AgentLLMPort | None) -> TurnSteps:
    """The steps of a turn, wired."""
    catalog, kg, linker = resources.catalog, resources.kg, resources.linker
    explainer = Explainer(catalog, kg, find_paths)
    augmentations = getattr(resources.index, "augmentations", None)
    return TurnSteps(
        sessions=sessions, understander=understander, queries=queries, policy=DialoguePolicy(catalog),
        answerer=Answerer(catalog, kg, explainer), rater=Rater(catalog, resources.collab),
        recommender=Recommender(catalog, queries, retriever, explainer, config, llm,
                                tastes=getattr(augmentations, "users", None)),
        verifier=ReplyVerifier(Guard(catalog, kg, linker), llm), linker=linker, kg=kg, llm=llm)
