"""Rule-based understanding: one user message + the session state → ``DialogueAct``.

The KG entity linker finds the items, people, genres, keywords and decades a message names;
word patterns (``patterns.py``) decide what the message wants and how the user feels about each
mention (liked, disliked, seen, required, excluded). No LLM is needed; when one is configured its
reading is merged on top (``chatrec.agent.merge``), never trusted blindly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from chatrec.agent import patterns as P
from chatrec.agent.models import Constraints, DialogueAct
from chatrec.agent.state import SessionState
from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import title_key
from kg.models import DECADE, GENRE, ITEM, KEYWORD, PERSON, node_value

logger = logging.getLogger(__name__)

# "but" ends a clause ("I loved X but hated Y"), except in "anything/everything/all but".
_CLAUSE_BREAK = re.compile(r"[.;!?]|(?<!anything )(?<!everything )(?<!all )\bbut\b(?! not\b)|\bhowever\b|"
                           r"\bthough\b|\balthough\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9']+")


@dataclass
class _Span:
    start: int
    end: int


def _clause_before(text: str, start: int, limit: int = 80) -> str:
    """The words before ``start`` in the same clause (cut at sentence punctuation or "but")."""
    window = text[max(0, start - limit):start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end():] if breaks else window


def _clause_after(text: str, end: int, limit: int = 60) -> str:
    window = text[end:end + limit]
    found = _CLAUSE_BREAK.search(window)
    return window[: found.start()] if found else window


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``, with its closing punctuation."""
    left = max(text.rfind(ch, 0, start) for ch in ".!?\n") + 1
    stops = [i for i in (text.find(ch, end) for ch in ".!?\n") if i >= 0]
    right = min(stops) + 1 if stops else len(text)
    return text[left:right]


def _states_taste(before: str, sentence: str) -> bool:
    """"I love horror movies" / "I like Tom Hanks movies" say who the user is, not what the next
    film must be: a preference. A request in the same sentence ("..., any suggestions?") makes
    the mention a requirement again."""
    return bool(P.TASTE_BEFORE.search(before)) and not P.ASKS_FOR.search(sentence)


# A fuzzy one-word title match in a neutral clause ("a rainy Sunday") is more often an ordinary
# word than a film; it needs this much linker confidence unless the film is under discussion.
MIN_NEUTRAL_TITLE_SCORE = 0.75


