"""``Agent``: one conversational recommender behind every surface.

``respond`` runs one turn: understand → remember → decide → retrieve → rank → explain → guard.
The agent holds no I/O with users; surfaces (CLI, Gradio, Slack, evaluation) only call the methods
here and render the ``Reply``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from chatrec.agent import templates as T
from chatrec.agent.explain import Explainer, item_facts_for_question
from chatrec.agent.guard import Guard
from chatrec.agent.memory import apply_act, apply_to_profile
from chatrec.agent.models import DialogueAct, FeedbackKind, Question, Recommendation, Reply, Trace
from chatrec.agent.retrieve import (
    CollaborativeSource,
    ContentSource,
    FusionWeights,
    KnowledgeGraphSource,
    RetrievalQuery,
    Retriever,
    VectorSource,
)
from chatrec.agent.state import SessionState, ShownItem, UserProfile, migrate_profile, migrate_session
from chatrec.agent.table import ItemTable
from chatrec.agent.understand import RuleUnderstander
from chatrec.catalog.models import Item
from chatrec.catalog.normalize import title_key
from chatrec.errors import ChatrecError, UnknownItemError
from chatrec.resources import Resources

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"[ \t]+")
DEFAULT_K = 5
HISTORY_SEEDS = 25          # most recent well-rated items of a known user used as seeds
SESSION_CACHE = 2048        # sessions kept in memory (the store has them all)


@dataclass
class Draft:
    """A reply before the guard: text plus what it claims."""

    text: str
    recommendations: list[Recommendation] = field(default_factory=list)
    question: Question | None = None
    answer_item: Item | None = None
    facts: list = field(default_factory=list)
    decision: str = ""
    # Parts of ``text`` that are our own fixed wording or catalog text quoted verbatim (a plot):
    # they make no claim to verify, and their examples ("a 90s comedy") must not trip the guard.
    trusted: list[str] = field(default_factory=list)
    source: str = "template"
    preamble: str = ""   # notes and acknowledgements kept above an LLM's phrasing


@dataclass(frozen=True)
class _History:
    seeds: dict[str, float] = field(default_factory=dict)
    rated: frozenset[str] = frozenset()
    favourites: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


class Agent:
    """The Chat-Rec agent.

    Args:
        resources: catalog, KG, linker, index and collaborative models (``Resources.load``).
        store: a ``chatrec.store.Store`` for sessions and profiles (None: in memory only).
        llm: optional LLM components (``chatrec.llm``); None runs the deterministic path.
        weights: fusion weights for retrieval.
        extra_sources: additional retrieval sources (name → (source, weight)), e.g. dialogue
            co-mentions learnt from training dialogues in the ReDial evaluation.
        k: how many items a reply recommends.
    """

    def __init__(self, resources: Resources, store=None, llm=None, weights: FusionWeights | None = None,
                 extra_sources: dict[str, tuple[object, float]] | None = None, k: int = DEFAULT_K,
                 observed_seed_weight: float = 0.3):
        self.resources = resources
        self.catalog = resources.catalog
        self.kg = resources.kg
        self.linker = resources.linker
        self.store = store
        self.llm = llm
        self.k = k
        self.observed_seed_weight = observed_seed_weight
        self.table = ItemTable(self.catalog, self.kg)
        sources: list = [VectorSource(resources.index), ContentSource(resources.index, self.table),
                         CollaborativeSource(resources.collab), KnowledgeGraphSource(self.kg, self.table)]
        extra_weights = {}
        for name, (source, weight) in (extra_sources or {}).items():
            sources.append(source)
            extra_weights[name] = weight
        self.retriever = Retriever(self.table, sources, weights, extra_weights)
        self.understander = RuleUnderstander(self.catalog, self.linker)
        from kg.paths import explain as find_paths

        self.explainer = Explainer(self.catalog, self.kg, find_paths)
        self.guard = Guard(self.catalog, self.kg, self.linker)
        self._sessions: OrderedDict[str, SessionState] = OrderedDict()
        self._profiles: dict[str, UserProfile] = {}
        # Per-session locks are held only while a turn reads and writes the state, never across a
        # ``yield`` of ``respond_stream``: surfaces drive streams from changing worker threads
        # (Gradio does) and may press a button on the session while a reply is still streaming.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Guards the in-memory session/profile caches, shared by all sessions' threads.
        self._cache_lock = threading.RLock()
        self._history_cache: dict[str, _History] = {}

    # ================================================================== construction
    @classmethod
    def from_config(cls, catalog: str = "movielens", settings=None, *, llm=None, store=None,
                    build_missing: bool = True, progress: bool = False, **kwargs) -> Agent:
        """An agent for a catalog spec ("movielens", "redial", or a JSONL/CSV path).

        ``llm``: None reads ``CHATREC_LLM``; False disables the LLM; a LangChain chat model is used
        as given. ``store``: None opens the configured store (``CHATREC_STORE_URL``, else SQLite
        under ``CHATREC_HOME``); False keeps sessions in memory only.
        """
        from chatrec.config import get_settings

        settings = settings or get_settings()
        resources = Resources.load(catalog, settings, build_missing=build_missing, progress=progress)
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

    # ================================================================== sessions
    @contextmanager
    def _session_lock(self, session_id: str):
        with self._locks_guard:
            lock = self._locks.setdefault(session_id, threading.Lock())
        with lock:
            yield

    def _load_state(self, session_id: str, user_id: str | None) -> SessionState:
        with self._cache_lock:
            state = self._sessions.get(session_id)
        if state is None and self.store is not None:
            try:
                data = self.store.load_session(session_id)
            except ChatrecError:
                logger.exception("could not load session %s; starting fresh", session_id)
                data = None
            if data:
                try:
                    state = SessionState.model_validate(migrate_session(data))
                except Exception:  # noqa: BLE001 - an unreadable old state must not block the user
                    logger.exception("stored session %s unreadable; starting fresh", session_id)
        if state is None:
            state = SessionState(session_id=session_id, user_id=user_id)
        if user_id is not None and state.user_id != user_id:
            state.user_id = user_id
        self._cache_session(state)
        return state

    def _cache_session(self, state: SessionState) -> None:
        with self._cache_lock:
            self._sessions[state.session_id] = state
            self._sessions.move_to_end(state.session_id)
            while len(self._sessions) > SESSION_CACHE:
                self._sessions.popitem(last=False)

    def _drop_session(self, session_id: str) -> None:
        with self._cache_lock:
            self._sessions.pop(session_id, None)

    def _save_state(self, state: SessionState) -> None:
        self._cache_session(state)
        if self.store is not None:
            self.store.save_session(state.session_id, state.model_dump(mode="json"), state.user_id)

    def _load_profile(self, user_id: str | None) -> UserProfile | None:
        if user_id is None:
            return None
        with self._cache_lock:
            profile = self._profiles.get(user_id)
        if profile is None and self.store is not None:
            data = self.store.load_profile(user_id)
            if data:
                try:
                    profile = UserProfile.model_validate(migrate_profile(data))
                except Exception:  # noqa: BLE001
                    logger.exception("stored profile of %s unreadable; starting fresh", user_id)
        if profile is None:
            profile = UserProfile(user_id=user_id)
        with self._cache_lock:
            # Two sessions of one user loading at once must share one profile object.
            profile = self._profiles.setdefault(user_id, profile)
        return profile

    def _save_profile(self, profile: UserProfile) -> None:
        profile.updated_at = time.time()
        with self._cache_lock:
            self._profiles[profile.user_id] = profile
        if self.store is not None:
            self.store.save_profile(profile.user_id, profile.model_dump(mode="json"))

    def history_user(self, user_id: str | None) -> str | None:
        """The interaction-log id behind a user id: "ml:42" → "42" when the catalog knows user 42."""
        if not user_id or self.catalog.interactions is None:
            return None
        if user_id.startswith("ml:"):
            raw = user_id[3:]
            return raw if self.catalog.interactions.has_user(raw) else None
        return None

    # ================================================================== public API
    def respond(self, session_id: str, text: str, user_id: str | None = None) -> Reply:
        """Answer one user message. Never raises for bad input or a failing component."""
        reply = None
        for version in self._respond(session_id, text, user_id, stream=False):
            reply = version
        return reply

    def respond_stream(self, session_id: str, text: str, user_id: str | None = None) -> Iterator[Reply]:
        """Successive versions of the reply to one message; the last one is final (what
        ``respond`` would return). The first version already carries the recommendations and
        the template text, so a surface can show cards at once; with an LLM, later versions
        replace the text by the LLM's phrasing, sentence by sentence, each sentence verified
        before it is shown (a sentence that fails stops the phrasing: the template text stays)."""
        yield from self._respond(session_id, text, user_id, stream=True)

    def _respond(self, session_id: str, text: str, user_id: str | None, stream: bool) -> Iterator[Reply]:
        session_id = str(session_id)
        started = time.perf_counter()
        trace = Trace()
        raw = "" if text is None else str(text)

        def stamped(reply: Reply) -> Reply:
            reply.trace.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
            return reply

        if len(raw) > T.MAX_MESSAGE_CHARS:
            trace.notes.append(f"message of {len(raw)} characters refused")
            yield stamped(Reply(session_id=session_id, trace=trace,
                                text=T.TOO_LONG.format(n=len(raw), limit=T.MAX_MESSAGE_CHARS)))
            return
        message = clean_text(raw)
        if not message:
            trace.notes.append("empty message")
            yield stamped(Reply(session_id=session_id, text=T.EMPTY_MESSAGE, trace=trace))
            return
        try:
            for reply in self._turn(session_id, message, user_id, trace, stream):
                yield stamped(reply)
        except Exception as exc:  # noqa: BLE001 - a turn must always answer
            logger.exception("turn failed in session %s", session_id)
            trace.notes.append(f"internal error: {type(exc).__name__}")
            # The state of this turn was not saved: nothing the user said before is lost.
            self._drop_session(session_id)
            yield stamped(Reply(session_id=session_id, trace=trace,
                                text="Sorry — something went wrong on my side with that one. "
                                     "Could you try saying it another way?"))

    def observe(self, session_id: str, text: str, role: str = "recommender") -> None:
        """Record a turn someone else said (a human recommender in a replayed dialogue, or the
        other party in a Slack thread). Items it names become the context "it" refers to."""
        session_id = str(session_id)
        message = clean_text(text or "")
        if not message:
            return
        with self._session_lock(session_id):
            state = self._load_state(session_id, None)
            mentions = [m for m in self._link(message) if m.kind == "item"]
            ids = list(dict.fromkeys(m.node.split(":", 1)[1] for m in mentions))
            if role in ("user", "seeker"):
                act = self.understander.read(message, state)
                apply_act(state, act)
                state.add_turn("user", message, ids)
            else:
                state.mention(ids)
                if ids:
                    state.last_shown = [ShownItem(item_id=i) for i in ids]
                    state.focus_item = ids[0]
                state.add_turn("recommender", message, ids)
            self._save_state(state)

    def rank(self, session_id: str, k: int = 50, user_id: str | None = None) -> list[Recommendation]:
        """Always ``k`` recommendations (fewer only if the catalog has fewer items passing the
        hard constraints) for the dialogue so far, whatever the last message was. ``user_id``
        attaches the session to a user (personalised ranking) as ``respond`` would."""
        session_id = str(session_id)
        with self._session_lock(session_id):
            state = self._load_state(session_id, user_id)
            profile = self._load_profile(state.user_id)
            query = self._query(state, profile, for_rank=True)
            candidates = self.retriever.retrieve(query, k)
            return [Recommendation(item=self.catalog[c.item_id], score=round(c.score, 5), sources=c.sources)
                    for c in candidates]

    def feedback(self, session_id: str, item_id: str, kind: FeedbackKind,
                 user_id: str | None = None) -> None:
        """Record 👍 liked / 👎 disliked / ✓ seen on an item; saved to the session and to the
        profile of the session's user (``user_id`` attaches the session to that user first, for a
        button pressed before the user ever typed in this session)."""
        session_id = str(session_id)
        if item_id not in self.catalog:
            raise UnknownItemError(f"no item with id {item_id!r} in catalog {self.catalog.name!r}")
        item_id = self.catalog[item_id].id  # an id merged into another item names that item
        if kind not in ("liked", "disliked", "seen"):
            raise ValueError(f"feedback must be liked, disliked or seen, not {kind!r}")
        with self._session_lock(session_id):
            state = self._load_state(session_id, user_id)
            act = DialogueAct(intent="feedback", **{f"{kind}_items": [item_id]})
            apply_act(state, act)
            state.focus_item = item_id
            state.add_turn("user", f"[feedback] {kind}: {self.catalog[item_id].display}", [item_id])
            self._save_state(state)
            profile = self._load_profile(state.user_id)
            if profile is not None and apply_to_profile(profile, act):
                self._save_profile(profile)

    def session(self, session_id: str) -> SessionState:
        """The current state of a session (a copy: edit through the methods)."""
        with self._session_lock(str(session_id)):
            return self._load_state(str(session_id), None).model_copy(deep=True)

    def remove_preference(self, session_id: str, value: str) -> bool:
        """Forget one liked/disliked/seen item or attribute in a session (and its user's profile).

        ``value`` is an item id, a KG node ("genre:horror", "person:tom hanks"), a constraint
        label as the profile shows it, or "years" / "decade:<yyyy>" to drop the year range."""
        with self._session_lock(str(session_id)):
            state = self._load_state(str(session_id), None)
            changed = state.remove(value)
            relaxed = state.constraints.without(value)
            if relaxed != state.constraints:
                state.constraints = relaxed
                changed = True
            self._save_state(state)
            profile = self._load_profile(state.user_id)
            if profile is not None and profile.remove(value):
                self._save_profile(profile)
                changed = True
            return changed

    def user_profile(self, user_id: str) -> UserProfile:
        """The stored likes/dislikes of a user (a copy; empty for a user never seen)."""
        return self._load_profile(user_id).model_copy(deep=True)

    def profile(self, user_id: str) -> dict:
        """Everything chatrec keeps about a user: profile, sessions, and (MovieLens users) the
        size of their rating history. JSON-serialisable, for viewing and export."""
        profile = self._load_profile(user_id)
        exported = {"user_id": user_id, "profile": profile.model_dump(mode="json") if profile else None,
                    "sessions": []}
        if self.store is not None:
            stored = self.store.export(user_id)
            exported["sessions"] = stored.get("sessions", [])
        else:
            with self._cache_lock:
                exported["sessions"] = [s.model_dump(mode="json") for s in self._sessions.values()
                                        if s.user_id == user_id]
        history_user = self.history_user(user_id)
        if history_user is not None:
            history = self.catalog.interactions.history(history_user)
            exported["history"] = {"ratings": int(len(history)),
                                   "source": f"{self.catalog.name} interactions (read-only)"}
        exported["labels"] = {i: self.catalog[i].display for i in
                              (profile.liked_items + profile.disliked_items + profile.seen_items
                               if profile else []) if i in self.catalog}
        return exported

    def forget(self, user_id: str) -> dict:
        """Delete everything stored about a user (profile and sessions). Returns what was deleted."""
        with self._cache_lock:
            self._profiles.pop(user_id, None)
            for sid in [sid for sid, s in self._sessions.items() if s.user_id == user_id]:
                self._sessions.pop(sid, None)
        if self.store is not None:
            return self.store.forget(user_id)
        return {"user_id": user_id}

    def reset(self, session_id: str) -> None:
        """Start the session over (the user's profile is kept)."""
        session_id = str(session_id)
        with self._session_lock(session_id):
            old = self._load_state(session_id, None)
            state = SessionState(session_id=session_id, user_id=old.user_id)
            self._save_state(state)

    # ================================================================== one turn
    def _link(self, text: str) -> list:
        try:
            return list(self.linker.link(text))
        except Exception:  # noqa: BLE001
            logger.exception("linking failed")
            return []

    def _turn(self, session_id: str, message: str, user_id: str | None, trace: Trace,
              stream: bool) -> Iterator[Reply]:
        """One turn. With an LLM, its budget is made current only around code that does not
        yield (see ``LLM.use``), so a surface may drive the stream from any thread."""
        budget = self.llm.new_turn() if self.llm is not None else None

        def llm_scope():
            return self.llm.use(budget) if budget is not None else nullcontext()

        try:
            with self._session_lock(session_id), llm_scope():
                draft, state = self._turn_steps(session_id, message, user_id, trace)
                phrase = self.llm is not None and self.llm.wants_to_phrase(draft.recommendations)
                said = state.turns[-1]

            def reply_with(text: str) -> Reply:
                return Reply(session_id=session_id, text=text, recommendations=draft.recommendations,
                             question=draft.question, answer_item=draft.answer_item, facts=draft.facts,
                             trace=trace)

            if not phrase:
                yield reply_with(draft.text)
                return
            t = time.perf_counter()
            if stream:
                yield reply_with(draft.text)  # cards and template text at once
                phrased = yield from self._stream_phrasing(draft, state, trace, reply_with, llm_scope)
            else:
                with llm_scope():
                    phrased = self._phrase(draft, state, trace)
            trace.timings_ms["phrase"] = _ms(t)
            if phrased:
                self._keep_phrasing(session_id, said, phrased)
            yield reply_with(phrased or draft.text)
        finally:
            if budget is not None:
                trace.llm_calls = list(budget.calls)

    def _keep_phrasing(self, session_id: str, said, phrased: str) -> None:
        """Store the LLM's wording of a reply in the dialogue, if that reply is still the latest
        turn (the session may have moved on while the phrasing streamed)."""
        with self._session_lock(session_id):
            state = self._load_state(session_id, None)
            last = state.turns[-1] if state.turns else None
            if last is not None and last.role == "assistant" and last.at == said.at and last.text == said.text:
                last.text = phrased
                self._save_state(state)

    def _turn_steps(self, session_id: str, message: str, user_id: str | None,
                    trace: Trace) -> tuple[Draft, SessionState]:
        """Understand, remember, decide, act and guard; saves the state. Returns the draft."""
        timings = trace.timings_ms
        t = time.perf_counter()
        state = self._load_state(session_id, user_id)
        profile = self._load_profile(state.user_id)
        timings["load"] = _ms(t)

        t = time.perf_counter()
        act = self.understander.read(message, state)
        if self.llm is not None:
            act = self.llm.understand(act, message, state, self, trace)
        trace.act = act
        timings["understand"] = _ms(t)

        t = time.perf_counter()
        additive = bool(re.search(r"\b(?:also|too|as well|and also|plus)\b", message, re.IGNORECASE))
        state.add_turn("user", message, [*act.liked_items, *act.disliked_items, *act.seen_items])
        if act.intent == "reset":
            state = SessionState(session_id=session_id, user_id=state.user_id)
            state.add_turn("user", message)
            draft = Draft(T.RESET_DONE, decision="reset", trusted=[T.RESET_DONE])
        else:
            apply_act(state, act, additive=additive)
            if profile is not None and apply_to_profile(profile, act):
                self._save_profile(profile)
            timings["remember"] = _ms(t)
            draft = self._decide_and_act(state, profile, act, trace)
            if act.unknown_titles:
                # The note echoes the user's own words back; it claims nothing to verify.
                draft.trusted.append(self._unknown_titles_text(act.unknown_titles))
        trace.decision = draft.decision

        t = time.perf_counter()
        draft = self._guarded(draft, state, trace)
        timings["guard"] = _ms(t)

        shown_ids = [r.item.id for r in draft.recommendations]
        if draft.recommendations:
            state.record_shown([ShownItem(item_id=r.item.id, evidence=r.evidence, explanation=r.explanation)
                                for r in draft.recommendations])
        if draft.question is not None:
            state.questions_asked.append(draft.question.slot)
        state.add_turn("assistant", draft.text, shown_ids)
        t = time.perf_counter()
        self._save_state(state)
        timings["save"] = _ms(t)
        return draft, state

    # ================================================================== LLM phrasing
    def _phrase_context(self, draft: Draft, state: SessionState) -> tuple[list[str], set[str]]:
        recommended = [r.item.id for r in draft.recommendations]
        return recommended, self._discussed(state)

    def _phrase(self, draft: Draft, state: SessionState, trace: Trace) -> str | None:
        """The LLM's text for a recommendation reply, if it passes the guard; else None."""
        text = self.llm.phrase(draft.recommendations, state)
        if not text:
            trace.guard["text_source"] = "template"
            trace.notes.append("LLM phrasing unavailable: template text used")
            return None
        if not _reads_like_a_reply(text, draft.recommendations):
            trace.guard.update({"llm_rejected": ["the LLM text does not present the recommendations"],
                                "text_source": "template"})
            trace.notes.append("LLM phrasing unusable: template text used")
            return None
        recommended, discussed = self._phrase_context(draft, state)
        result = self.guard.check(text, recommended, discussed, state.constraints)
        if not result.passed:
            trace.guard.update({"llm_rejected": result.violations, "text_source": "template"})
            trace.notes.append("LLM phrasing rejected by the guard: template text used")
            return None
        trace.guard["text_source"] = "llm"
        return "\n".join(s for s in [draft.preamble, text] if s)

    def _stream_phrasing(self, draft: Draft, state: SessionState, trace: Trace, reply_with, llm_scope):
        """Verify each streamed sentence before showing it; stop at the first that fails."""
        recommended, discussed = self._phrase_context(draft, state)
        shown: list[str] = []
        carry: list[str] = []
        sentences = self.llm.stream_phrase(draft.recommendations, state)
        while True:
            with llm_scope():  # each step of the LLM stream runs inside the turn's budget
                sentence = next(sentences, None)
            if sentence is None:
                break
            result = self.guard.check(sentence, recommended, discussed, state.constraints, carry=carry)
            if re.search(r"[{}\[\]<>]", sentence):
                result.passed = False
                result.violations.append("not prose (JSON or markup)")
            if not result.passed:
                trace.guard.update({"llm_rejected": result.violations, "text_source": "template"})
                trace.notes.append("LLM phrasing rejected mid-stream by the guard: template text used")
                return None
            carry = result.last_referenced or carry
            shown.append(sentence)
            yield reply_with("\n".join(s for s in [draft.preamble, " ".join(shown)] if s))
        if not shown or not _reads_like_a_reply(" ".join(shown), draft.recommendations):
            trace.guard["text_source"] = "template"
            trace.notes.append("LLM phrasing unavailable or unusable: template text used")
            return None
        trace.guard["text_source"] = "llm"
        return "\n".join(s for s in [draft.preamble, " ".join(shown)] if s)

    # ================================================================== decide
    def _knows_something(self, state: SessionState, profile: UserProfile | None) -> bool:
        return bool(state.liked_items or state.liked_attributes or state.query_texts or state.refinements
                    or state.constraints.has_requirements()
                    or (profile and profile.liked_items) or self.history_user(state.user_id))

    def _decide_and_act(self, state: SessionState, profile: UserProfile | None, act: DialogueAct,
                        trace: Trace) -> Draft:
        intent = act.intent
        notes = self._notes(act)
        if intent == "greeting":
            text = T.pick(T.GREETINGS, state.session_id)
            return Draft(text, decision="greeting", trusted=[text])
        if intent == "thanks":
            text = T.pick(T.THANKS, state.session_id + str(len(state.turns)))
            return Draft(text, decision="thanks", trusted=[text])
        if intent == "ask_about":
            return self._answer(state, act, trace)
        if intent == "rate":
            return self._rate(state, act)
        if intent == "chitchat" and act.declined:
            return Draft(T.DECLINED, decision="declined", trusted=[T.DECLINED])
        if intent == "chitchat":
            canned = T.pick(T.CHITCHAT, state.session_id + str(len(state.turns)))
            text = canned
            if act.unknown_titles:
                text = self._unknown_titles_text(act.unknown_titles) + " " + text
            return Draft(text, decision="chitchat", trusted=[canned])
        # recommend / refine / feedback
        if intent == "feedback" and not state.request_active:
            ack = self._ack_feedback(act)
            if self._knows_something(state, profile):
                return self._recommend(state, profile, act, trace, prefix=ack, notes=notes)
            ack = " ".join(s for s in [ack, *notes] if s)
            return Draft(f"{ack} {T.ASK_PREFERENCE}".strip(),
                         question=Question(slot="preference", text=T.ASK_PREFERENCE),
                         decision="ask", trusted=[T.ASK_PREFERENCE])
        if not self._knows_something(state, profile) and "preference" not in state.questions_asked:
            prefix = " ".join(notes)
            return Draft(f"{prefix} {T.ASK_PREFERENCE}".strip(),
                         question=Question(slot="preference", text=T.ASK_PREFERENCE),
                         decision="ask", trusted=[T.ASK_PREFERENCE])
        prefix = self._ack_feedback(act) if intent == "feedback" else ""
        return self._recommend(state, profile, act, trace, prefix=prefix, notes=notes)

    def _notes(self, act: DialogueAct) -> list[str]:
        notes: list[str] = []
        if act.unknown_titles:
            notes.append(self._unknown_titles_text(act.unknown_titles))
        for mention, ids in act.ambiguous.items():
            chosen = self.catalog.get(ids[0])
            others = [self.catalog[i] for i in ids[1:3] if i in self.catalog]
            if chosen and others:
                alts = " or ".join(T.title(o) for o in others)
                notes.append(f"(I took “{mention}” to mean {T.title(chosen)}; there is also {alts}.)")
        if act.constraints.unsupported:
            notes.append(T.unsupported_note(act.constraints.unsupported))
        return notes

    def _unknown_titles_text(self, titles: list[str]) -> str:
        quoted = ", ".join(f"\u201c{t[:60]}\u201d" for t in titles[:3])
        return f"I couldn't find {quoted} in the catalog."

    def _ack_feedback(self, act: DialogueAct) -> str:
        parts = []
        if act.disliked_items:
            parts.append("Noted, not " + ", ".join(T.title(self.catalog[i]) for i in act.disliked_items
                                                  if i in self.catalog) + ".")
        if act.seen_items:
            parts.append("Got it, you've seen " + ", ".join(T.title(self.catalog[i]) for i in act.seen_items
                                                           if i in self.catalog) + ".")
        return " ".join(parts)

    # ================================================================== recommend
    def _user_liked(self, state: SessionState, profile: UserProfile | None) -> list[str]:
        liked = list(reversed(state.liked_items))
        if profile is not None:
            liked += [i for i in reversed(profile.liked_items) if i not in liked]
        return [i for i in liked if i in self.catalog]

    def _history(self, user: str | None) -> _History:
        """Seeds, rated items and favourites of a known user (cached: the log does not change)."""
        if user is None:
            return _History()
        cached = self._history_cache.get(user)
        if cached is None:
            history = self.catalog.interactions.history(user)
            good = history[history["rating"] >= 4.0].tail(HISTORY_SEEDS)
            seeds = {str(i): 0.15 + 0.1 * (float(r) - 4.0) for i, r in zip(good["item_id"], good["rating"])}
            top = history[history["rating"] >= 4.5].tail(15)["item_id"].tolist()
            cached = _History(seeds=seeds, rated=frozenset(history["item_id"]),
                              favourites=[i for i in reversed(top) if i in self.catalog])
            if len(self._history_cache) > 4096:
                self._history_cache.clear()
            self._history_cache[user] = cached
        return cached

    def _query(self, state: SessionState, profile: UserProfile | None, for_rank: bool = False) -> RetrievalQuery:
        seeds: dict[str, float] = {}
        user = self.history_user(state.user_id)
        seeds.update(self._history(user).seeds)
        if profile is not None:
            for item_id in profile.liked_items[-20:]:
                seeds[item_id] = max(seeds.get(item_id, 0.0), 0.5)
        if self.observed_seed_weight > 0:
            for turn in state.turns:
                if turn.role == "recommender":
                    for item_id in turn.items:
                        seeds[item_id] = max(seeds.get(item_id, 0.0), self.observed_seed_weight)
        for rank, item_id in enumerate(reversed(state.liked_items)):
            seeds[item_id] = max(seeds.get(item_id, 0.0), 1.0 if rank < 3 else 0.7)
        for item_id in state.disliked_items:
            seeds.pop(item_id, None)
        seeds = {i: w for i, w in seeds.items() if i in self.catalog}
        exclude = set(state.liked_items) | set(state.disliked_items) | set(state.seen_items) \
            | set(state.mentioned_items)
        if not for_rank:
            exclude |= set(state.shown)
        if profile is not None:
            exclude |= set(profile.disliked_items) | set(profile.seen_items) | set(profile.liked_items)
        exclude |= self._history(user).rated
        text_parts = list(state.query_texts[-1:])
        keywords = [self.kg.label(a) for a in state.liked_attributes if a.startswith("keyword:")]
        if keywords:
            text_parts.append(", ".join(keywords[-5:]))
        return RetrievalQuery(seeds=seeds, disliked_items=list(state.disliked_items),
                              liked_attributes=list(state.liked_attributes),
                              disliked_attributes=list(state.disliked_attributes),
                              constraints=state.constraints, text=" ".join(text_parts).strip(),
                              user_id=user, exclude=exclude, refinements=list(state.refinements))

    def _explain_attributes(self, state: SessionState) -> list[str]:
        return list(dict.fromkeys([*reversed(state.liked_attributes), *state.constraints.nodes()]))

    def _recommend(self, state: SessionState, profile: UserProfile | None, act: DialogueAct, trace: Trace,
                   prefix: str = "", notes: list[str] | None = None) -> Draft:
        t = time.perf_counter()
        query = self._query(state, profile)
        candidates = self.retriever.retrieve(query, k=max(self.k * 6, 30), timings=trace.timings_ms)
        trace.timings_ms["retrieve"] = _ms(t)
        trace.candidates = [{"item_id": c.item_id, "title": self.catalog[c.item_id].display,
                             "score": round(c.score, 4), "sources": c.sources} for c in candidates[:20]]
        t = time.perf_counter()
        chosen = self._diversify(candidates, self.k)
        if self.llm is not None and chosen:
            chosen = self.llm.rerank(chosen, candidates, state, profile, self, trace)
        # The final re-check of hard constraints: whatever produced a candidate, it must pass.
        allowed = state.constraints.excluding(query.exclude).matcher()
        chosen = [c for c in chosen if allowed(self.catalog[c.item_id])]
        trace.timings_ms["rank"] = _ms(t)
        t = time.perf_counter()
        user_liked = self._user_liked(state, profile)
        user_liked += [i for i in self._history(self.history_user(state.user_id)).favourites
                       if i not in user_liked]
        observed = [i for t_ in state.turns if t_.role == "recommender" for i in t_.items]
        reference_items = user_liked + [i for i in observed if i not in user_liked]
        attributes = self._explain_attributes(state)
        recs: list[Recommendation] = []
        for cand in chosen:
            item = self.catalog[cand.item_id]
            sentence, facts = self.explainer.explain(item, reference_items, attributes, set(user_liked))
            recs.append(Recommendation(item=item, score=round(cand.score, 5), sources=cand.sources,
                                       evidence=facts, explanation=sentence))
        trace.timings_ms["explain"] = _ms(t)
        lines = [s for s in [prefix, *(notes or [])] if s]
        # The constraint summary repeats the user's own words ("without Will Ferrell"): trusted,
        # so the guard checks only the claims about items.
        if not recs:
            summary = (T.no_match(state.constraints) if not state.constraints.is_empty()
                       else "I couldn't find anything new to suggest — tell me more about what you like?")
            lines.append(summary)
            return Draft("\n".join(lines), decision="recommend:none", trusted=[summary])
        preamble = "\n".join(lines)
        intro = T.intro(state.session_id + str(len(state.turns)), state.constraints, len(recs), self.k)
        lines.append(intro)
        for i, rec in enumerate(recs, 1):
            lines.append(f"{i}. {T.title(rec.item)} — {rec.explanation}")
        return Draft("\n".join(lines), recommendations=recs, decision="recommend", preamble=preamble,
                     trusted=[intro])

    def _diversify(self, candidates, k: int):
        """Light diversity: a second film by the same director or from the same franchise has to
        beat the others by a margin to be shown."""
        chosen = []
        directors: dict[str, int] = {}
        franchises: dict[str, int] = {}
        # A catalog may hold one film twice (ReDial has several ids for some IMDb entries):
        # show one copy, the best-ranked.
        pool, seen_films = [], set()
        for cand in candidates:
            item = self.catalog[cand.item_id]
            key = (title_key(item.title), item.year)
            if key not in seen_films:
                seen_films.add(key)
                pool.append(cand)
        while pool and len(chosen) < k:
            best, best_score = None, float("-inf")
            for cand in pool[: 4 * k]:
                item = self.catalog[cand.item_id]
                penalty = 1.0
                for d in item.directors[:1]:
                    penalty *= 0.9 ** directors.get(d, 0)
                franchise = _franchise(item.title)
                penalty *= 0.85 ** franchises.get(franchise, 0)
                score = cand.score * penalty if cand.score > 0 else cand.score / penalty
                if score > best_score:
                    best, best_score = cand, score
            pool.remove(best)
            chosen.append(best)
            item = self.catalog[best.item_id]
            for d in item.directors[:1]:
                directors[d] = directors.get(d, 0) + 1
            franchises[_franchise(item.title)] = franchises.get(_franchise(item.title), 0) + 1
        return chosen

    # ================================================================== answers
    def _target(self, state: SessionState, act: DialogueAct) -> Item | None:
        target = act.target_item or state.focus_item
        return self.catalog.get(target) if target else None

    def _answer(self, state: SessionState, act: DialogueAct, trace: Trace) -> Draft:
        item = self._target(state, act)
        if item is None:
            return Draft(T.NO_TARGET, decision="answer:no-target")
        question = act.item_question or "general"
        state.focus_item = item.id
        state.mention([item.id])
        name = T.title(item)
        if question == "why":
            shown = state.shown_evidence(item.id)
            if shown and shown.explanation:
                return Draft(f"I suggested {name} because: {shown.explanation}", answer_item=item,
                             facts=list(shown.evidence), decision="answer:why")
            sentence, facts = self.explainer.explain(item, self._user_liked(state, None),
                                                     self._explain_attributes(state), set(state.liked_items))
            return Draft(f"{name}: {sentence}", answer_item=item, facts=facts, decision="answer:why")
        if question == "plot":
            if item.description:
                return Draft(f"{name}: {item.description}", answer_item=item, decision="answer:plot",
                             trusted=[item.description])
            facts = self.kg.facts_of(item.id)
            return Draft(f"I have no plot summary for {name}.", answer_item=item, facts=[],
                         decision="answer:plot-missing")
        if question in ("director", "cast", "writer", "genre", "year"):
            facts = item_facts_for_question(self.kg, item, question)
            if not facts:
                what = {"director": "who directed", "cast": "who is in", "writer": "who wrote",
                        "genre": "the genre of", "year": "when it was released:"}[question]
                return Draft(f"The catalog doesn't say {what} {name}.", answer_item=item,
                             decision=f"answer:{question}-missing")
            labels = [f.object_label for f in facts]
            if question == "director":
                text = f"{name} was directed by {_join(labels)}."
            elif question == "cast":
                text = f"{name} stars {_join(labels[:5])}."
            elif question == "writer":
                text = f"{name} was written by {_join(labels)}."
            elif question == "genre":
                text = f"{name} is {_join(labels)}."
            else:
                text = f"{name} came out in {item.year}." if item.year else f"The catalog has no year for {name}."
            return Draft(text, answer_item=item, facts=facts, decision=f"answer:{question}")
        facts = self.kg.facts_of(item.id)
        sentence, used = self.explainer.describe(item)
        return Draft(f"{name}: {sentence}", answer_item=item, facts=used, decision="answer:general")

    def _rate(self, state: SessionState, act: DialogueAct) -> Draft:
        item = self._target(state, act)
        if item is None:
            return Draft(T.NO_TARGET, decision="rate:no-target")
        state.focus_item = item.id
        user = self.history_user(state.user_id)
        collab = self.resources.collab
        if user is None or collab is None:
            return Draft(T.COLD_RATING, answer_item=item, decision="rate:cold")
        prediction = collab.rating.predict(user, item.id)
        if prediction is None:
            return Draft(f"I can't guess a rating for {T.title(item)} — too little to go on.", answer_item=item,
                         decision="rate:unknown")
        value = round(float(prediction.value) * 2) / 2
        text = f"I'd guess you would give {T.title(item)} about {value:.1f} out of 5"
        reasons = self._rating_reasons(prediction)
        text += f" — {reasons}." if reasons else "."
        return Draft(text, answer_item=item, decision="rate")

    def _rating_reasons(self, prediction) -> str:
        neighbours = getattr(prediction, "neighbours", None) or []
        parts = []
        for entry in sorted(neighbours, key=lambda n: -n.similarity)[:2]:
            item_id, rating = entry.item_id, entry.rating
            if item_id in self.catalog:
                parts.append(f"{T.title(self.catalog[item_id])}, which you rated {rating:g}")
        return ("based on similar films you rated: " + "; ".join(parts)) if parts else ""

    # ================================================================== guard
    def _discussed(self, state: SessionState) -> set[str]:
        """Items a reply may name besides its recommendations: what this dialogue mentioned, what
        the user's profile holds (likes from other sessions, e.g. another Slack thread) and, for a
        user with a rating history, what they rated."""
        discussed = set(state.liked_items) | set(state.disliked_items) | set(state.seen_items) \
            | set(state.mentioned_items) | set(state.shown) | ({state.focus_item} if state.focus_item else set())
        profile = self._load_profile(state.user_id)
        if profile is not None:
            discussed |= set(profile.liked_items) | set(profile.disliked_items) | set(profile.seen_items)
        return discussed | self._history(self.history_user(state.user_id)).rated

    def _guarded(self, draft: Draft, state: SessionState, trace: Trace) -> Draft:
        recommended = [r.item.id for r in draft.recommendations]
        discussed = self._discussed(state)
        if draft.answer_item is not None:
            discussed.add(draft.answer_item.id)
        for ids in (trace.act.ambiguous.values() if trace.act else ()):
            discussed |= set(ids)  # the alternatives we name when a title was ambiguous
        result = self.guard.check(_without(draft.text, draft.trusted), recommended, discussed,
                                  state.constraints)
        trace.guard = {"passed": result.passed, "violations": result.violations,
                       "claims": result.checked_claims, "fallback": False,
                       "text_source": draft.source}
        if result.passed:
            return draft
        logger.warning("guard rejected a reply: %s", result.violations)
        fallback = getattr(draft, "fallback", None)
        if fallback is not None:
            check = self.guard.check(_without(fallback.text, fallback.trusted), recommended, discussed,
                                     state.constraints)
            if check.passed:
                trace.guard["fallback"] = True
                return fallback
        # Last resort: titles only, which cannot carry a wrong claim.
        lines = ["Here is what I found:"] + [f"{i}. {T.title(r.item)}" for i, r in enumerate(draft.recommendations, 1)]
        safe = Draft("\n".join(lines) if draft.recommendations else "Sorry, I can't answer that reliably.",
                     recommendations=draft.recommendations, question=draft.question, decision=draft.decision)
        trace.guard["fallback"] = True
        return safe


def _reads_like_a_reply(text: str, recommendations: list[Recommendation]) -> bool:
    """An LLM text worth showing presents the recommendations (names at least one of them) and
    is prose, not a fragment of JSON or markup."""
    if re.search(r"[{}\[\]<>]", text):
        return False
    lowered = text.lower()
    return any(r.item.title.lower() in lowered for r in recommendations)


def _without(text: str, trusted: list[str]) -> str:
    for part in trusted:
        if part:
            text = text.replace(part, " ")
    return text


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _franchise(title: str) -> str:
    head = re.split(r"[:(]| \d| II| III| Part ", title, maxsplit=1)[0]
    return head.strip().lower()

