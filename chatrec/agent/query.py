"""The query builder: what the dialogue and the user's history ask for, as a ``RetrievalQuery``.

``UserContext`` gathers, once per turn, everything known about the person talking: the session,
their stored profile and their interaction history. ``QueryBuilder`` turns it into the query the
retriever runs. It is public so that evaluation and tuning can build the agent's own queries
(``Agent.query``) instead of intercepting them.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatrec.agent.config import SeedWeights
from chatrec.agent.history import History, UserHistory
from chatrec.agent.retrieve import RetrievalQuery
from chatrec.agent.state import SessionState, UserProfile
from chatrec.catalog.models import Catalog
from chatrec.protocols import Graph


@dataclass
class UserContext:
    """Who is talking and what we know of them, for one turn.

    Attributes:
        state: the session.
        profile: the user's stored likes and dislikes (None: anonymous).
        log_user: their id in the catalog's interaction log (None: not in it).
        history: what that log says about them.
        liked: items they liked in this session (newest first), then in earlier ones.
    """

    state: SessionState
    profile: UserProfile | None
    log_user: str | None
    history: History
    liked: list[str]

    def anchors(self) -> list[str]:
        """Liked items an explanation may point to: stated likes, then favourites of the log."""
        return self.liked + [i for i in self.history.favourites if i not in self.liked]

    def discussed(self) -> set[str]:
        """Items a reply may name besides its recommendations: what this dialogue mentioned, what
        the profile holds (likes from other sessions, e.g. another Slack thread) and what the
        user's log holds."""
        s = self.state
        discussed = set(s.liked_items) | set(s.disliked_items) | set(s.seen_items) \
            | set(s.mentioned_items) | set(s.shown) | ({s.focus_item} if s.focus_item else set())
        if self.profile is not None:
            p = self.profile
            discussed |= set(p.liked_items) | set(p.disliked_items) | set(p.seen_items)
        return discussed | self.history.rated


class QueryBuilder:
    """Builds user contexts and the retrieval queries they lead to.

    Args:
        catalog: the items (likes outside it are ignored).
        kg: labels of liked keywords (added to the query text).
        history: the users of the catalog's interaction log.
        seeds: how strongly each kind of liked item seeds retrieval.
    """

    def __init__(self, catalog: Catalog, kg: Graph, history: UserHistory, seeds: SeedWeights | None = None):
        self.catalog = catalog
        self.kg = kg
        self.history = history
        self.seeds = seeds or SeedWeights()

    def context(self, state: SessionState, profile: UserProfile | None) -> UserContext:
        """Who is talking: ``profile`` is the speaker's (in a shared session, not necessarily the
        owner's); the interaction history is the session's persona's, else the speaker's."""
        speaker = profile.user_id if profile is not None else state.user_id
        log_user = self.history.log_user(state.persona or speaker)
        liked = list(reversed(state.liked_items))
        if profile is not None:
            liked += [i for i in reversed(profile.liked_items) if i not in liked]
        return UserContext(state=state, profile=profile, log_user=log_user, history=self.history.of(log_user),
                           liked=[i for i in liked if i in self.catalog])

    def build(self, context: UserContext, for_rank: bool = False) -> RetrievalQuery:
        """The query for a reply (items shown earlier excluded) or, ``for_rank``, for a full
        ranking of the current state (shown items may come back)."""
        state, profile, w = context.state, context.profile, self.seeds
        seeds: dict[str, float] = dict(context.history.seeds)
        if profile is not None:
            for item_id in profile.liked_items[-w.profile_likes:]:
                seeds[item_id] = max(seeds.get(item_id, 0.0), w.profile_like)
        if w.observed > 0:
            for turn in state.turns:
                if turn.role == "recommender":
                    for item_id in turn.items:
                        seeds[item_id] = max(seeds.get(item_id, 0.0), w.observed)
        for item_id in state.seen_items:
            # "I've seen Star Wars and Alien, any other ideas?": what they chose to watch says
            # something about them, less than a like.
            seeds[item_id] = max(seeds.get(item_id, 0.0), w.seen)
        for rank, item_id in enumerate(reversed(state.liked_items)):
            seeds[item_id] = max(seeds.get(item_id, 0.0), w.recent_like if rank < w.recent_likes else w.older_like)
        for item_id in state.disliked_items:
            seeds.pop(item_id, None)
        seeds = {i: weight for i, weight in seeds.items() if i in self.catalog}
        exclude = set(state.liked_items) | set(state.disliked_items) | set(state.seen_items) \
            | set(state.mentioned_items)
        if not for_rank:
            exclude |= set(state.shown)
        if profile is not None:
            exclude |= set(profile.disliked_items) | set(profile.seen_items) | set(profile.liked_items)
        exclude |= context.history.rated
        text_parts = list(state.query_texts[-1:])
        keywords = [self.kg.label(a) for a in state.liked_attributes if a.startswith("keyword:")]
        if keywords:
            text_parts.append(", ".join(keywords[-5:]))
        return RetrievalQuery(seeds=seeds, disliked_items=list(state.disliked_items),
                              liked_attributes=list(state.liked_attributes),
                              disliked_attributes=list(state.disliked_attributes),
                              constraints=state.constraints.model_copy(deep=True),
                              text=" ".join(text_parts).strip(),
                              user_id=context.log_user, exclude=exclude, refinements=list(state.refinements))
