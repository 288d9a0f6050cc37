"""The dialogue policy: given what the user just said, what the turn does — greet, thank, answer
a question about an item, predict a rating, ask what they like, or recommend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
    """

    action: Action
    draft: Draft | None = None
    prefix: str = ""
    notes: list[str] = field(default_factory=list)


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
        if intent == "greeting":
            return _reply(T.pick(T.GREETINGS, state.session_id), "greeting")
        if intent == "thanks":
            return _reply(T.pick(T.THANKS, turn_key), "thanks")
        if intent == "ask_about":
            return Plan("answer")
        if intent == "rate":
            return Plan("rate")
        if intent == "chitchat" and act.declined:
            return _reply(T.DECLINED, "declined")
        if intent == "chitchat":
            canned = T.pick(T.CHITCHAT, turn_key)
            text = f"{unknown_titles_text(act.unknown_titles)} {canned}" if act.unknown_titles else canned
            return Plan("reply", Draft(text, decision="chitchat", trusted=[canned]))
        notes = self.notes(act)
        # recommend / refine / feedback
        if intent == "feedback" and not state.request_active:
            ack = self.acknowledge(act)
            if self.knows_something(context):
                return Plan("recommend", prefix=ack, notes=notes)
            return _ask(" ".join(s for s in [ack, *notes] if s))
        if not self.knows_something(context) and "preference" not in state.questions_asked:
            return _ask(" ".join(notes))
        return Plan("recommend", prefix=self.acknowledge(act) if intent == "feedback" else "", notes=notes)

    @staticmethod
    def knows_something(context: UserContext) -> bool:
        """Enough to recommend on: a like, a film seen, a request — an exclusion alone too ("anything
        but horror": well-known films without it) — or a history."""
        state, profile = context.state, context.profile
        return bool(state.liked_items or state.seen_items or state.liked_attributes or state.query_texts
                    or state.refinements or not state.constraints.is_empty()
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


def _ask(prefix: str) -> Plan:
    return Plan("reply", Draft(f"{prefix} {T.ASK_PREFERENCE}".strip(),
                               question=Question(slot="preference", text=T.ASK_PREFERENCE),
                               decision="ask", trusted=[T.ASK_PREFERENCE]))
