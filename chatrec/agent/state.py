"""What the agent remembers: per-session dialogue state and per-user profiles.

Both are pydantic models serialised to JSON by ``chatrec.store``; each carries a schema version so
that a state written by an older chatrec is upgraded, not misread, after an update.
"""

from __future__ import annotations

import re
import time
from typing import Literal

from pydantic import BaseModel, Field

from chatrec.agent.models import Constraints, Fact

SESSION_SCHEMA_VERSION = 1
PROFILE_SCHEMA_VERSION = 1
MAX_TURNS_KEPT = 60


def _now() -> float:
    return time.time()


Role = Literal["user", "assistant", "recommender", "seeker"]


class Turn(BaseModel):
    role: Role
    text: str
    at: float = Field(default_factory=_now)
    items: list[str] = Field(default_factory=list)   # items this turn mentioned or recommended
    user_id: str | None = None   # who said it (a user turn in a session several people talk in)


def _add_unique(target: list[str], values: list[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _remove(target: list[str], values: list[str]) -> None:
    drop = set(values)
    target[:] = [v for v in target if v not in drop]


class Preferences(BaseModel):
    """Likes and dislikes, of items (catalog ids) and attributes (KG node ids)."""

    liked_items: list[str] = Field(default_factory=list)
    disliked_items: list[str] = Field(default_factory=list)
    seen_items: list[str] = Field(default_factory=list)
    liked_attributes: list[str] = Field(default_factory=list)
    disliked_attributes: list[str] = Field(default_factory=list)
    # what the user said of films, as ratings on a 1–5 scale ("I loved Inception" → 5.0)
    ratings: dict[str, float] = Field(default_factory=dict)

    def like_items(self, ids: list[str]) -> None:
        _add_unique(self.liked_items, ids)
        _remove(self.disliked_items, ids)

    def dislike_items(self, ids: list[str]) -> None:
        _add_unique(self.disliked_items, ids)
        _remove(self.liked_items, ids)

    def see_items(self, ids: list[str]) -> None:
        _add_unique(self.seen_items, ids)

    def rate_items(self, ratings: dict[str, float]) -> None:
        """Record ratings the user stated; the latest statement about a film counts."""
        self.ratings.update(ratings)

    def like_attributes(self, nodes: list[str]) -> None:
        _add_unique(self.liked_attributes, nodes)
        _remove(self.disliked_attributes, nodes)

    def dislike_attributes(self, nodes: list[str]) -> None:
        _add_unique(self.disliked_attributes, nodes)
        _remove(self.liked_attributes, nodes)

    def remove(self, value: str) -> bool:
        """Forget one item id or attribute node wherever it is. True if something was removed."""
        found = self.ratings.pop(value, None) is not None
        for field in (self.liked_items, self.disliked_items, self.seen_items,
                      self.liked_attributes, self.disliked_attributes):
            if value in field:
                field.remove(value)
                found = True
        return found


class ShownItem(BaseModel):
    item_id: str
    evidence: list[Fact] = Field(default_factory=list)
    explanation: str = ""


class SessionState(Preferences):
    """One conversation. Everything needed to continue it after a restart."""

    schema_version: int = SESSION_SCHEMA_VERSION
    session_id: str
    user_id: str | None = None           # who started it: owns it, whoever speaks later
    persona: str | None = None           # a read-only history the session recommends for ("ml:42")
    turns: list[Turn] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    refinements: list[str] = Field(default_factory=list)   # soft modifiers: lighter, darker, ...
    query_texts: list[str] = Field(default_factory=list)   # free-text needs, newest last
    shown: list[str] = Field(default_factory=list)         # every item recommended so far
    last_shown: list[ShownItem] = Field(default_factory=list)  # the latest recommendation list
    mentioned_items: list[str] = Field(default_factory=list)   # every item named by anyone
    focus_item: str | None = None        # what "it" refers to
    questions_asked: list[str] = Field(default_factory=list)   # slots already asked about
    request_active: bool = False         # the user has asked for recommendations at some point
    created_at: float = Field(default_factory=_now)
    updated_at: float = Field(default_factory=_now)

    def add_turn(self, role: Role, text: str, items: list[str] | None = None,
                 user_id: str | None = None) -> None:
        self.turns.append(Turn(role=role, text=text, items=items or [], user_id=user_id))
        if len(self.turns) > MAX_TURNS_KEPT:
            del self.turns[: len(self.turns) - MAX_TURNS_KEPT]
        self.updated_at = _now()

    def forget_speaker(self, user_id: str) -> bool:
        """Remove what ``user_id`` said here (when someone else owns the session): their turns,
        the replies to them (which may quote them) and the free-text requests taken from their
        words. What the dialogue as a whole came to prefer stays. True when something went."""
        said: list[str] = []
        kept: list[Turn] = []
        replying = False
        for turn in self.turns:
            if turn.role == "user" and turn.user_id == user_id:
                said.append(turn.text)
                replying = True
                continue
            if replying and turn.role == "assistant":
                replying = False
                continue
            replying = False
            kept.append(turn)
        if not said:
            return False
        self.turns = kept
        # A request text is made of the words of one message (stop words dropped).
        words = [set(re.findall(r"\w+", text.lower())) for text in said]
        self.query_texts = [q for q in self.query_texts
                            if not any(set(re.findall(r"\w+", q.lower())) <= message for message in words)]
        self.updated_at = _now()
        return True

    def mention(self, ids: list[str]) -> None:
        _add_unique(self.mentioned_items, ids)

    def record_shown(self, shown: list[ShownItem]) -> None:
        self.last_shown = shown
        _add_unique(self.shown, [s.item_id for s in shown])
        if shown:
            self.focus_item = shown[0].item_id

    def shown_evidence(self, item_id: str) -> ShownItem | None:
        for entry in self.last_shown:
            if entry.item_id == item_id:
                return entry
        return None


class UserProfile(Preferences):
    """What chatrec keeps about a user across sessions (feedback and stated likes/dislikes).
    Users of the catalog's interaction log ("movielens:42", "coffee:u1") also have their history,
    read from the catalog, not stored."""

    schema_version: int = PROFILE_SCHEMA_VERSION
    user_id: str
    updated_at: float = Field(default_factory=_now)


def migrate_session(data: dict) -> dict:
    """Upgrade a stored session dict to the current schema (no-op at version 1)."""
    version = data.get("schema_version", 1)
    if version > SESSION_SCHEMA_VERSION:
        raise ValueError(f"session schema {version} is newer than this chatrec understands")
    data["schema_version"] = SESSION_SCHEMA_VERSION
    return data


def migrate_profile(data: dict) -> dict:
    version = data.get("schema_version", 1)
    if version > PROFILE_SCHEMA_VERSION:
        raise ValueError(f"profile schema {version} is newer than this chatrec understands")
    data["schema_version"] = PROFILE_SCHEMA_VERSION
    return data
