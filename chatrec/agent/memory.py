"""Remember: fold a ``DialogueAct`` into the session state (and the user's profile).

Constraints accumulate across turns: a decade stated once holds until the user states another;
a new positive genre replaces the previous one unless the user says "also"; exclusions add up.
"""

from __future__ import annotations

from chatrec.agent.models import Constraints, DialogueAct
from chatrec.agent.state import SessionState, UserProfile


def merge_constraints(current: Constraints, new: Constraints, additive: bool) -> Constraints:
    merged = current.model_copy(deep=True)
    if new.year_min is not None or new.year_max is not None:
        # A new time frame replaces the old one, except a one-sided bound ("before 2000")
        # which narrows it ("90s" + "before 1995" = 1990–1994).
        if new.year_min is not None and new.year_max is not None:
            merged.year_min, merged.year_max = new.year_min, new.year_max
        elif new.year_min is not None:
            merged.year_min = new.year_min
            if merged.year_max is not None and merged.year_max < new.year_min:
                merged.year_max = None
        else:
            merged.year_max = new.year_max
            if merged.year_min is not None and merged.year_min > new.year_max:
                merged.year_min = None
    if new.genres_all or new.genres_any:
        if additive:
            merged.genres_all = list(dict.fromkeys([*merged.genres_all, *new.genres_all]))
            merged.genres_any = list(dict.fromkeys([*merged.genres_any, *new.genres_any]))
        else:
            merged.genres_all = list(new.genres_all)
            merged.genres_any = list(new.genres_any)
    if new.genres_none:
        merged.genres_none = list(dict.fromkeys([*merged.genres_none, *new.genres_none]))
        merged.genres_all = [g for g in merged.genres_all if g not in new.genres_none]
        merged.genres_any = [g for g in merged.genres_any if g not in new.genres_none]
    if new.people_any:
        merged.people_any = (list(dict.fromkeys([*merged.people_any, *new.people_any]))
                             if additive else list(new.people_any))
    if new.people_none:
        merged.people_none = list(dict.fromkeys([*merged.people_none, *new.people_none]))
        merged.people_any = [p for p in merged.people_any if p not in new.people_none]
    # "no horror" after "a horror film": the newest statement wins.
    merged.genres_none = [g for g in merged.genres_none if g not in new.genres_all and g not in new.genres_any]
    merged.people_none = [p for p in merged.people_none if p not in new.people_any]
    merged.unsupported = list(new.unsupported)  # only said for the turn that asked
    return merged


def apply_act(state: SessionState, act: DialogueAct, additive: bool = False) -> None:
    """Fold what the user just said into the session."""
    state.like_items(act.liked_items)
    state.dislike_items(act.disliked_items)
    state.see_items(act.seen_items)
    state.like_attributes(act.liked_attributes)
    state.dislike_attributes(act.disliked_attributes)
    state.mention([*act.liked_items, *act.disliked_items, *act.seen_items])
    state.constraints = merge_constraints(state.constraints, act.constraints, additive)
    # "older"/"newer" move the time frame rather than narrow it.
    # An explicit range in the same message ("an older one, from the 80s") wins.
    if "older" in act.refinements and act.constraints.year_max is not None \
            and act.constraints.year_min is None:
        state.constraints.year_min = None
    if "newer" in act.refinements and act.constraints.year_min is not None \
            and act.constraints.year_max is None:
        state.constraints.year_max = None
    soft = [r for r in act.refinements if r in ("lighter", "darker", "simpler", "popular", "obscure")]
    if soft:
        opposite = {"lighter": "darker", "darker": "lighter", "popular": "obscure", "obscure": "popular"}
        state.refinements = [r for r in state.refinements if r not in {opposite.get(s) for s in soft}]
        state.refinements = list(dict.fromkeys([*state.refinements, *soft]))
    if act.query_text:
        state.query_texts.append(act.query_text)
        del state.query_texts[:-3]
    if act.target_item:
        state.focus_item = act.target_item
    if act.intent in ("recommend", "refine"):
        state.request_active = True


def apply_to_profile(profile: UserProfile, act: DialogueAct) -> bool:
    """Persist stated likes/dislikes/seen to the user's profile. True when something changed."""
    before = profile.model_dump(exclude={"updated_at"})
    profile.like_items(act.liked_items)
    profile.dislike_items(act.disliked_items)
    profile.see_items(act.seen_items)
    profile.like_attributes([a for a in act.liked_attributes if not a.startswith("decade:")])
    profile.dislike_attributes(act.disliked_attributes)
    return profile.model_dump(exclude={"updated_at"}) != before
