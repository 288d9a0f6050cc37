"""Rule-based understanding: one user message + the session state → ``DialogueAct``.

The KG entity linker finds the items, people, genres, keywords and decades a message names;
word patterns (``patterns.py``) decide what the message wants and how the user feels about each
mention (liked, disliked, seen, required, excluded). No LLM is needed; when one is configured its
reading is merged on top (``chatrec.agent.merge``), never trusted blindly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import cast

from chatrec.agent import patterns as P
from chatrec.agent.memory import POSITIVE_UNITS
from chatrec.agent.mentions import MentionReader, narrow_exclusions
from chatrec.agent.models import Constraints, DialogueAct, Intent, ItemQuestion
from chatrec.agent.moods import MoodReader
from chatrec.agent.scope import Span, clause_before, overlaps, read_sentence
from chatrec.agent.state import SessionState
from chatrec.agent.time_reading import TimeReader
from chatrec.catalog.constraints import ConstraintOrigin
from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key
from kg.models import ITEM, KEYWORD, PERSON, person_node

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9']+")
# A film given as an example of what is asked: "a horror movie like Seven", "such as Heat".
_EXAMPLE_BEFORE = re.compile(r"\b(?:like|similar to|such as|along the lines of|in the vein of)\s+(?:the\s+)?$",
                             re.IGNORECASE)
_PLAIN_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# A number right after a viewing or opinion verb is a title ("I saw 1922 on Netflix", "loved 2012").
_WATCHED_NUMBER = re.compile(r"\b(?:saw|seen|watched|watching|loved|liked|enjoyed|hated)\s+$", re.IGNORECASE)
# Runs of capitalised words, with the small words titles have inside ("Raiders of the Lost Ark")
# and their punctuation ("Oh, God!", "The Naked Gun 2½: The Smell of Fear").
_WORD_CHARS = r"[^\s,;()\"“”]"
_CAPITALISED_RUN = re.compile(rf"[A-Z0-9]{_WORD_CHARS}*(?:,?\s+(?:(?:of|the|and|a|an|in|on|to|for|at|with|from)\s+)*"
                              rf"[A-Z0-9]{_WORD_CHARS}*)*")
_TITLE_WORD = re.compile(rf"{_WORD_CHARS}+")
_ARTICLE = re.compile(r"^(?:the|a|an) (?=\S)")
_YEAR_TAIL = re.compile(r"\s*[(\[]?\s*(?:18|19|20)\d\d\s*[)\]]?\s*$")
# Capitalised words that are titles too, but far more often the start of a sentence.
_PRONOUN_TITLES = frozenset({"it", "up", "her", "him", "us", "them", "this", "that", "me", "you", "i", "a", "the",
                             "we", "so", "yes", "no", "ok", "okay", "hi", "hello"})
#: What films are asked to have besides a time frame (an example compared to a time frame excludes it).
_ASKED_OF_FILMS = tuple(u for u in POSITIVE_UNITS if u != "year")


class RuleUnderstander:
    """Reads a message with the entity linker and word patterns.

    Args:
        catalog: the catalog (years of films, for comparisons; titles).
        linker: a ``kg.linker.EntityLinker`` (``link(text)`` → mentions with start/end/node/kind).
    """

    def __init__(self, catalog: Catalog, linker):
        self.catalog = catalog
        self.linker = linker
        self.times = TimeReader(catalog)
        self.newest_year = self.times.newest_year
        self.mentions = MentionReader(catalog, getattr(linker, "kg", None))
        self.moods = MoodReader(getattr(linker, "kg", None))

    # ------------------------------------------------------------------ public
    def read(self, text: str, state: SessionState) -> DialogueAct:
        act = DialogueAct(source="rules")
        text = text.translate(_PLAIN_QUOTES)   # "Isn’t" reads as "Isn't" (same length: spans hold)
        lowered = text.lower()
        # Items under discussion need less evidence to be recognised ("I've seen Up" after Up
        # was shown) and win ambiguities.
        context = [*state.mentioned_items[-30:], *(s.item_id for s in state.last_shown)]
        audience = [Span(*m.span()) for m in P.ADULT_AUDIENCE.finditer(text)]
        # "for grown-ups" is an audience, not the film "Grown Ups".
        mentions = [m for m in self._link(text, context) if not overlaps(m.start, m.end, audience)]
        # Words that are parts of linked entities must not also trigger patterns (the film "Up").
        entity_spans = [Span(m.start, m.end) for m in mentions]

        shown_years = [self.catalog[s.item_id].year for s in state.last_shown
                       if s.item_id in self.catalog and self.catalog[s.item_id].year]
        # A keyword ("classic", "recent") never hides a comparison of years.
        time = self.times.read(text, [m for m in mentions if m.kind == ITEM],
                               [Span(m.start, m.end) for m in mentions if m.kind in (ITEM, PERSON)],
                               [y for y in shown_years if y])
        self._apply_time(time, act)
        if audience:
            act.constraints.genres_none.append("family")
            act.constraints.origins["genres_none:family"] = ConstraintOrigin(
                certainty=0.85, said=text[audience[0].start:audience[0].end])
        self._read_unsupported(text, entity_spans, act.constraints)
        moods = self.moods.read(text, [Span(m.start, m.end) for m in mentions if m.kind in (ITEM, PERSON)], act)
        # With nothing shown yet, "uplifting" is the mood asked for, not a shift from the last list.
        self._read_refinements(text, entity_spans + audience + ([] if state.last_shown else moods), act)
        self.mentions.read(text, mentions, act, context)
        narrow_exclusions(act, self.mentions.narrow_exclusions, state.constraints)
        self.mentions.negated_genre_words(text, entity_spans, act)
        self._read_references(text, entity_spans, act, state)
        self._read_unknown_titles(text, mentions, act)
        act.intent = self._intent(text, lowered, act, state, mentions)
        if act.intent == "rate" and not self._names_a_film(text, mentions, state):
            # "what would I rate it?" right after "I loved Inception": "it" is the film the user
            # just named, not the first of the list we answered with.
            said = next((t.items for t in reversed(state.turns)
                         if t.role in ("user", "seeker")), [])
            if said:
                act.target_item = said[0]
        if act.intent in ("ask_about", "rate"):
            # "who is in The Matrix?" names the film to ask about, not one the user loved, and
            # asks nothing new of the recommendations.
            act.liked_items = []
            act.constraints = Constraints(unsupported=act.constraints.unsupported)
        examples = [m.item_id for m in mentions if m.kind == ITEM and m.item_id in act.liked_items
                    and _EXAMPLE_BEFORE.search(text[max(0, m.start - 30):m.start])]
        act.released = self._released(act, state, welcomed_films(text, act, state), examples)
        act.continues = carries_request_on(text, act)
        titled = self._maybe_named(text, entity_spans, act)
        act.maybe_named = [i for i in self.named_films(text, mentions, titled) if i not in act.liked_items
                           and i not in act.seen_items and i not in act.disliked_items]
        read_acknowledgement(text, act)
        act.query_text = self._narrative(text, entity_spans + audience + moods + [span for _, span in titled], act)
        return act

    def _released(self, act: DialogueAct, state: SessionState, welcomed: Sequence[str] = (),
                  examples: Sequence[str] = ()) -> list[str]:
        """Requirements of the session a film the user now likes does not meet, or that none of
        the films the user just welcomed meets: the user's own example, or the user's welcome of
        a suggestion that ignores it, widens the request, so each becomes a preference (a like of
        its genre or person) instead of a filter."""
        c, own = state.constraints, act.constraints
        said = set(own.units())   # asked again now: what this message says counts
        positive = [u for u in c.hard_units() if u.startswith(POSITIVE_UNITS) and u not in said]
        liked = [item for i in act.liked_items if (item := self.catalog.get(i)) is not None]
        released: list[str] = []
        for item in liked:
            released += [u for u in positive if u not in released and not c.only_unit(u).matches(item)]
        items = [self.catalog[i] for i in welcomed if i in self.catalog]
        if items:
            released += [u for u in positive if u not in released
                         and not any(c.only_unit(u).matches(item) for item in items)]
        # "a horror film like Seven": the request's own examples ("like X", "such as X"), none
        # of which meets it, show what the user means by it (a time frame compared to the
        # example excludes it by design, so only genres and people)
        shown_as = [item for i in examples if (item := self.catalog.get(i)) is not None]
        if shown_as:
            released += [u for u in own.units() if u.startswith(_ASKED_OF_FILMS)
                         and not any(own.only_unit(u).matches(item) for item in shown_as)]
        for unit in released:
            name, _, value = unit.partition(":")
            source = own if unit in said else c
            if name.startswith("genres"):
                labels = [value] if value else source.genres_any
                act.liked_attributes.extend(f"genre:{label_key(g)}" for g in labels)
            elif name != "year":
                act.liked_attributes.extend(person_node(p) for p in getattr(source, name))
        return released

    def named_films(self, text: str, mentions: list, titled: list[tuple[str, Span]] | None = None) -> list[str]:
        """Every film a message may name, to be never recommended back: the linked films, the
        other entries of the same title and year (one film listed twice with years a year apart,
        "Sherlock Holmes (2009/2010)"), and exact titles written where no film was linked."""
        if titled is None:
            titled = self._maybe_named(text, [Span(m.start, m.end) for m in mentions], DialogueAct())
        found = [m.item_id for m in mentions if m.kind == ITEM and m.item_id]
        # the film whose title is exactly what was written ("the original Star Wars" linked to
        # another film of the series)
        found += [e.id for m in mentions if m.kind == ITEM for e in self.catalog.find_title(m.text)[:3]]
        for item_id in list(found):
            item = self.catalog.get(item_id)
            if item is None:
                continue
            found += [twin.id for twin in self.catalog.find_title(item.title)
                      if item.year is None or twin.year is None or abs(twin.year - item.year) <= 1]
        found += [item_id for item_id, _ in titled]
        return list(dict.fromkeys(found))

    def _maybe_named(self, text: str, taken: list[Span], act: DialogueAct) -> list[tuple[str, Span]]:
        """Films whose exact title is written, capitalised, where the linker saw an ordinary word
        ("Heat and Ronin are two of my favorites"): never recommended back, whatever they were."""
        found: list[tuple[str, Span]] = []
        # linked spans without the year the linker took along ("Fear (1991)" inside a longer title)
        taken = [Span(t.start, t.start + len(_YEAR_TAIL.sub("", text[t.start:t.end]))) for t in taken]
        for run in _CAPITALISED_RUN.finditer(text):
            words = [(m.start() + run.start(), m.end() + run.start()) for m in _TITLE_WORD.finditer(run.group(0))]
            # each word normalised once, as title_key would ("2½:" → "21 2"), to test phrases cheaply
            keys = [label_key(text[a:b].replace("&", " and ")) for a, b in words]
            for i in range(len(words)):
                for j in range(i, min(i + 10, len(words))):
                    key = _ARTICLE.sub("", " ".join(k for k in keys[i:j + 1] if k))
                    if not key or not self.catalog.has_title_key(key):
                        continue
                    start, end = words[i][0], words[j][1]
                    # a longer exact title may hold linked spans ("The Naked Gun 2½: The Smell of Fear")
                    cut = any(start < t.end and t.start < end and not (start <= t.start and t.end <= end)
                              for t in taken)
                    if cut or any(t.start == start and t.end == end for t in taken) \
                            or not (text[start].isupper() or _WATCHED_NUMBER.search(text[:start])):
                        continue
                    said = text[start:end].rstrip(".:!?")
                    if said.lower() in _PRONOUN_TITLES:
                        continue
                    for item in self.catalog.find_title(said)[:3]:
                        if item.id not in act.liked_items + act.seen_items + act.disliked_items:
                            found.append((item.id, Span(start, end)))
        return found

    def _names_a_film(self, text: str, mentions: list, state: SessionState) -> bool:
        """A title or an ordinal ("the second one") in the message, not just "it"."""
        return any(m.kind == ITEM for m in mentions) or self._shown_by_ordinal(text, state) is not None

    # ------------------------------------------------------------------ linking
    def _link(self, text: str, context: Sequence[str] = ()) -> list:
        try:
            return list(self.linker.link(text, context=context))
        except Exception:  # noqa: BLE001 - a linker bug must not break the turn
            logger.exception("entity linking failed")
            return []

    # ------------------------------------------------------------------ time
    @staticmethod
    def _apply_time(time, act: DialogueAct) -> None:
        c = act.constraints
        c.year_min, c.year_max = time.year_min, time.year_max
        if time.origin is not None and time.has_range:
            c.origins["year"] = time.origin
        for decade in time.decades_none:
            c.decades_none.append(decade)
            c.origins[f"decades_none:{decade}"] = ConstraintOrigin(certainty=0.9, said=f"not the {decade}s")
        if time.comparative:
            act.refinements.append(time.comparative)

    def _read_unsupported(self, text: str, taken: list[Span], c: Constraints) -> None:
        for label, pattern in P.UNSUPPORTED:
            if any(not overlaps(m.start(), m.end(), taken) for m in pattern.finditer(text)):
                c.unsupported.append(label)

    # ------------------------------------------------------------------ refinements
    def _read_refinements(self, text: str, taken: list[Span], act: DialogueAct) -> None:
        """Soft shifts of the request: lighter, darker, simpler, more or less popular; a vague
        answer ("anything really") asks for well-known films."""
        for label, pattern in P.REFINEMENTS:
            if label in ("older", "newer"):
                continue   # comparisons of time are read with the years
            if any(not overlaps(m.start(), m.end(), taken) for m in pattern.finditer(text)):
                act.refinements.append(label)
        if "lighter" in act.refinements and "darker" in act.refinements:
            act.refinements.remove("darker")
        if P.VAGUE.search(text) and not P.MORE_OF_THE_SAME.search(text):   # not "anything like it?"
            act.refinements.append("popular")

    # ------------------------------------------------------------------ references
    def _shown_by_ordinal(self, text: str, state: SessionState) -> str | None:
        if not state.last_shown:
            return None
        for m in P.ORDINAL_REF.finditer(text):
            if m.group(2):
                index = int(m.group(2)) - 1
            else:
                index = P.ORDINALS[m.group(1).lower()]
            if -len(state.last_shown) <= index < len(state.last_shown):
                return state.last_shown[index].item_id
        return None

    def _read_references(self, text: str, taken: list[Span], act: DialogueAct,
                         state: SessionState) -> None:
        if state.last_shown and (P.REJECT_ALL.search(text) or P.DECLINE.match(text)) \
                and act.target_item is None:
            # The whole list missed: different ones next (shown items never come back).
            act.refinements.append("different")
            return
        ordinal = self._shown_by_ordinal(text, state)
        named = act.target_item
        target = named or ordinal
        if target is None and P.PRONOUN_REF.search(text):
            target = state.focus_item
        if target is None and state.last_shown and (P.NOT_THAT.search(text) or P.SEEN_IT.search(text)):
            target = state.focus_item or state.last_shown[0].item_id
        act.target_item = target
        if (seed := more_like_seed(text, ordinal, target if named is None else None)) is not None:
            act.liked_items.append(seed)
            act.refinements.append("more_like")
        elif (ref := ordinal or (target if named is None else None)) is not None:
            if P.SEEN_IT.search(text) or re.search(r"\b(?:seen|watched)\b", text, re.IGNORECASE) \
                    and not P.UNSEEN_BEFORE.search(text):
                act.seen_items.append(ref)
                if P.LIKE_IT.search(text) or re.search(r"\b(?:loved|liked|enjoyed)\b", text, re.IGNORECASE):
                    act.liked_items.append(ref)
            elif P.NOT_THAT.search(text):
                act.disliked_items.append(ref)
            elif P.LIKE_IT.search(text):
                act.liked_items.append(ref)
        elif named is None and P.NOT_THAT.search(text) and not state.last_shown:
            pass
        for field in ("liked_items", "disliked_items", "seen_items"):
            setattr(act, field, list(dict.fromkeys(getattr(act, field))))

    # ------------------------------------------------------------------ unknown titles
    def _read_unknown_titles(self, text: str, mentions: list, act: DialogueAct) -> None:
        spans = [Span(m.start, m.end) for m in mentions]
        found: list[str] = []
        for pattern in (P.UNKNOWN_TITLE, P.QUOTED):
            for m in pattern.finditer(text):
                start, end = m.span(1)
                candidate = m.group(1).strip(" '\"“”.,!?")
                if not candidate or overlaps(start, end, spans):
                    continue
                words = candidate.split()
                if pattern is P.UNKNOWN_TITLE and (candidate.lower() in P.STOPWORDS
                                                   or all(w.lower() in P.STOPWORDS for w in words)):
                    continue
                if candidate.lower() in {"it", "that", "this", "them", "movies", "films"}:
                    continue
                found.append(candidate)
        act.unknown_titles = list(dict.fromkeys(found))

    # ------------------------------------------------------------------ intent
    def _intent(self, text: str, lowered: str, act: DialogueAct, state: SessionState,
                mentions: list) -> Intent:
        if P.RESET.search(text):
            return "reset"
        if P.RATE.search(text):
            return "rate"
        for question, pattern in P.ITEM_QUESTIONS:
            if pattern.search(text) and "?" in text or pattern.search(text) and question in ("why", "plot"):
                if question == "why" and not (state.last_shown or act.target_item):
                    continue
                act.item_question = cast(ItemQuestion, question)
                return "ask_about"
        has_constraint = not act.constraints.is_empty()
        has_content = bool(has_constraint or act.liked_items or act.liked_attributes
                           or act.disliked_attributes or act.refinements)
        request = bool(P.REQUEST.search(text))
        words = _WORD.findall(lowered)
        more_of_the_same = bool(P.MORE_OF_THE_SAME.search(text))   # "ones like that"
        if P.GREETING.match(text) and not has_content and not request:
            return "greeting"
        if P.DECLINE.match(text) and not has_content and not state.last_shown:
            act.declined = True
            return "chitchat"
        if P.THANKS.search(text) and not has_content and not request:
            return "thanks"
        if act.refinements and state.request_active:
            return "refine"
        if has_content or more_of_the_same or (request and len(words) >= 1 and self._requesty(lowered)):
            if not request and not has_constraint and not act.refinements and not act.liked_attributes \
                    and (act.disliked_items or act.seen_items) and not act.liked_items:
                return "feedback"
            return "recommend"
        if act.disliked_items or act.seen_items or act.liked_items:
            return "feedback"
        if act.unknown_titles:
            return "recommend" if request else "feedback"
        return "chitchat"

    @staticmethod
    def _requesty(lowered: str) -> bool:
        """Request words that on their own mean "recommend me something"."""
        return bool(re.search(
            r"\b(?:recommend\w*|suggest\w*|looking for|in the mood|something|anything|any (?:good )?(?:movies?|films?)|"
            r"what (?:should|can) i watch|movie|film|flick|watch|show me|give me|find me|ideas?|more|another|"
            r"options|similar|others?|what else|else|story|stories)\b", lowered))

    # ------------------------------------------------------------------ narrative
    def _narrative(self, text: str, taken: list[Span], act: DialogueAct) -> str:
        """Free-text needs ("about space exploration", "that makes me cry") for vector retrieval:
        the message's content words outside linked entities, negations and talk about the
        occasion ("for tonight", "this weekend"), if there are enough of them to mean something.
        Nothing is searched for a word the user negated, and a request with no need in it is no
        query (titles that share a word with it are no answer): one word is a need only when a cue
        says the film is about it ("a documentary about food")."""
        if act.intent not in ("recommend", "refine"):
            return ""
        negated = [Span(m.start(), _clause_end(text, m.end()))
                   for m in (*P.NEGATOR.finditer(text), *_NOT_VERB.finditer(text))]
        drop = sorted([*taken, *negated], key=lambda s: s.start)
        kept = []
        last = 0
        for span in drop:
            if span.start > last:
                kept.append(text[last:span.start])
            last = max(last, span.end)
        kept.append(text[last:])
        residue = " ".join(kept)
        content = [w for w in _WORD.findall(residue.lower()) if len(w) > 2 and not w.isdigit()
                   and w not in P.STOPWORDS and w not in P.OCCASION_WORDS and w not in P.NARRATIVE_STOP]
        if len(content) >= 2:
            return " ".join(content)
        cues = [*P.ASPECT_CUE.finditer(text), *P.TOPIC_BEFORE_FILM.finditer(text)]
        cued = {m.group(1).lower() for m in cues
                if not P.NEGATOR.search(clause_before(text, m.start(), 40))}   # "nothing about war"
        return content[0] if content and content[0] in cued else ""


_NOT_VERB = re.compile(rf"\b(?:{P.NOT_VERBS}|don'?t|do not|isn'?t|aren'?t)\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,.;:!?]|\s(?:but|maybe|just|though|instead)\b", re.IGNORECASE)


def _clause_end(text: str, start: int) -> int:
    """Where the clause going on at ``start`` ends: what a negation covers ("won't make me cry",
    not the "maybe an animated film" after the comma)."""
    found = _CLAUSE_END.search(text, start)
    return found.start() if found else len(text)


def welcomed_films(text: str, act: DialogueAct, state: SessionState) -> list[str]:
    """The films just suggested, when the user welcomes them ("sounds good, I'll check it
    out", "I haven't seen that one, what is it about?") without asking for anything else."""
    if not state.last_shown or not P.WELCOME.search(text) or act.disliked_items \
            or act.constraints.has_requirements() or P.NOT_THAT.search(text) or P.REJECT_ALL.search(text) \
            or P.NEGATED_AFTER.search(text):
        return []
    return [s.item_id for s in state.last_shown]

def carries_request_on(text: str, act: DialogueAct) -> bool:
    """Whether the message carries the current request on: it asks for films ("more",
    "something else", "any others?", "what else do you have?"), refines them ("something
    lighter", "none of those", "not about boxing") or asks for something more (another genre, a
    time frame).
    Talking about a film, answering a question or chit-chat does not."""
    if act.intent not in ("recommend", "refine"):
        return False
    c = act.constraints
    if act.refinements or c.has_requirements() or c.genres_none or c.people_none or c.keywords_none:
        return True   # "not about boxing" after "a sports movie": the same request, narrowed
    for sentence in _SENTENCE.findall(text):
        kind = read_sentence(sentence)
        # more of the same ("any others like it?", "got anything similar?") asks for what the
        # request asked
        if (kind.request or P.MORE_OF_THE_SAME.search(sentence)) and not kind.about_film:
            return True
    return False


def more_like_seed(text: str, ordinal: str | None, pronoun_target: str | None) -> str | None:
    """The film shown or discussed that the message asks for more like, as references resolve:
    by its place ("more like the second one") or by "it" / "that one" ("any others like it?":
    the film in focus). A named film is read as a like where it is named."""
    if ordinal is not None:
        return ordinal if P.MORE_LIKE.search(text) or P.MORE_OF_THE_SAME.search(text) else None
    if P.SEEN_IT.search(text) or P.NOT_THAT.search(text):
        return None   # "I've seen it, anything like it?" passes the film over first
    return pronoun_target if P.LIKE_ONE_FILM.search(text) else None


def read_acknowledgement(text: str, act: DialogueAct) -> None:
    """Marks a message that only acknowledges what was said ("Great!", "thanks", "ok cool", "haha
    nice"): every word is an acknowledgement or laughter and nothing else was read from it. It
    says nothing about moving on from the request, nor carries it on. "Cool!" and "sweet" are
    film keywords too: said alone they react, they state no taste."""
    words = _WORD.findall(text.lower())
    if not all(w in P.ACKNOWLEDGEMENT_WORDS or P.LAUGHTER.fullmatch(w) for w in words):
        return
    tastes = [a for a in act.liked_attributes if not a.startswith(f"{KEYWORD}:")]
    if act.intent in ("reset", "rate", "ask_about") or act.declined or act.refinements or tastes \
            or not act.constraints.is_empty() or act.unknown_titles or act.maybe_named \
            or any((act.liked_items, act.disliked_items, act.seen_items, act.disliked_attributes)):
        return
    act.acknowledges = True
    act.liked_attributes = []
    if act.intent == "recommend":
        act.intent = "chitchat"