def _overlaps(start: int, end: int, spans: list[_Span]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


class RuleUnderstander:
    """Reads a message with the entity linker and word patterns.

    Args:
        catalog: the catalog (for years of shown items and the newest year).
        linker: a ``kg.linker.EntityLinker`` (``link(text)`` → mentions with start/end/node/kind).
    """

    def __init__(self, catalog: Catalog, linker):
        self.catalog = catalog
        self.linker = linker
        years = [it.year for it in catalog if it.year]
        self.newest_year = max(years) if years else 2020

    # ------------------------------------------------------------------ public
    def read(self, text: str, state: SessionState) -> DialogueAct:
        act = DialogueAct(source="rules")
        lowered = text.lower()
        # Items under discussion need less evidence to be recognised ("I've seen Up" after Up
        # was shown) and win ambiguities.
        context = [*state.mentioned_items[-30:], *(s.item_id for s in state.last_shown)]
        mentions = self._link(text, context)
        # Words that are parts of linked entities must not also trigger patterns (the film "Up").
        entity_spans = [_Span(m.start, m.end) for m in mentions]

        # Decades are read by the time patterns even where the linker also found them.
        self._read_time(text, [_Span(m.start, m.end) for m in mentions if m.kind != DECADE],
                        act.constraints)
        self._read_unsupported(text, entity_spans, act.constraints)
        self._read_refinements(text, entity_spans, act, state, mentions)
        self._read_mentions(text, mentions, act, state, context)
        self._read_references(text, entity_spans, act, state)
        self._read_unknown_titles(text, mentions, act)
        act.intent = self._intent(text, lowered, act, state, mentions)
        if act.intent in ("ask_about", "rate"):
            # "who is in The Matrix?" names the film to ask about, not one the user loved.
            act.liked_items = []
        item_spans = [_Span(m.start, m.end) for m in mentions if m.kind == ITEM]
        act.query_text = self._narrative(text, item_spans, act)
        return act

    # ------------------------------------------------------------------ linking
    def _link(self, text: str, context: list[str] = ()) -> list:
        try:
            return list(self.linker.link(text, context=context))
        except Exception:  # noqa: BLE001 - a linker bug must not break the turn
            logger.exception("entity linking failed")
            return []

    # ------------------------------------------------------------------ time
    def _read_time(self, text: str, taken: list[_Span], c: Constraints) -> None:
        def free(m: re.Match) -> bool:
            return not _overlaps(m.start(), m.end(), taken)

        for m in P.YEAR_BETWEEN.finditer(text):
            if free(m):
                a, b = [int(g) for g in m.groups() if g]
                c.year_min, c.year_max = min(a, b), max(a, b)
                return
        decades = []
        for m in P.DECADE.finditer(text):
            if not free(m):
                continue
            if m.group(4):
                decades.append(P.DECADE_WORDS[m.group(4).lower()])
            elif m.group(1):
                decades.append(int(m.group(1) + m.group(2) + "0"))
            elif m.group(3):
                digit = int(m.group(3))
                decades.append(2000 + digit * 10 if digit <= 2 else 1900 + digit * 10)
        if decades:
            c.year_min, c.year_max = min(decades), max(decades) + 9
            return
        before = [m for m in P.YEAR_BEFORE.finditer(text) if free(m)]
        after = [m for m in P.YEAR_AFTER.finditer(text) if free(m)]
        if before or after:
            if before:
                c.year_max = int(before[-1].group(1)) - 1
            if after:
                year = int(after[-1].group(1) or after[-1].group(2))
                inclusive = after[-1].group(1) is not None or "since" in after[-1].group(0).lower()
                c.year_min = year if inclusive else year + 1
            return
        for m in P.YEAR_EXACT.finditer(text):
            if free(m):
                c.year_min = c.year_max = int(m.group(1))
                return
        if P.RECENT.search(text):
            c.year_min = self.newest_year - 5
        elif P.CLASSIC.search(text):
            c.year_max = 1979

    def _read_unsupported(self, text: str, taken: list[_Span], c: Constraints) -> None:
        for label, pattern in P.UNSUPPORTED:
            if any(not _overlaps(m.start(), m.end(), taken) for m in pattern.finditer(text)):
                c.unsupported.append(label)

    # ------------------------------------------------------------------ refinements
    def _read_refinements(self, text: str, taken: list[_Span], act: DialogueAct,
                          state: SessionState, mentions: list = ()) -> None:
        for label, pattern in P.REFINEMENTS:
            if any(not _overlaps(m.start(), m.end(), taken) for m in pattern.finditer(text)):
                act.refinements.append(label)
        if "lighter" in act.refinements and "darker" in act.refinements:
            act.refinements.remove("darker")
        shown_years = [self.catalog[s.item_id].year for s in state.last_shown
                       if s.item_id in self.catalog and self.catalog[s.item_id].year]
        c = act.constraints
        if any(m.kind == DECADE for m in mentions):
            return  # an explicit decade ("an older one, from the 80s") is the time frame
        # "older"/"newer" than what was shown replace the time frame with a new hard bound.
        if "older" in act.refinements and c.year_max is None:
            c.year_max = (min(shown_years) - 1) if shown_years else 1989
            c.year_min = None
        if "newer" in act.refinements and c.year_min is None:
            c.year_min = (max(shown_years) + 1) if shown_years else self.newest_year - 10
            c.year_max = None

    # ------------------------------------------------------------------ mentions
    def _polarity(self, text: str, start: int, end: int) -> str:
        before = _clause_before(text, start)
        after = _clause_after(text, end)
        if P.NEGATIVE_BEFORE.search(before) or P.NEGATIVE_AFTER.search(after):
            return "negative"
        if P.UNSEEN_BEFORE.search(before):
            return "unseen"
        if P.SEEN_BEFORE.search(before) or P.SEEN_AFTER.search(after):
            return "seen_positive" if (P.POSITIVE_AFTER.search(after) or re.search(
                r"\b(?:lov|lik|enjoy)", before, re.IGNORECASE)) else "seen"
        if P.POSITIVE_BEFORE.search(before) or P.POSITIVE_AFTER.search(after):
            return "positive"
        return "neutral"

    def _read_mentions(self, text: str, mentions: list, act: DialogueAct, state: SessionState,
                       context: list[str] = ()) -> None:
        c = act.constraints
        positive_genres: list[tuple[int, int, str]] = []
        new_people: list[str] = []
        for m in mentions:
            polarity = self._polarity(text, m.start, m.end)
            value = node_value(m.node)
            if m.kind == ITEM and polarity == "neutral" and m.score < MIN_NEUTRAL_TITLE_SCORE \
                    and value not in context and self._partial_title(m.text, value):
                continue
            if m.kind == ITEM:
                if m.alternatives:
                    act.ambiguous[m.text] = [node_value(a) for a in [m.node, *m.alternatives]]
                if polarity == "negative":
                    act.disliked_items.append(value)
                elif polarity in ("seen", "seen_positive"):
                    act.seen_items.append(value)
                    if polarity == "seen_positive":
                        act.liked_items.append(value)
                elif polarity == "unseen":
                    pass  # "I haven't seen X": neither liked nor excluded
                else:
                    # Named in a request ("something like X") or praised: a reference to go from.
                    act.liked_items.append(value)
                if act.target_item is None:
                    act.target_item = value
            elif m.kind == GENRE:
                if polarity == "negative":
                    c.genres_none.append(self._genre_label(m.node))
                else:
                    sentence = _sentence_around(text, m.start, m.end)
                    if _states_taste(_clause_before(text, m.start), sentence):
                        act.liked_attributes.append(m.node)  # a strong preference, not a filter
                    else:
                        positive_genres.append((m.start, m.end, self._genre_label(m.node)))
            elif m.kind == PERSON:
                name = self._label(m.node)
                before = _clause_before(text, m.start, 40)
                after = _clause_after(text, m.end, 30)
                sentence = _sentence_around(text, m.start, m.end)
                if polarity == "negative":
                    c.people_none.append(name)
                    act.disliked_attributes.append(m.node)
                elif _states_taste(before, sentence) or (P.PASSING_MENTION.search(sentence)
                                                         and not P.ASKS_FOR.search(sentence)):
                    # A taste ("I like Tom Hanks movies") or a name in passing: a soft signal,
                    # not a requirement.
                    act.liked_attributes.append(m.node)
                elif P.PERSON_REQUIRED_BEFORE.search(before) or P.PERSON_REQUIRED_AFTER.search(after) \
                        or polarity == "neutral":
                    new_people.append(name)
                    act.liked_attributes.append(m.node)
                else:
                    act.liked_attributes.append(m.node)
            elif m.kind == KEYWORD:
                (act.disliked_attributes if polarity == "negative" else act.liked_attributes).append(m.node)
            elif m.kind == DECADE and c.year_min is None and c.year_max is None:
                decade = int(value)
                if polarity == "negative":
                    act.disliked_attributes.append(m.node)
                else:
                    c.year_min, c.year_max = decade, decade + 9
        if positive_genres:
            # Adjacent genres ("action comedy") are all required; a list ("comedy or drama",
            # "horror and thrillers") means any of them will do.
            joined_by_list = any(
                re.search(r"\b(?:or|and|,|/|either)\b|,", text[a_end:b_start], re.IGNORECASE)
                for (_, a_end, _), (b_start, _, _) in zip(positive_genres, positive_genres[1:])
            )
            labels = list(dict.fromkeys(g for _, _, g in positive_genres))
            if joined_by_list and len(labels) > 1:
                c.genres_any = labels  # stored in genres_all only when all are required
                act.liked_attributes.extend(f"{GENRE}:{g}" for g in labels)
            else:
                c.genres_all = labels
        if new_people:
            c.people_any = list(dict.fromkeys(new_people))
        for field in ("liked_items", "disliked_items", "seen_items", "liked_attributes",
                      "disliked_attributes"):
            setattr(act, field, list(dict.fromkeys(getattr(act, field))))
        for field in ("genres_none", "people_none"):
            setattr(c, field, list(dict.fromkeys(getattr(c, field))))

    def _partial_title(self, said: str, item_id: str) -> bool:
        """True when ``said`` is only part of the item's title ("Sunday" for "Bloody Sunday")."""
        item = self.catalog.get(item_id)
        return item is not None and title_key(said) != title_key(item.title)

    def _label(self, node: str) -> str:
        try:
            return self.linker.kg.label(node)
        except Exception:  # noqa: BLE001
            return node_value(node)

    def _genre_label(self, node: str) -> str:
        return self._label(node)

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

    def _read_references(self, text: str, taken: list[_Span], act: DialogueAct,
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
        if ordinal and P.MORE_LIKE.search(text):
            act.liked_items.append(ordinal)
            act.refinements.append("more_like")
        elif ordinal or (named is None and target):
            ref = ordinal or target
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
        spans = [_Span(m.start, m.end) for m in mentions]
        found: list[str] = []
        for pattern in (P.UNKNOWN_TITLE, P.QUOTED):
            for m in pattern.finditer(text):
                start, end = m.span(1)
                candidate = m.group(1).strip(" '\"“”.,!?")
                if not candidate or _overlaps(start, end, spans):
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
                mentions: list) -> str:
        if P.RESET.search(text):
            return "reset"
        if P.RATE.search(text):
            return "rate"
        for question, pattern in P.ITEM_QUESTIONS:
            if pattern.search(text) and "?" in text or pattern.search(text) and question in ("why", "plot"):
                if question == "why" and not (state.last_shown or act.target_item):
                    continue
                act.item_question = question
                return "ask_about"
        has_constraint = not act.constraints.is_empty()
        has_content = bool(has_constraint or act.liked_items or act.liked_attributes
                           or act.disliked_attributes or act.refinements)
        request = bool(P.REQUEST.search(text))
        words = _WORD.findall(lowered)
        if P.GREETING.match(text) and not has_content and not request:
            return "greeting"
        if P.DECLINE.match(text) and not has_content and not state.last_shown:
            act.declined = True
            return "chitchat"
        if P.THANKS.search(text) and not has_content and not request:
            return "thanks"
        if act.refinements and state.request_active:
            return "refine"
        if has_content or (request and len(words) >= 1 and self._requesty(lowered)):
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
            r"\b(?:recommend|suggest|looking for|in the mood|something|anything|any (?:good )?(?:movies?|films?)|"
            r"what (?:should|can) i watch|movie|film|flick|watch|show me|give me|find me|ideas|more|another|"
            r"options|similar)\b", lowered))

    # ------------------------------------------------------------------ narrative
    def _narrative(self, text: str, taken: list[_Span], act: DialogueAct) -> str:
        """Free-text needs ("for a rainy Sunday with my kids") for vector retrieval: the message's
        content words outside linked titles, if there are enough of them to mean something."""
        if act.intent not in ("recommend", "refine"):
            return ""
        kept = []
        last = 0
        for span in sorted(taken, key=lambda s: s.start):
            kept.append(text[last:span.start])
            last = max(last, span.end)
        kept.append(text[last:])
        residue = " ".join(kept)
        content = [w for w in _WORD.findall(residue.lower()) if w not in P.STOPWORDS and len(w) > 2
                   and not w.isdigit()]
        return " ".join(content) if len(content) >= 2 else ""
