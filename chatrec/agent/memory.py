"""Remember: fold a ``DialogueAct`` into the session state (and the user's profile).

Constraints live as long as the user wants them: a decade stated once holds until the user states
another; a new request of the same kind replaces the old one ("make it a comedy instead": genres;
"something with Harrison Ford instead": the cast) unless the user says "also"; exclusions add up,
and the newest statement wins between a requirement and an exclusion ("no horror" after "a
horror film"). Each constraint keeps where it came from, how sure the reading was and the turn it
was said in (``Constraints.origins``), which decides what is relaxed first.
"""

from __future__ import annotations

from chatrec.agent.models import Constraints, DialogueAct
from chatrec.agent.state import SessionState, UserProfile
from chatrec.catalog.constraints import ConstraintOrigin
from chatrec.catalog.genres import GENRE_ALTERNATIVES
from chatrec.catalog.normalize import label_key

_PEOPLE_FIELDS = ("people_any", "directors_any", "cast_any", "writers_any")
#: What a user asks films to have (as opposed to exclusions, which are dislikes).
POSITIVE_UNITS = ("year", "genres_all", "genres_any", *_PEOPLE_FIELDS)
#: User turns that neither carry a request on, ask about its films nor say it again before it
#: stops filtering (turns that only acknowledge, "Great!", are not counted).
MOVED_ON_TURNS = 1


def _union(*lists: list) -> list:
    return list(dict.fromkeys(v for values in lists for v in values))


def _without_keys(values: list[str], drop: list[str]) -> list[str]:
    keys = {label_key(d) for d in drop}
    return [v for v in values if label_key(v) not in keys]


def merge_constraints(current: Constraints, new: Constraints, additive: bool, turn: int = 0) -> Constraints:
    """``current`` updated by what one message asked (``new``); ``turn`` stamps the new units'
    origins."""
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
        elif new.year_max is not None:
            merged.year_max = new.year_max
            if merged.year_min is not None and merged.year_min > new.year_max:
                merged.year_min = None
    if new.genres_all or new.genres_any:
        if additive:
            merged.genres_all = _union(merged.genres_all, new.genres_all)
            merged.genres_any = _union(merged.genres_any, new.genres_any)
        else:
            merged.genres_all = list(new.genres_all)
            merged.genres_any = list(new.genres_any)
    for field in _PEOPLE_FIELDS:
        asked = getattr(new, field)
        if asked:
            setattr(merged, field, _union(getattr(merged, field), asked) if additive else list(asked))
    merged.genres_none = _union(merged.genres_none, new.genres_none)
    merged.people_none = _union(merged.people_none, new.people_none)
    merged.keywords_none = _union(merged.keywords_none, new.keywords_none)
    merged.decades_none = _union(merged.decades_none, new.decades_none)
    # The newest statement wins: "no horror" after "a horror film", and the other way round.
    merged.genres_all = _without_keys(merged.genres_all, new.genres_none)
    # "kids' films" also accepted animation: for grown-ups, neither is asked for any more.
    dropped = [g for g in merged.genres_any if label_key(g) in {label_key(n) for n in new.genres_none}]
    alternatives = [a for g in dropped for a in GENRE_ALTERNATIVES.get(label_key(g), ())]
    merged.genres_any = _without_keys(merged.genres_any, [*new.genres_none, *alternatives])
    merged.genres_none = _without_keys(merged.genres_none, [*new.genres_all, *new.genres_any])
    for field in _PEOPLE_FIELDS:
        setattr(merged, field, _without_keys(getattr(merged, field), new.people_none))
    asked_people = [p for field in _PEOPLE_FIELDS for p in getattr(new, field)]
    merged.people_none = _without_keys(merged.people_none, asked_people)
    merged.unsupported = list(new.unsupported)  # only said for the turn that asked
    for unit in new.units():   # said (again) now: hard while it is current
        origin = new.origins.get(unit) or ConstraintOrigin()
        merged.origins[unit] = origin.model_copy(update={"turn": origin.turn or turn, "renewed": turn})
    present = set(merged.units())
    merged.origins = {unit: origin for unit, origin in merged.origins.items() if unit in present}
    return merged


