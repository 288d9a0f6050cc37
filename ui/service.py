"""What the page and the API do, over ``Agent``: no Gradio here, no recommendation logic either.

``ChatService`` turns a browser tab's actions (a message, 👍/👎/✓, remove a preference, reset,
pick a user) into agent calls, and the agent's session state into view models for ``views``.
It owns what is about the web surface only: who may touch which session (``ui.identity``: a
session belongs to the caller who started it), the rate limits (per identity and per client
address) and the "Who am I" persona of a tab.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatrec.agent.models import Reply
from ui.identity import Caller, Identities
from ui.loader import AgentLoader, AgentNotReady
from ui.profile_view import profile_sections
from ui.ratelimit import RateLimiter
from ui.sessions import clean_persona, clean_user_id, new_session_id, session_or_new
from ui.views import CardView, ProfileSection
from ui.why import WhyPictures, paths_from_evidence

if TYPE_CHECKING:
    from chatrec.agent import Agent

logger = logging.getLogger(__name__)

FEEDBACK_KINDS = ("liked", "disliked", "seen")
ACTION_COST = 0.2          # a click costs a fifth of a message against the rate limit
HISTORY_ENTRIES = 8
# One client address may spend this many identities' worth: a household or office behind one
# address is not limited as one person, and minting identities (or sessions) buys nothing more.
ADDRESS_FACTOR = 3


class RateLimited(Exception):
    """Too many actions from one caller; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after


@dataclass
class Notice:
    """A message from the web surface itself (not the agent): rate limit, still loading."""

    text: str


NOT_YOURS = "That conversation is not one of yours. Reload the page to start your own."


def rate_limit_text(retry_after: float) -> str:
    return (f"You're sending messages faster than I can keep up — give me {max(1, round(retry_after))} "
            "second(s) and try again.")


class NotYours(Exception):
    """A session id that belongs to someone else (said as "unknown": its existence is not told)."""


