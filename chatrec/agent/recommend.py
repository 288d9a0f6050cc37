"""The recommend step: retrieve → rank → explain, and the template reply that presents the list."""

from __future__ import annotations

import time

from chatrec.agent import templates as T
from chatrec.agent.config import AgentConfig
from chatrec.agent.diversify import Diversifier
from chatrec.agent.draft import Draft
from chatrec.agent.explain import Explainer
from chatrec.agent.models import Recommendation, Trace
from chatrec.agent.query import QueryBuilder, UserContext
from chatrec.agent.relax import retrieve_relaxed
from chatrec.agent.retrieve import Retriever
from chatrec.agent.timing import ms
from chatrec.catalog.constraints import Constraints
from chatrec.catalog.models import Catalog
from chatrec.protocols import AgentLLMPort


class Recommender:
    """Answers a request with ``config.k`` recommendations, each explained by KG edges.

    Candidates come from the retriever (a pool of ``config.pool_size()``), the diversifier picks
    ``k``, an LLM may reorder them (optional), and the hard constraints are checked once more on
    the final list, whatever produced a candidate.

    Args:
        catalog: the items.
        queries: builds the retrieval query from the user context.
        retriever: the fused retrieval sources.
        explainer: KG-path explanations.
        config: k, pool size and diversity.
        llm: the agent's LLM (reranking), or None.
        tastes: log user → taste summary written by ``chatrec augment`` (for the LLM's profile).
    """

    def __init__(self, catalog: Catalog, queries: QueryBuilder, retriever: Retriever, explainer: Explainer,
                 config: AgentConfig, llm: AgentLLMPort | None = None, tastes: dict[str, str] | None = None):
        self.catalog = catalog
        self.queries = queries
        self.retriever = retriever
        self.explainer = explainer
        self.config = config
        self.diversify = Diversifier(catalog, config.diversity)
        self.llm = llm
        self.tastes = tastes if tastes is not None else {}  # live: `chatrec augment` may add to it

    def __call__(self, context: UserContext, trace: Trace, prefix: str = "", notes: list[str] | None = None) -> Draft:
        state, k = context.state, self.config.k
        t = time.perf_counter()
        query = self.queries.build(context)
        # Too few films for every constraint: the least certain is relaxed, and the reply says so.
        candidates, relaxations, held = retrieve_relaxed(self.retriever, query, k=self.config.pool_size(),
                                                         need=k, timings=trace.timings_ms)
        trace.timings_ms["retrieve"] = ms(t)
        trace.candidates = [{"item_id": c.item_id, "title": self.catalog[c.item_id].display,
                             "score": round(c.score, 4), "sources": c.sources} for c in candidates[:20]]
        t = time.perf_counter()
        chosen = self.diversify(candidates, k)
        if relaxations:   # diversity may not put a film that leaves a constraint out before one that keeps all
            strict = query.constraints.matcher()
            chosen.sort(key=lambda c: not strict(self.catalog[c.item_id]))
        if self.llm is not None and chosen:
            taste = self.tastes.get(context.log_user) if context.log_user else None
            chosen = self.llm.rerank(chosen, candidates, context, self.catalog, trace, taste=taste)
        allowed = held.excluding(query.exclude).matcher()
        chosen = [c for c in chosen if allowed(self.catalog[c.item_id])]
        trace.timings_ms["rank"] = ms(t)
        t = time.perf_counter()
        anchors = context.anchors()
        observed = [i for turn in state.turns if turn.role == "recommender" for i in turn.items]
        reference_items = anchors + [i for i in observed if i not in anchors]
        attributes = explained_attributes(context)
        recs: list[Recommendation] = []
        for cand in chosen:
            item = self.catalog[cand.item_id]
            sentence, facts = self.explainer.explain(item, reference_items, attributes, set(anchors))
            recs.append(Recommendation(item=item, score=round(cand.score, 5), sources=cand.sources,
                                       evidence=facts, explanation=sentence))
        trace.timings_ms["explain"] = ms(t)
        relaxed = T.relaxed_note([(r.label, r.matched) for r in relaxations]) if relaxations and recs else ""
        if relaxed:
            trace.notes.append(f"relaxed: {relaxed}")
        return self._word(context, recs, [s for s in [prefix, *(notes or []), relaxed] if s], held, relaxed)

    def _word(self, context: UserContext, recs: list[Recommendation], lines: list[str], held: Constraints,
              relaxed: str) -> Draft:
        state = context.state
        # The constraint summary repeats the user's own words ("without Will Ferrell"): trusted,
        # so the guard checks only the claims about items.
        if not recs:
            summary = (T.no_match(state.constraints) if not state.constraints.is_empty()
                       else "I couldn't find anything new to suggest — tell me more about what you like?")
            lines.append(summary)
            return Draft("\n".join(lines), decision="recommend:none", trusted=[summary])
        preamble = "\n".join(lines)
        intro = T.intro(state.session_id + str(len(state.turns)), held, len(recs), self.config.k)
        lines.append(intro)
        for i, rec in enumerate(recs, 1):
            lines.append(f"{i}. {T.title(rec.item)} — {rec.explanation}")
        return Draft("\n".join(lines), recommendations=recs, decision="recommend", preamble=preamble,
                     trusted=[intro, relaxed])


def explained_attributes(context: UserContext) -> list[str]:
    """What an explanation may point to besides liked items: liked attributes (newest first) and
    what the user asked for."""
    state = context.state
    return list(dict.fromkeys([*reversed(state.liked_attributes), *state.constraints.nodes()]))