def apply_act(state: SessionState, act: DialogueAct, additive: bool = False) -> list[str]:
    """Fold what the user just said into the session. Returns the requests that stopped
    filtering (``age_constraints``)."""
    state.like_items(act.liked_items)
    state.dislike_items(act.disliked_items)
    state.see_items(act.seen_items)
    state.like_attributes(act.liked_attributes)
    state.dislike_attributes(act.disliked_attributes)
    state.rate_items(act.stated_ratings)
    state.mention([*act.liked_items, *act.disliked_items, *act.seen_items, *act.maybe_named])
    turn = sum(1 for t in state.turns if t.role in ("user", "seeker"))
    state.constraints = merge_constraints(state.constraints, act.constraints, additive, turn)
    shown = {entry.item_id for entry in state.last_shown}
    # "I've seen it", "not that one": a film shown is passed over, so another of the same is wanted
    reacts = any(i in shown for i in (*act.seen_items, *act.disliked_items)) and not act.liked_items
    softened = age_constraints(state.constraints, act, turn, reacts_to_shown=reacts)
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
    return softened


def age_constraints(constraints: Constraints, act: DialogueAct, turn: int,
                    reacts_to_shown: bool = False) -> list[str]:
    """Turn the requests the dialogue has left behind into preferences; what changed, said as
    "comedy: hard → soft (why)", for the trace.

    A request (a genre, a time frame, a person) filters while it is current: the turn it is said
    in and the user turns that carry it on ("more", "something else", a refinement, another
    request, saying it again). It becomes soft — it still ranks the films meeting it first and
    explains them, and excludes nothing — when the user likes or welcomes a film that breaks it,
    or gives one as its example ("a horror film like Seven") (``act.released``: their own example
    widens the request), or after ``MOVED_ON_TURNS`` user turns that neither carry it on, ask
    about or pass over the films shown, nor say it again (talk about other films, a reaction,
    answers, chit-chat). A turn that only acknowledges ("Great!", "thanks", "ok cool") is not
    counted: it neither carries the request on nor moves on from it.
    Exclusions ("no horror", "nothing with Adam Sandler") are dislikes and stay hard.
    """
    changes: list[str] = []
    for unit in constraints.hard_units():
        origin = constraints.origins.get(unit)
        if origin is None or not unit.startswith(POSITIVE_UNITS) \
                or (origin.current_since >= turn and unit not in act.released):
            continue   # an exclusion, or said in this very message (and not widened by its own examples)
        if unit in act.released:
            why = "a film you liked does not meet it"
        elif act.continues or act.item_question is not None or reacts_to_shown:
            # a question about a film shown ("who directed the second one?") or passing one over
            # ("I've seen it") is about the films the request brought: it stays current
            constraints.origins[unit] = origin.model_copy(update={"renewed": turn})
            continue
        elif acknowledges_only(act):
            # "Great!", "thanks": not counted — the request is as current as it was a turn ago
            constraints.origins[unit] = origin.model_copy(update={"renewed": origin.current_since + 1})
            continue
        elif turn - origin.current_since >= MOVED_ON_TURNS:
            why = "the conversation moved on"
        else:
            continue
        constraints.origins[unit] = origin.model_copy(update={"hard": False, "softened": why})
        changes.append(f"{constraints.label(unit)}: hard → soft ({why})")
    return changes


def acknowledges_only(act: DialogueAct) -> bool:
    """The message only acknowledged what was said ("Great!") and nothing in the act asks for
    anything (an LLM's reading merged on top may have found more in it)."""
    return act.acknowledges and act.constraints.is_empty() and not (
        act.liked_items or act.disliked_items or act.seen_items or act.refinements or act.item_question)


def apply_to_profile(profile: UserProfile, act: DialogueAct) -> bool:
    """Persist stated likes/dislikes/seen (and the ratings they imply) to the user's profile.
    True when something changed."""
    before = profile.model_dump(exclude={"updated_at"})
    profile.like_items(act.liked_items)
    profile.dislike_items(act.disliked_items)
    profile.see_items(act.seen_items)
    profile.rate_items(act.stated_ratings)
    profile.like_attributes([a for a in act.liked_attributes if not a.startswith("decade:")])
    profile.dislike_attributes(act.disliked_attributes)
    return profile.model_dump(exclude={"updated_at"}) != before