class ChatService:
    """The web surface's use cases over one agent.

    Args:
        loader: hands out the agent (loading in the background at start-up).
        limiter: rate limit per identity (None: unlimited); each client address gets
            ``ADDRESS_FACTOR`` times its burst and rate, whatever identities it shows.
        wait_s: how long an action waits for a still-loading agent before saying so.
        identities: resolves who sent a request (default: from ``CHATREC_HOME``'s web secret
            and ``CHATREC_SERVICE_TOKEN``).
    """

    def __init__(self, loader: AgentLoader, limiter: RateLimiter | None = None, wait_s: float = 20.0,
                 identities: Identities | None = None):
        self.loader = loader
        self.limiter = limiter
        self.address_limiter = (RateLimiter(limiter.rate * ADDRESS_FACTOR, limiter.burst * ADDRESS_FACTOR,
                                            limiter.max_keys, limiter.clock) if limiter else None)
        self._rate_lock = threading.Lock()
        self.wait_s = wait_s
        if identities is None:
            from chatrec.config import get_settings

            identities = Identities.from_settings(get_settings().home)
        self.identities = identities
        self._pictures: WhyPictures | None = None
        self._choices: list[tuple[str, str]] | None = None

    # ------------------------------------------------------------------ the agent
    @property
    def ready(self) -> bool:
        return self.loader.ready

    def agent(self) -> Agent:
        """The agent; raises ``AgentNotReady`` (with a message for the user) while loading."""
        return self.loader.get(self.wait_s)

    def caller(self, request) -> Caller:
        """Who sent a ``gr.Request``."""
        return self.identities.caller(request)

    def _check_rate(self, caller: Caller, cost: float) -> None:
        if self.limiter is None or self.address_limiter is None or caller.trusted:
            return
        buckets = ((self.limiter, caller.rate_key), (self.address_limiter, f"address:{caller.address}"))
        with self._rate_lock:
            wait = max(limiter.wait(key, cost) for limiter, key in buckets)
            if wait > 0:
                raise RateLimited(wait)
            for limiter, key in buckets:
                limiter.retry_after(key, cost)

    def llm_label(self) -> tuple[str, bool]:
        """("LLM: openai:gpt-4o-mini", True) or ("No LLM · rule-based", False)."""
        if self.ready:
            agent = self.agent()
            model = agent.resources.settings.llm
            if agent.llm is not None:
                return f"LLM: {model or getattr(agent.llm, 'name', None) or 'custom chat model'}", True
            if model:
                return f"LLM {model} unavailable · rule-based", False
            return "No LLM · rule-based", False
        from chatrec.config import get_settings

        model = get_settings().llm
        return (f"LLM: {model}", True) if model else ("No LLM · rule-based", False)

    def catalog_label(self) -> str:
        if not self.ready:
            return "catalog loading…"
        catalog = self.agent().catalog
        return f"{catalog.name} · {len(catalog):,} items"

    # ------------------------------------------------------------------ identity
    def user_choices(self) -> list[tuple[str, str]]:
        """Dropdown choices: ("New user", "") and one per MovieLens user of the catalog."""
        choices = [("New user", "")]
        if not self.ready:
            return choices
        if self._choices is None:
            interactions = self.agent().catalog.interactions
            users: list[tuple[str, str]] = []
            if interactions is not None:
                ids = sorted(interactions.user_ids, key=lambda u: (not u.isdigit(), int(u) if u.isdigit() else 0, u))
                for uid in ids:
                    n = len(interactions.history(uid))
                    users.append((f"MovieLens user {uid} · {n} ratings", f"ml:{uid}"))
            self._choices = users
        return choices + self._choices

    def persona(self, choice: object) -> str | None:
        """The persona picked in "Who am I" or named by an API call: a user of the catalog's
        interaction log ("ml:42", "movielens:42", "coffee:u1"); None for anything else. While
        the agent loads, only the MovieLens form is recognised."""
        if not self.ready:
            return clean_persona(choice)
        user = clean_user_id(choice)
        return user if user is not None and self.agent().history_user(user) is not None else None

    def who_label(self, user_id: str | None) -> str:
        if user_id is None:
            return "New user — nothing known about you yet"
        kind, _, rest = user_id.partition(":")
        if kind == "ml":
            return f"MovieLens user {rest}"
        if kind == "web":
            return f"Signed in as {rest}"
        if kind == "visitor":
            return "You, in this browser"
        return user_id

    def user_history(self, user_id: str | None, n: int = HISTORY_ENTRIES):
        """(label, [(item, rating)], total ratings) of a MovieLens user's favourites."""
        if user_id is None or not self.ready:
            return "Pick a user above to chat as someone with a rating history.", [], 0
        agent = self.agent()
        raw = agent.history_user(user_id)
        if raw is None or agent.catalog.interactions is None:
            return self.who_label(user_id), [], 0
        history = agent.catalog.interactions.history(raw)
        top = history.sort_values(["rating", "timestamp"], ascending=[False, False]).head(n)
        entries = [(agent.catalog[i], float(r)) for i, r in zip(top["item_id"], top["rating"])
                   if i in agent.catalog]
        return self.who_label(user_id), entries, len(history)

    # ------------------------------------------------------------------ sessions
    def may_use(self, caller: Caller, sid: str) -> bool:
        """Whether ``caller`` may read or continue session ``sid``: a session belongs to the
        identity that started it. One started without an identity (an API client keeping no
        cookie) or as a MovieLens persona belongs to whoever holds its unguessable id."""
        if caller.trusted or not self.ready:
            return True
        owner = self.agent().session(sid).user_id
        return owner is None or owner == caller.user_id

    def check(self, caller: Caller, sid: str) -> str:
        """``sid`` when ``caller`` may use it; raises ``NotYours`` otherwise."""
        if not self.may_use(caller, sid):
            raise NotYours(sid)
        return sid

    def restore(self, stored_session: str | None, caller: Caller | None = None) -> str:
        """The tab's session id: the stored one when well-formed and the caller's, else a new one."""
        sid = session_or_new(stored_session)
        if caller is not None and not self.may_use(caller, sid):
            logger.warning("a tab presented a session that is not its caller's: a new one instead")
            return new_session_id()
        return sid

    def switch_user(self, sid: str, current: str | None, new: str | None) -> str:
        """Picking another identity starts a new conversation (a fresh session id), unless the
        current one has not started yet."""
        if new == current:
            return sid
        if self.ready:
            try:
                if not self.agent().session(sid).turns:
                    return sid
            except Exception:  # noqa: BLE001 - any doubt: start fresh
                logger.exception("could not read session %s", sid)
        return new_session_id()

    def stored_persona(self, sid: str) -> str | None:
        if not self.ready:
            return None
        return self.agent().session(sid).persona

    def turns(self, sid: str) -> list:
        if not self.ready:
            return []
        return list(self.agent().session(sid).turns)

    # ------------------------------------------------------------------ actions
    def chat(self, sid: str, text: str, user_id: str | None, caller: Caller,
             persona: str | None = None) -> Iterator[Reply | Notice]:
        """Successive versions of the reply to ``text`` (the agent's stream), or one Notice when
        the message is rate limited or the agent is not ready. The agent holds the session until
        the stream ends: read the session (``cards``, ``profile``, ``turns``) only after it.
        Someone else's session is refused with a Notice too."""
        try:
            self._check_rate(caller, 1.0)
            agent = self.agent()
            self.check(caller, sid)
        except NotYours:
            yield Notice(NOT_YOURS)
            return
        except RateLimited as exc:
            yield Notice(rate_limit_text(exc.retry_after))
            return
        except AgentNotReady as exc:
            yield Notice(str(exc))
            return
        yield from agent.respond_stream(sid, text, user_id, persona=persona)

    def feedback(self, sid: str, item_id: str, kind: str, caller: Caller) -> str:
        """Record 👍/👎/✓; pressing the same button again takes it back. Returns what happened:
        the kind recorded, or "removed"."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"feedback must be one of {FEEDBACK_KINDS}, not {kind!r}")
        self._check_rate(caller, ACTION_COST)
        agent = self.agent()
        self.check(caller, sid)
        if self.mark(agent.session(sid), item_id) == kind:
            agent.remove_preference(sid, item_id)
            return "removed"
        agent.feedback(sid, item_id, kind)
        return kind

    def remove(self, sid: str, value: str, caller: Caller) -> bool:
        self._check_rate(caller, ACTION_COST)
        agent = self.agent()
        self.check(caller, sid)
        return agent.remove_preference(sid, value)

    def reset(self, sid: str, caller: Caller) -> None:
        agent = self.agent()
        self.check(caller, sid)
        agent.reset(sid)

    def forget(self, sid: str, caller: Caller) -> dict:
        """Delete what is stored about the caller (their profile and sessions; without an
        identity, this session) and start this tab over. A MovieLens persona's own data is
        never touched: it is not the caller's."""
        agent = self.agent()
        self.check(caller, sid)
        deleted = agent.forget(caller.user_id) if caller.user_id else {}
        agent.reset(sid)
        return deleted

    def export(self, sid: str, caller: Caller) -> dict:
        """Everything chatrec keeps about the caller (profile and sessions) plus this tab's
        session; without an identity, this session alone. Nobody else's data, ever."""
        agent = self.agent()
        self.check(caller, sid)
        exported = agent.profile(caller.user_id) if caller.user_id else {"user_id": None, "sessions": []}
        if not any(s.get("session_id") == sid for s in exported.get("sessions", [])):
            current = agent.session(sid).model_dump(mode="json")
            exported["sessions"] = [*exported.get("sessions", []), current]
        return exported

    # ------------------------------------------------------------------ view models
    @staticmethod
    def mark(state, item_id: str) -> str | None:
        if item_id in state.disliked_items:
            return "disliked"
        if item_id in state.liked_items:
            return "liked"
        if item_id in state.seen_items:
            return "seen"
        return None

    def _asked_for(self, state) -> list[str]:
        """Entity nodes the user asked for or liked in this session."""
        return [*state.liked_attributes, *state.constraints.nodes()]

    def pictures(self) -> WhyPictures:
        if self._pictures is None:
            self._pictures = WhyPictures(self.agent().kg)
        return self._pictures

    def why(self, sid: str, item_id: str):
        """(paths, caption) of a shown item's "Why this?" picture, from its evidence."""
        agent = self.agent()
        state = agent.session(sid)
        shown = state.shown_evidence(item_id)
        item = agent.catalog.get(item_id)
        if shown is None or item is None:
            return [], ""
        paths = paths_from_evidence(item_id, shown.evidence, self._asked_for(state))
        if paths:
            caption = (f"How {item.display} connects to what you like: {len(paths)} "
                       f"path{'s' if len(paths) != 1 else ''} in the knowledge graph.")
        else:
            caption = (f"{item.display} has no direct link to something you liked yet; it was picked "
                       "for its own facts (see the evidence).")
        return paths, caption

    @staticmethod
    def reply_cards(reply: Reply) -> list[CardView]:
        """Cards straight from a reply (while it streams, the session cannot be read)."""
        return [CardView(item=r.item, explanation=r.explanation, evidence=list(r.evidence))
                for r in reply.recommendations]

    def cards(self, sid: str, why_item: str | None = None) -> list[CardView]:
        """The latest recommendation list of a session, with the user's marks."""
        if not self.ready:
            return []
        agent = self.agent()
        state = agent.session(sid)
        cards = []
        for shown in state.last_shown:
            item = agent.catalog.get(shown.item_id)
            if item is None:
                continue
            card = CardView(item=item, explanation=shown.explanation, evidence=list(shown.evidence),
                            mark=self.mark(state, item.id))
            if why_item == item.id:
                paths, card.why_caption = self.why(sid, item.id)
                try:
                    card.why_uri = self.pictures().data_uri(item.id, paths)
                except Exception:  # noqa: BLE001 - a failed drawing must not break the page
                    logger.exception("could not draw the paths of %s", item.id)
                    card.why_caption = "The picture could not be drawn."
            cards.append(card)
        return cards

    def profile(self, sid: str, user_id: str | None, persona: str | None = None
                ) -> tuple[str, list[ProfileSection]]:
        """(who, sections) of the editable profile: this session's likes, dislikes and requests,
        and what is remembered about the user from earlier sessions (their own, never a
        persona's)."""
        who = self.who_label(persona or user_id)
        if not self.ready:
            return who, []
        agent = self.agent()
        state = agent.session(sid)
        stored = agent.user_profile(user_id).model_dump(mode="json") if user_id else None
        return who, profile_sections(agent, state, stored)

