"""One turn, step by step: load → understand → remember → decide → act (answer, rate or
recommend: retrieve → rank → explain) → verify → save, then the optional LLM phrasing."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial

from chatrec.agent import templates as T
from chatrec.agent.answer import Answerer
from chatrec.agent.arguments import without_lone_surrogates
from chatrec.agent.config import AgentConfig
from chatrec.agent.draft import Draft
from chatrec.agent.memory import apply_act, apply_to_profile
from chatrec.agent.models import DialogueAct, Reply, Trace
from chatrec.agent.policy import DialoguePolicy, unknown_titles_text
from chatrec.agent.query import QueryBuilder, UserContext
from chatrec.agent.rate import Rater
from chatrec.agent.recommend import Recommender, explained_attributes
from chatrec.agent.sessions import ProfileEdit, SessionRepository
from chatrec.agent.state import SessionState, ShownItem, Turn, UserProfile
from chatrec.agent.timing import ms
from chatrec.agent.understand import RuleUnderstander
from chatrec.agent.verify import ReplyVerifier
from chatrec.protocols import AgentLLMPort, Graph, Linker
from chatrec.store.records import SessionGone, VersionConflict

#: Tries of a turn whose save finds the session changed by another worker (redone on its state).
TURN_ATTEMPTS = 12
_ADDITIVE = re.compile(r"\b(?:also|too|as well|and also|plus)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"[ \t]+")

logger = logging.getLogger(__name__)


def clean_text(text: str) -> str:
    """NFC, lone surrogates as U+FFFD, control and zero-width characters as spaces, runs of
    spaces as one."""
    text = unicodedata.normalize("NFC", without_lone_surrogates(str(text)))
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@dataclass
class TurnSteps:
    """The named steps a turn runs, in order."""

    sessions: SessionRepository
    understander: RuleUnderstander
    queries: QueryBuilder
    policy: DialoguePolicy
    answerer: Answerer
    rater: Rater
    recommender: Recommender
    verifier: ReplyVerifier
    linker: Linker
    kg: Graph
    llm: AgentLLMPort | None = None


class TurnRunner:
    """Runs turns. With an LLM, its budget is made current only around code that does not yield
    (see ``LLM.use``), so a surface may drive the stream from any thread."""

    def __init__(self, config: AgentConfig, steps: TurnSteps):
        self.config = config
        self.steps = steps

    def respond(self, session_id: str, text: str | None, user_id: str | None, stream: bool,
                persona: str | None = None) -> Iterator[Reply]:
        """Versions of the reply to one message (the last is final) from ``user_id`` (the speaker;
        the session's owner when it has none yet). Never raises: bad input gets a clear answer,
        and a failing step an apology with the session as it was before."""
        started = time.perf_counter()
        trace = Trace(config=self.config.model_dump(mode="json"))
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
            for reply in self.run(session_id, message, user_id, trace, stream, persona):
                yield stamped(reply)
        except Exception as exc:  # noqa: BLE001 - a turn must always answer
            logger.exception("turn failed in session %s", session_id)
            trace.notes.append(f"internal error: {type(exc).__name__}")
            # The state of this turn was not saved: nothing the user said before is lost.
            self.steps.sessions.drop(session_id)
            yield stamped(Reply(session_id=session_id, trace=trace,
                                text="Sorry — something went wrong on my side with that one. "
                                     "Could you try saying it another way?"))

    def run(self, session_id: str, message: str, user_id: str | None, trace: Trace,
            stream: bool, persona: str | None = None) -> Iterator[Reply]:
        llm, verifier = self.steps.llm, self.steps.verifier
        budget = llm.new_turn() if llm is not None else None

        def llm_scope() -> AbstractContextManager:
            return llm.use(budget) if llm is not None and budget is not None else nullcontext()

        try:
            with self.steps.sessions.lock(session_id), llm_scope():
                draft, context = self._steps_until_saved(session_id, message, user_id, trace, persona)
                phrase = verifier.wants_phrasing(draft)
                said = context.state.turns[-1]

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
                phrased = yield from verifier.stream(draft, context, trace, reply_with, llm_scope)
            else:
                with llm_scope():
                    phrased = verifier.phrase(draft, context, trace)
            trace.timings_ms["phrase"] = ms(t)
            if phrased:
                self._keep_phrasing(session_id, said, phrased)
            yield reply_with(phrased or draft.text)
        finally:
            if budget is not None:
                trace.llm_calls = list(budget.calls)

    def _steps_until_saved(self, session_id: str, message: str, user_id: str | None,
                           trace: Trace, persona: str | None = None) -> tuple[Draft, UserContext]:
        """The turn's steps, redone on the new state when another worker saved the session while
        this one was thinking (its reply then accounts for what the other recorded)."""
        for attempt in range(1, TURN_ATTEMPTS + 1):
            try:
                return self._steps(session_id, message, user_id, trace, persona)
            except SessionGone:
                raise
            except VersionConflict:
                if attempt == TURN_ATTEMPTS:
                    raise
                trace.notes.append("another worker changed this conversation meanwhile: turn redone on its state")
        raise AssertionError("unreachable")

    def _steps(self, session_id: str, message: str, user_id: str | None, trace: Trace,
               persona: str | None = None) -> tuple[Draft, UserContext]:
        """Understand, remember, decide, act and verify; saves the state. The speaker's likes go
        to the speaker's profile, whoever owns the session."""
        s, timings = self.steps, trace.timings_ms
        t = time.perf_counter()
        state = s.sessions.load(session_id, user_id)
        if persona is not None:
            state.persona = persona
        speaker = user_id or state.user_id
        profile = s.sessions.profile(speaker)
        timings["load"] = ms(t)

        t = time.perf_counter()
        act = s.understander.read(message, state)
        if s.llm is not None:
            act = s.llm.understand(act, message, state, s.linker, s.kg, trace)
        trace.act = act
        timings["understand"] = ms(t)

        t = time.perf_counter()
        profile_edit: ProfileEdit | None = None
        state.add_turn("user", message, [*act.liked_items, *act.disliked_items, *act.seen_items], speaker)
        if act.intent == "reset":
            state = SessionState(session_id=session_id, user_id=state.user_id, persona=state.persona)
            state.add_turn("user", message, user_id=speaker)
            context = s.queries.context(state, profile)
            draft = Draft(T.RESET_DONE, decision="reset", trusted=[T.RESET_DONE])
        else:
            softened = apply_act(state, act, additive=bool(_ADDITIVE.search(message)))
            trace.notes.extend(f"softened: {change}" for change in softened)
            if profile is not None and apply_to_profile(profile, act):
                # Saved with the session, applied to the profile as stored then (not this copy).
                profile_edit = partial(_apply_to_profile, act=act)
            timings["remember"] = ms(t)
            context = s.queries.context(state, profile)
            draft = self._act(context, act, trace)
            if act.unknown_titles:
                # The note echoes the user's own words back; it claims nothing to verify.
                draft.trusted.append(unknown_titles_text(act.unknown_titles))
        trace.decision = draft.decision

        t = time.perf_counter()
        draft = s.verifier.check(draft, context, trace)
        timings["guard"] = ms(t)

        if draft.recommendations:
            state.record_shown([ShownItem(item_id=r.item.id, evidence=r.evidence, explanation=r.explanation)
                                for r in draft.recommendations])
        if draft.question is not None:
            state.questions_asked.append(draft.question.slot)
        state.add_turn("assistant", draft.text, [r.item.id for r in draft.recommendations])
        t = time.perf_counter()
        try:
            s.sessions.save(state, profile_edit, profile_user=speaker)
        except SessionGone:
            # Forgotten (or deleted) while this turn ran: answer, but store nothing of it.
            trace.notes.append("this conversation was deleted while the turn ran: nothing stored")
        timings["save"] = ms(t)
        return draft, context

    def _act(self, context: UserContext, act: DialogueAct, trace: Trace) -> Draft:
        plan = self.steps.policy.decide(context, act)
        if plan.action == "answer":
            return self.steps.answerer(context.state, act, explained_attributes(context))
        if plan.action == "rate":
            return self.steps.rater(context, act)
        if plan.action == "recommend":
            draft = self.steps.recommender(context, trace, prefix=plan.prefix, notes=plan.notes)
            if plan.decision:
                draft.trusted.extend(plan.trusted)
                draft.question = plan.question
                draft.decision = plan.decision if draft.recommendations else draft.decision
            return draft
        assert plan.draft is not None
        return plan.draft

    def _keep_phrasing(self, session_id: str, said: Turn, phrased: str) -> None:
        """Store the LLM's wording of a reply in the dialogue, if that reply is still the latest
        turn (the session may have moved on while the phrasing streamed)."""
        def keep(state: SessionState) -> SessionState | None:
            last = state.turns[-1] if state.turns else None
            if last is not None and last.role == "assistant" and last.at == said.at and last.text == said.text:
                last.text = phrased
                return state
            return None

        self.steps.sessions.update(session_id, keep)


def _apply_to_profile(profile: UserProfile, act: DialogueAct) -> bool:
    return apply_to_profile(profile, act)
