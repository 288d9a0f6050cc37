"""The dialogue policy: given what the user just said, what the turn does — greet, thank, answer
a question about an item, predict a rating, ask what they like, or recommend.

A turn that could show films does: a greeting or small talk gets its friendly words *and* a few
picks (popular ones while nothing is known, more of the same once the user has said what they
like), and a question about their taste comes with picks to react to. People answer a list more
readily than a questionnaire, and a reply without films is a turn the user waited for in vain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chatrec.agent import patterns as P
from chatrec.agent import templates as T
from chatrec.agent.arguments import literal
from chatrec.agent.draft import Draft
from chatrec.agent.models import DialogueAct, Question
from chatrec.agent.query import UserContext
from chatrec.catalog.models import Catalog

Action = Literal["reply", "answer", "rate", "recommend"]


@dataclass
class Plan:
    """What to do.

    Attributes:
        action: "reply" (``draft`` is the whole reply: small talk or a question), "answer",
            "rate" or "recommend".
        draft: the reply, for "reply".
        prefix: an acknowledgement said before the recommendations ("Noted, not Titanic.").
        notes: what the reader should know (titles not found, ambiguities, unsupported requests).
        question: asked beside the recommendations (what the user is in the mood for).
        decision: the trace's name for a "recommend" turn that is also something else
            ("greeting+recommend"); empty: the recommender's own.
        trusted: our own fixed words in ``prefix`` and ``notes`` (nothing in them to verify).
    """

    action: Action
    draft: Draft | None = None
    prefix: str = ""
    notes: list[str] = field(default_factory=list)
    question: Question | None = None
    decision: str = ""
    trusted: list[str] = field(default_factory=list)


def unknown_titles_text(titles: list[str]) -> str:
    quoted = ", ".join(f"\u201c{literal(t[:60])}\u201d" for t in titles[:3])
    return f"I couldn't find {quoted} in the catalog."


class DialoguePolicy:
    """Decides a turn's action from the dialogue act and what is known about the user.

    Args:
        catalog: the items (names in acknowledgements and notes).
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def decide(self, context: UserContext, act: DialogueAct) -> Plan:
        state = context.state
        intent = act.intent
        turn_key = state.session_id + str(len(state.turns))
        if intent == "ask_about" and self.asks_for_films(context, act):
            # "action, fast cars and a good plot — can you recommend a few?": a request that
            # happens to use a question word, naming no film.
            intent = "recommend"
        if intent == "greeting":
            return self._picks(context, T.pick(T.GREETINGS, state.session_id), "greeting")
        if intent == "thanks":
            return _reply(T.pick(T.THANKS, turn_key), "thanks")
        if intent == "ask_about":
            return Plan("answer")
        if intent == "rate":
            return Plan("rate")
        if intent == "chitchat" and act.declined:
            return _reply(T.DECLINED, "declined")
        if intent == "chitchat":
            canned = T.pick(T.CHITCHAT, turn_key) if not state.request_active else T.pick(T.MORE, turn_key)
            notes = [unknown_titles_text(act.unknown_titles)] if act.unknown_titles else []
            return self._picks(context, canned, "chitchat", notes)
        notes = self.notes(act)
        # recommend / refine / feedback
        if intent == "feedback" and not state.request_active:
            ack = self.acknowledge(act)
            if self.knows_something(context):
                return Plan("recommend", prefix=ack, notes=notes)
            return self._ask(ack, notes)
        if not self.knows_something(context) and "preference" not in state.questions_asked:
            return self._ask("", notes)
        return Plan("recommend", prefix=self.acknowledge(act) if intent == "feedback" else "", notes=notes)

    def _picks(self, context: UserContext, words: str, decision: str, notes: list[str] | None = None) -> Plan:
        """``words`` (a greeting, small talk) with recommendations: what is known so far, or
        popular films while nothing is; asks what the user likes until they have said."""
        asking = not self.knows_something(context)
        return Plan("recommend", prefix=words, notes=notes or [], decision=f"{decision}+recommend",
                    question=Question(slot="preference", text=words) if asking else None,
                    trusted=[words])

    def _ask(self, prefix: str, notes: list[str]) -> Plan:
        """What do you like? — with a few popular films to react to."""
        return Plan("recommend", prefix=prefix, notes=[*notes, T.ASK_PREFERENCE], decision="ask+recommend",
                    question=Question(slot="preference", text=T.ASK_PREFERENCE), trusted=[T.ASK_PREFERENCE])

    @staticmethod
    def asks_for_films(context: UserContext, act: DialogueAct) -> bool:
        """A question word in a message that names no film, states tastes and asks for films."""
        turns = context.state.turns
        message = turns[-1].text if turns and turns[-1].role == "user" else ""
        return not act.target_item and DialoguePolicy.states_tastes(act) and bool(P.ASKS_FOR.search(message))

    @staticmethod
    def states_tastes(act: DialogueAct) -> bool:
        return bool(act.liked_attributes or act.disliked_attributes or act.constraints.has_requirements())

    @staticmethod
    def knows_something(context: UserContext) -> bool:
        """Enough to recommend on: a like, a film seen, a request — an exclusion alone too ("anything
        but horror": well-known films without it) — or a history."""
        state, profile = context.state, context.profile
        return bool(state.liked_items or state.seen_items or state.liked_attributes or state.query_texts
                    or state.refinements or state.constraints.units()
                    or (profile and profile.liked_items) or context.log_user)

    def notes(self, act: DialogueAct) -> list[str]:
        """What the reader should know about how the message was read."""
        notes: list[str] = []
        if act.unknown_titles:
            notes.append(unknown_titles_text(act.unknown_titles))
        for mention, ids in act.ambiguous.items():
            chosen = self.catalog.get(ids[0])
            others = [self.catalog[i] for i in ids[1:3] if i in self.catalog]
            if chosen and others:
                alts = " or ".join(T.title(o) for o in others)
                notes.append(f"(I took “{literal(mention)}” to mean {T.title(chosen)}; there is also {alts}.)")
        if act.constraints.unsupported:
            notes.append(T.unsupported_note(act.constraints.unsupported))
        return notes

    def acknowledge(self, act: DialogueAct) -> str:
        """"Noted, not X." / "Got it, you've seen Y." for feedback in a message."""
        parts = []
        if act.disliked_items:
            parts.append("Noted, not " + ", ".join(T.title(self.catalog[i]) for i in act.disliked_items
                                                  if i in self.catalog) + ".")
        if act.seen_items:
            parts.append("Got it, you've seen " + ", ".join(T.title(self.catalog[i]) for i in act.seen_items
                                                           if i in self.catalog) + ".")
        return " ".join(parts)


def _reply(text: str, decision: str) -> Plan:
    return Plan("reply", Draft(text, decision=decision, trusted=[text]))

