"""``Agent``: one conversational recommender behind every surface.

A facade over named steps (see docs/architecture.md): ``respond`` runs one turn — understand →
remember → decide → retrieve → rank → explain → verify — through ``TurnRunner``; the other methods
read and edit sessions and profiles through the ``SessionRepository``. The agent holds no I/O with
users; surfaces (CLI, Gradio, Slack, evaluation) only call the methods here and render the ``Reply``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Literal

from chatrec.agent.arguments import item_id_arg, k_arg, required_user_id, session_id_arg, user_id_arg
from chatrec.agent.compose import retrieval, turn_steps
from chatrec.agent.config import AgentConfig
from chatrec.agent.history import UserHistory
from chatrec.agent.memory import apply_act, apply_to_profile
from chatrec.agent.models import DialogueAct, FeedbackKind, Recommendation, Reply
from chatrec.agent.query import QueryBuilder
from chatrec.agent.relax import retrieve_relaxed
from chatrec.agent.retrieve import FusionWeights, RetrievalQuery, Source
from chatrec.agent.sessions import SessionRepository
from chatrec.agent.state import SessionState, ShownItem, UserProfile
from chatrec.agent.table import ItemTable
from chatrec.agent.turn import TurnRunner, clean_text
from chatrec.agent.understand import RuleUnderstander
from chatrec.errors import UnknownItemError
from chatrec.learn.models import LearntModels
from chatrec.protocols import AgentLLMPort
from chatrec.resources import Resources
from chatrec.store.protocol import SessionStore
from chatrec.store.records import FeedbackEvent

logger = logging.getLogger(__name__)

class Agent:
    """The Chat-Rec agent.

    Args:
        resources: catalog, KG, linker, index and collaborative models (``Resources.load``).
        store: where sessions and profiles persist (``chatrec.store.Store``; None: memory only).
        llm: the agent's LLM (``chatrec.agent.llm_bridge.AgentLLM``); None runs the deterministic path.
        config: the policy numbers (``AgentConfig``); ``weights``, ``k`` and
            ``observed_seed_weight`` override its fields of the same meaning.
        extra_sources: additional retrieval sources (name → (source, weight)).
        learnt: the learnt sources and ranker (``chatrec.learn.LearntModels``); None takes
            ``resources.learnt`` (what ``chatrec build`` learnt), False leaves them out (an
            ablation, or the base agent that training data is recorded with).
    """

    def __init__(self, resources: Resources, store: SessionStore | None = None, llm: AgentLLMPort | None = None,
                 weights: FusionWeights | None = None, extra_sources: dict[str, tuple[Source, float]] | None = None,
                 k: int | None = None, observed_seed_weight: float | None = None, config: AgentConfig | None = None,
                 learnt: LearntModels | Literal[False] | None = None):
        config = (config or AgentConfig()).model_copy(deep=True)
        if weights is not None:
            config.weights = weights
        if k is not None:
            config.k = k
        if observed_seed_weight is not None:
            config.seeds.observed = observed_seed_weight
        self.config = config
        self.resources = resources
        self.catalog, self.kg, self.linker = resources.catalog, resources.kg, resources.linker
        self.store = store
        self.llm = llm
        self.table = ItemTable(self.catalog, self.kg)
        built = retrieval(resources, self.table, config, learnt, extra_sources)
        self.retriever, self.ranker_features, self.learnt = built.retriever, built.features, built.learnt
        self.history = UserHistory(self.catalog, config.history)
        self.queries = QueryBuilder(self.catalog, self.kg, self.history, config.seeds)
        self.sessions = SessionRepository(store, config.caches)
        self.understander = RuleUnderstander(self.catalog, self.linker)
        self.turns = TurnRunner(config, turn_steps(resources, config, self.sessions, self.understander,
                                                   self.queries, self.retriever, llm))

    @property
    def k(self) -> int:
        """How many items a reply recommends."""
        return self.config.k

    @classmethod
    def from_config(cls, catalog: str = "movielens", settings=None, *, llm=None, store=None,
                    build_missing: bool = True, progress: bool = False, interactions=None,
                    index_in_background: bool = False, **kwargs: Any) -> Agent:
        """An agent for a catalog spec ("movielens", "redial", or a JSONL/CSV path).

        ``interactions``: an ``Interactions`` log to learn from instead of the catalog's own (an
        evaluation's training split; see ``Resources.load``).

        ``index_in_background``: a missing vector index is built in a background thread and the
        agent answers meanwhile without vector retrieval (``chatrec serve``, ``chatrec slack``).

        ``llm``: None reads ``CHATREC_LLM``; False disables the LLM; a LangChain chat model is used
        as given. ``store``: None opens the configured store (``CHATREC_STORE_URL``, else SQLite
        under ``CHATREC_HOME``); False keeps sessions in memory only.
        """
        from chatrec.config import get_settings

        settings = settings or get_settings()
        resources = Resources.load(catalog, settings, build_missing=build_missing, progress=progress,
                                   interactions=interactions, index_in_background=index_in_background)
        if store is None:
            from chatrec.store import open_store

            store = open_store(settings)
        elif store is False:
            store = None
        agent_llm = None
        if llm is not False:
            from chatrec.agent.llm_bridge import make_agent_llm

            agent_llm = make_agent_llm(llm, settings)
        return cls(resources, store=store, llm=agent_llm, **kwargs)

    def history_user(self, user_id: str | None) -> str | None:
        """The interaction-log id behind a user id: "ml:42" → "42" when the catalog knows user 42."""
        return self.history.log_user(user_id)

    # ================================================================== turns
    def respond(self, session_id: str, text: str, user_id: str | None = None, *,
                persona: str | None = None) -> Reply:
        """Answer one message of ``user_id`` (a new session becomes theirs; their likes go to their
        profile, whoever owns the session). ``persona`` ("ml:42"): recommend from that log user's
        history, read-only. Never raises for bad input or a failing step; wrong types or oversized
        ids are a ``ValueError`` before anything runs."""
        reply = None
        for version in self._versions(session_id, text, user_id, persona, stream=False):
            reply = version
        assert reply is not None
        return reply

    def respond_stream(self, session_id: str, text: str, user_id: str | None = None, *,
                       persona: str | None = None) -> Iterator[Reply]:
        """Successive versions of the reply to one message; the last one is final (what
        ``respond`` would return). The first version already carries the recommendations and
        the template text, so a surface can show cards at once; with an LLM, later versions
        replace the text by the LLM's phrasing, sentence by sentence, each sentence verified
        before it is shown (a sentence that fails stops the phrasing: the template text stays)."""
        return self._versions(session_id, text, user_id, persona, stream=True)

    def _versions(self, session_id: object, text: object, user_id: object, persona: object, stream: bool):
        return self.turns.respond(session_id_arg(session_id), None if text is None else str(text),
                                  user_id_arg(user_id), stream=stream, persona=user_id_arg(persona))

    def observe(self, session_id: str, text: str, role: str = "recommender") -> None:
        """Record a turn someone else said (a human recommender in a replayed dialogue, or the
        other party in a Slack thread). Items it names become the context "it" refers to."""
        session_id = session_id_arg(session_id)
        message = clean_text(text or "")
        if not message:
            return
        try:
            mentions = [m for m in self.linker.link(message) if m.kind == "item"]
        except Exception:  # noqa: BLE001 - an unlinkable message is still recorded
            logger.exception("linking failed")
            mentions = []
        ids = list(dict.fromkeys(m.node.split(":", 1)[1] for m in mentions))

        def record(state: SessionState) -> SessionState:
            if role in ("user", "seeker"):
                apply_act(state, self.understander.read(message, state))
                state.add_turn("user", message, ids)
            else:
                # what the other party named is never recommended back, under any of its entries
                state.mention(self.understander.named_films(message, mentions))
                if ids:
                    state.last_shown = [ShownItem(item_id=i) for i in ids]
                    state.focus_item = ids[0]
                state.add_turn("recommender", message, ids)
            return state

        self.sessions.update(session_id, record)

    def query(self, session_id: str, user_id: str | None = None) -> RetrievalQuery:
        """The retrieval query ``rank`` runs for the session now (evaluation and tuning use it)."""
        session_id, user_id = session_id_arg(session_id), user_id_arg(user_id)
        with self.sessions.lock(session_id):
            state = self.sessions.load(session_id, user_id)
            context = self.queries.context(state, self.sessions.profile(user_id or state.user_id))
            return self.queries.build(context, for_rank=True)

    def rank(self, session_id: str, k: int = 50, user_id: str | None = None) -> list[Recommendation]:
        """Always ``k`` recommendations (fewer only if the catalog has fewer items at all) for the
        dialogue so far, whatever the last message was: when the hard constraints leave fewer,
        the least certain is relaxed (``chatrec.agent.relax``) and the films satisfying all of
        them come first. ``user_id`` attaches the session to a user (personalised ranking) as
        ``respond`` would."""
        k = k_arg(k)
        candidates, _, _ = retrieve_relaxed(self.retriever, self.query(session_id, user_id), k)
        return [Recommendation(item=self.catalog[c.item_id], score=round(c.score, 5), sources=c.sources)
                for c in candidates]

    # ================================================================== sessions and profiles
    def feedback(self, session_id: str, item_id: str, kind: FeedbackKind, user_id: str | None = None) -> None:
        """Record 👍 liked / 👎 disliked / ✓ seen on an item; saved to the session and to the
        profile of whoever pressed it: ``user_id``, else the session's owner (a session without
        one becomes ``user_id``'s, for a button pressed before anyone typed in it)."""
        session_id, user_id, item_id = session_id_arg(session_id), user_id_arg(user_id), item_id_arg(item_id)
        if item_id not in self.catalog:
            raise UnknownItemError(f"no item with id {item_id!r} in catalog {self.catalog.name!r}")
        item_id = self.catalog[item_id].id  # an id merged into another item names that item
        if kind not in ("liked", "disliked", "seen"):
            raise ValueError(f"feedback must be liked, disliked or seen, not {kind!r}")
        act = DialogueAct(intent="feedback", liked_items=[item_id] if kind == "liked" else [],
                          disliked_items=[item_id] if kind == "disliked" else [],
                          seen_items=[item_id] if kind == "seen" else [])

        def record(state: SessionState) -> SessionState:
            apply_act(state, act)
            state.focus_item = item_id
            state.add_turn("user", f"[feedback] {kind}: {self.catalog[item_id].display}", [item_id], user_id)
            return state

        # The session, the presser's profile and the feedback log change in one transaction.
        self.sessions.update(session_id, record, user_id, profile_edit=lambda p: apply_to_profile(p, act),
                             feedback=[FeedbackEvent(session_id, item_id, kind, user_id)], profile_user=user_id)

    def session(self, session_id: str) -> SessionState:
        """The current state of a session (a copy: edit through the methods)."""
        session_id = session_id_arg(session_id)
        with self.sessions.lock(session_id):
            return self.sessions.load(session_id).model_copy(deep=True)

    def remove_preference(self, session_id: str, value: str) -> bool:
        """Forget one liked/disliked/seen item or attribute in a session (and its user's profile).

        ``value`` is an item id, a KG node ("genre:horror", "person:tom hanks"), a constraint
        label as the profile shows it, or "years" / "decade:<yyyy>" to drop the year range."""
        session_id, value = session_id_arg(session_id), item_id_arg(value)
        changed = False

        def remove(state: SessionState) -> SessionState:
            nonlocal changed
            changed = state.remove(value)
            relaxed = state.constraints.without(value)
            if relaxed != state.constraints:
                state.constraints = relaxed
                changed = True
            profile = self.sessions.profile(state.user_id)
            if profile is not None and value in profile.liked_items + profile.disliked_items + profile.seen_items \
                    + profile.liked_attributes + profile.disliked_attributes:
                changed = True
            return state

        self.sessions.update(session_id, remove, profile_edit=lambda p: p.remove(value))
        return changed

    def user_profile(self, user_id: str) -> UserProfile:
        """The stored likes/dislikes of a user (a copy; empty for a user never seen)."""
        profile = self.sessions.profile(required_user_id(user_id))
        assert profile is not None
        return profile.model_copy(deep=True)

    def profile(self, user_id: str) -> dict:
        """Everything chatrec keeps about a user: profile, sessions, what they said in sessions
        others own (``said_elsewhere``) and the size of their interaction-log history. JSON."""
        user_id = required_user_id(user_id)
        profile = self.user_profile(user_id)
        exported: dict[str, Any] = {"user_id": user_id, "profile": profile.model_dump(mode="json"),
                                    "sessions": self.sessions.export(user_id)}
        contributions = self.sessions.contributions(user_id)
        if contributions:
            exported["said_elsewhere"] = contributions
        log_user = self.history.log_user(user_id)
        if log_user is not None and self.catalog.interactions is not None:
            exported["history"] = {"ratings": len(self.catalog.interactions.history(log_user)),
                                   "source": f"{self.catalog.name} interactions (read-only)"}
        exported["labels"] = {i: self.catalog[i].display for i in
                              profile.liked_items + profile.disliked_items + profile.seen_items if i in self.catalog}
        return exported

    def forget(self, user_id: str) -> dict:
        """Delete everything stored about a user: profile, sessions, and their words in sessions
        others own. Returns what was deleted."""
        return self.sessions.forget(required_user_id(user_id))

    def reset(self, session_id: str) -> None:
        """Start the session over (the user's profile is kept)."""
        session_id = session_id_arg(session_id)
        self.sessions.update(session_id, lambda old: SessionState(session_id=session_id, user_id=old.user_id,
                                                                  persona=old.persona))
