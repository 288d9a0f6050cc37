"""What each linked mention of a message means: a film liked, disliked, seen or referred to; a
genre, person or keyword asked for (a hard constraint, with where it came from and how sure the
reading is), excluded, liked as a taste (a soft preference) or only described.

How sure: an explicit request ("looking for a comedy", "movies with Tom Hanks", "no horror") is
certain (0.9); a taste said with a request ("I love horror, any suggestions?") less so (0.6); a
taste alone ("I love horror"), a person named while describing a film ("The Interview with Seth
Rogen was hilarious", "Jack Nicholson is in it") and attributes in questions about a film ("is it
a comedy?") or about the recommender ("do you like comedies?") are no constraint at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatrec.agent import patterns as P
from chatrec.agent.models import DialogueAct
from chatrec.agent.roles import ROLE_FIELDS, RoleReader
from chatrec.agent.scope import (
    SentenceKind,
    Span,
    attached_to_item,
    clause_after,
    clause_before,
    describes_film,
    negation_before,
    negation_strength,
    negation_unclear,
    read_sentence,
    sentence_bounds,
)
from chatrec.agent.time_reading import describes_films
from chatrec.catalog.constraints import ConstraintOrigin, Constraints, Source
from chatrec.catalog.genres import GENRE_ALTERNATIVES, GENRES, canonical_genre
from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key, title_key
from kg.models import DECADE, GENRE, ITEM, KEYWORD, PERSON, node_value

# A fuzzy one-word title match in a neutral clause ("a rainy Sunday") is more often an ordinary
# word than a film; it needs this much linker confidence unless the film is under discussion.
MIN_NEUTRAL_TITLE_SCORE = 0.75
REQUEST, TASTE_REQUEST, EXCLUSION, SOFT_EXCLUSION = 0.9, 0.6, 0.9, 0.7
SHORT_MESSAGE_WORDS = 10
# Negating one of these excludes the whole family ("no gore" rules out films tagged "gory" too).
KEYWORD_FAMILIES = [
    ("gore", "gory", "splatter", "bloody", "blood"),
    ("violence", "violent", "brutality", "brutal"),
    ("sex", "sexual", "sexy", "erotic", "nudity"),
    ("zombies", "zombie"),
    ("vampires", "vampire"),
    ("aliens", "alien"),
    ("war", "world war ii", "wwii", "wartime"),
    ("christmas", "holiday"),
    ("drugs", "drug addiction", "drugs & music"),
]
_STATEMENT = re.compile(r"^\W*(?:i(?!'?d\b)|i'?m|i'?ve|we|it|it'?s|that|that'?s|this|these|those|some|he|she|"
                        r"they|my|oh|ah|yeah|yes|wow|ooh|haha|lol|well)\b|"
                        r"\b(?:i|we) (?:\w+ )?(?:saw|watched|liked|loved|enjoyed|hated|thought|think)\b",
                        re.IGNORECASE)
# "horror is boring", "comedies are stupid": a dislike said after the genre, with its verb.
_GENRE_DISLIKED_AFTER = re.compile(r"^\s*(?:movies?|films?)?\s*(?:is|are|was|were)\s+"
                                   r"(?:so |really |pretty |too |just )?"
                                   r"(?:bad|boring|terrible|awful|horrible|overrated|lame|dull|stupid|not for me)\b",
                                   re.IGNORECASE)
# A sentence saying what something is or was ("Johnny Depp is such a great actor", "With Bruce
# Willis, that one is pretty good"): a statement, whatever its length.
_SAYS_WHAT_IS = re.compile(r"\b(?!(?:what|which|who|where|how|there|here)\b)[\w-]+(?:'s|'re|\s+(?:is|are|was|were))\b",
                           re.IGNORECASE)
# "a good comedy is nice too", "comedies are great": a taste stated (present tense), not a wish
# ("a comedy would be nice" asks).
_GENRE_LIKED_AFTER = re.compile(r"^\s*(?:movies?|films?)?\s*(?:is|are)\s+(?:\w+\s+)?"
                                r"(?:nice|good|great|fine|ok|okay|cool|awesome|fun|enjoyable|my favou?rites?)\b",
                                re.IGNORECASE)
# What may come before a negation that opens its clause ("oh, and no horror please").
_CLAUSE_OPENING = re.compile(r"[\s,]*(?:(?:and|but|also|just|please|oh|ok(?:ay)?|so|and also|but)\b[\s,]*)*",
                             re.IGNORECASE)
_ITEM_DISLIKE = re.compile(
    r"\b(?:hate[ds]?|dislike[ds]?|didn'?t (?:like|enjoy|love|care for|get)|did not (?:like|enjoy|love)|"
    r"don'?t (?:like|want|enjoy|love|care for)|can'?t stand|cannot stand|not (?:a )?(?:big |huge )?fan of|"
    r"not really into|never liked|tired of|sick of|wasn'?t (?:a fan of|into))\b[^.;!?]*$", re.IGNORECASE)


@dataclass
class _Context:
    text: str
    words: int
    spans: list[Span]
    item_spans: list[Span]
    items: list[str]              # item ids mentioned, text order
    context_items: Sequence[str]  # items under discussion before this message


class MentionReader:
    """Reads the polarity and weight of each mention.

    Args:
        catalog: items (for titles, and whose credits a named film has).
        kg: the knowledge graph (labels, the role a person is known for).
    """

    def __init__(self, catalog: Catalog, kg):
        self.catalog = catalog
        self.kg = kg
        self.roles = RoleReader(kg)
        self._sentences: dict[tuple[int, int], SentenceKind] = {}

    def read(self, text: str, mentions: Sequence, act: DialogueAct, context_items: Sequence[str]) -> None:
        """Fold the meaning of every mention into ``act``."""
        self._sentences = {}
        self.narrow_exclusions: list[tuple[str, str]] = []   # (genre, the narrower word said)
        ctx = _Context(text, len(re.findall(r"\w+", text)), [Span(m.start, m.end) for m in mentions],
                       [Span(m.start, m.end) for m in mentions if m.kind == ITEM],
                       [node_value(m.node) for m in mentions if m.kind == ITEM], context_items)
        positive_genres: list[tuple[int, int, str, float, str]] = []
        people: dict[str, list[tuple[str, float, str, str]]] = {}
        for m in mentions:
            if m.kind == ITEM:
                self._item(ctx, m, act)
            elif m.kind == GENRE:
                self._genre(ctx, m, act, positive_genres)
            elif m.kind == PERSON:
                self._person(ctx, m, act, people)
            elif m.kind == KEYWORD:
                self._keyword(ctx, m, act)
            elif m.kind == DECADE and act.constraints.year_min is None and act.constraints.year_max is None \
                    and not act.constraints.decades_none and not negation_before(text, m.start, ctx.spans):
                self._decade(ctx, m, act)
        # "I'm looking for a romantic comedy. Maybe something with Sandra Bullock": a hedged wish
        # beside a firmer one is a leaning; "doesn't really matter" always is.
        firm = any(h == "" for *_, h in positive_genres) or any(h == "" for e in people.values() for *_, h in e) \
            or act.constraints.year_min is not None or act.constraints.year_max is not None
        def leaning(hedge: str) -> bool:
            return hedge == "strong" or (hedge == "weak" and firm)
        for *_, label, _, hedge in positive_genres:
            if leaning(hedge):
                act.liked_attributes.append(f"{GENRE}:{label_key(label)}")
        self._genres(text, [g for g in positive_genres if not leaning(g[4])], act)
        for field, entries in people.items():
            kept = [e for e in entries if not leaning(e[3])]
            if not kept:
                continue
            setattr(act.constraints, field, list(dict.fromkeys(name for name, *_ in kept)))
            certainty = min(c for _, c, _, _ in kept)
            _origin(act, field, certainty, " or ".join(dict.fromkeys(s for _, _, s, _ in kept)))
        for name in ("liked_items", "disliked_items", "seen_items", "liked_attributes", "disliked_attributes"):
            setattr(act, name, list(dict.fromkeys(getattr(act, name))))
        c = act.constraints
        for name in ("genres_none", "people_none", "keywords_none"):
            setattr(c, name, list(dict.fromkeys(getattr(c, name))))

    # ------------------------------------------------------------------ sentences
    def _kind(self, text: str, start: int, end: int) -> SentenceKind:
        bounds = sentence_bounds(text, start, end)
        kind = self._sentences.get(bounds)
        if kind is None:
            kind = self._sentences[bounds] = read_sentence(text[bounds[0]:bounds[1]])
        return kind

    def _request_context(self, ctx: _Context, kind: SentenceKind) -> bool:
        """A request in this sentence, or a short message that is one by itself ("Horror!",
        "a 90s comedy", "action but not sci-fi") — not a short statement ("I really liked Big
        with Tom Hanks", "Johnny Depp is such a great actor")."""
        return kind.request or (ctx.words <= SHORT_MESSAGE_WORDS and not _STATEMENT.search(ctx.text)
                                and not _SAYS_WHAT_IS.search(kind.text))

    def _asks(self, ctx: _Context, kind: SentenceKind, negation: re.Match | None = None) -> bool:
        """Whether a negation is part of a request (an exclusion: "no horror please", "I hate
        horror. Any suggestions?", "no horror, I loved Toy Story") rather than a statement (a
        dislike: "I have no kids", "I've seen it, but not with the family")."""
        if negation is not None and _CLAUSE_OPENING.fullmatch(clause_before(ctx.text, negation.start())):
            return True   # the clause starts with it: "no horror", "nothing with Adam Sandler"
        return self._request_context(ctx, kind) or bool(P.ASKS_FOR.search(ctx.text))

    # ------------------------------------------------------------------ films
    def _item(self, ctx: _Context, m, act: DialogueAct) -> None:
        value = node_value(m.node)
        polarity, rating = self._item_polarity(ctx, m)
        if m.kind == ITEM and polarity == "neutral" and m.score < MIN_NEUTRAL_TITLE_SCORE \
                and value not in ctx.context_items and self._partial_title(m.text, value):
            return
        if m.alternatives:
            act.ambiguous[m.text] = [node_value(a) for a in [m.node, *m.alternatives]]
        if polarity == "negative":
            act.disliked_items.append(value)
        elif polarity in ("seen", "seen_positive"):
            act.seen_items.append(value)
            if polarity == "seen_positive":
                act.liked_items.append(value)
        elif polarity != "unseen":
            # Named in a request ("something like X") or praised: a reference to go from.
            act.liked_items.append(value)
        if rating is not None and polarity != "unseen":
            act.stated_ratings[value] = rating
        if act.target_item is None:
            act.target_item = value

    def _item_polarity(self, ctx: _Context, m) -> tuple[str, float | None]:
        text = ctx.text
        before = clause_before(text, m.start)
        after = clause_after(text, m.end)
        rating = _stated_rating(before, after)
        if P.UNSEEN_BEFORE.search(before):
            return "unseen", None
        if negation_before(text, m.start, ctx.spans) or _ITEM_DISLIKE.search(before) \
                or P.NEGATIVE_AFTER.search(after):
            return "negative", rating if rating is not None and rating <= 2 else 2.0
        if P.SEEN_BEFORE.search(before) or P.SEEN_AFTER.search(after):
            liked = P.POSITIVE_AFTER.search(after) or re.search(r"\b(?:lov|lik|enjoy)", before, re.IGNORECASE)
            return ("seen_positive", rating or 4.0) if liked else ("seen", rating if rating and rating <= 3 else None)
        if P.POSITIVE_BEFORE.search(before) or P.POSITIVE_AFTER.search(after):
            stated = rating if rating is not None and _states_opinion(before, after) else None
            return "positive", stated
        return "neutral", None

    def _partial_title(self, said: str, item_id: str) -> bool:
        """True when ``said`` is only part of the item's title ("Sunday" for "Bloody Sunday")."""
        item = self.catalog.get(item_id)
        return item is not None and title_key(said) != title_key(item.title)

    # ------------------------------------------------------------------ genres
    def _genre(self, ctx: _Context, m, act: DialogueAct, positive: list) -> None:
        text = ctx.text
        kind = self._kind(text, m.start, m.end)
        if kind.about_film or kind.asks_taste or self._describes(ctx, m) \
                or (text[m.start:m.end].lower().rstrip("s") in ("kid", "child", "teen", "teenager", "children")
                    and P.CHILDHOOD_BEFORE.search(text[max(0, m.start - 30):m.start])):
            return
        label = self._label(m.node)
        negation = negation_before(text, m.start, ctx.spans)
        after = clause_after(text, m.end)
        if negation is not None or _GENRE_DISLIKED_AFTER.search(after) or P.NEGATED_AFTER.search(after):
            act.disliked_attributes.append(m.node)
            if self._asks(ctx, kind, negation):   # an exclusion in a request; in a statement a dislike
                act.constraints.genres_none.append(label)
                _origin(act, f"genres_none:{label_key(label)}", EXCLUSION, f"no {label}")
                said = text[m.start:m.end]
                if label_key(said).rstrip("s") != label_key(label).rstrip("s"):
                    self.narrow_exclusions.append((label, said))
            return
        if negation_unclear(text, m.start, ctx.spans):
            return   # "we don't want anythng rated R or horror": unclear either way
        taste = bool(P.TASTE_BEFORE.search(clause_before(text, m.start)) or _GENRE_LIKED_AFTER.search(after))
        request = self._request_context(ctx, kind)
        if kind.open or (taste and not kind.request) or not request:
            act.liked_attributes.append(m.node)   # a leaning, not a filter
            return
        positive.append((m.start, m.end, label, TASTE_REQUEST if taste else REQUEST, _hedge(kind)))

    def _genres(self, text: str, positive: list, act: DialogueAct) -> None:
        """Adjacent genres ("action comedy") are all required; a list ("comedy or drama",
        "horror and thrillers") means any of them will do."""
        if not positive:
            return
        c = act.constraints
        joined_by_list = any(re.search(r"\b(?:or|and|either)\b|,|/", text[a_end:b_start], re.IGNORECASE)
                             for (_, a_end, *_), (b_start, *_) in zip(positive, positive[1:], strict=False))
        labels = list(dict.fromkeys(g for _, _, g, _, _ in positive))
        certainty = min(c_ for _, _, _, c_, _ in positive)
        alternatives = GENRE_ALTERNATIVES.get(label_key(labels[0]), ()) if len(labels) == 1 else ()
        if alternatives:
            # "musicals": IMDb files some musicals under "music" only (La La Land)
            c.genres_any = [labels[0], *alternatives]
            _origin(act, "genres_any", certainty, labels[0])
        elif joined_by_list and len(labels) > 1:
            c.genres_any = labels
            act.liked_attributes.extend(f"{GENRE}:{label_key(g)}" for g in labels)
            _origin(act, "genres_any", certainty, " or ".join(labels))
        else:
            c.genres_all = labels
            for g in labels:
                _origin(act, f"genres_all:{label_key(g)}", certainty, g)

    def negated_genre_words(self, text: str, spans: Sequence[Span], act: DialogueAct) -> None:
        """Genre words after a negation that the linker left alone because they are everyday
        words out of context ("a drama that isn't about war", "nothing romantic")."""
        asks = bool(P.ASKS_FOR.search(text)) or (len(re.findall(r"\w+", text)) <= SHORT_MESSAGE_WORDS
                                                 and not _STATEMENT.search(text))
        for negation in P.NEGATOR.finditer(text):
            strength = negation_strength(negation)
            kind = self._kind(text, negation.start(), negation.end())
            if strength == "soft" or kind.about_film or kind.asks_taste or not asks:
                continue   # "I have no kids", "I've seen that but not with the family": no request
            for word in re.finditer(r"[a-z'-]+|,", text[negation.end():negation.end() + 40].lower()):
                start = negation.end() + word.start()
                if any(s.start <= start < s.end for s in spans):
                    break   # a linked mention: read with the others
                token = word.group(0)
                genre = _genre_word(token)
                if genre is not None:
                    if genre not in act.constraints.genres_none:
                        act.constraints.genres_none.append(genre)
                        act.disliked_attributes.append(f"{GENRE}:{label_key(genre)}")
                        _origin(act, f"genres_none:{label_key(genre)}", EXCLUSION, f"no {token}")
                    continue
                if token not in P.NEGATION_FILLER:
                    break

    def _decade(self, ctx: _Context, m, act: DialogueAct) -> None:
        """A decade the time reader left alone: asked for in a request, a leaning in a taste ("I
        like 80's comedies like Ghostbusters") or a description."""
        kind = self._kind(ctx.text, m.start, m.end)
        taste = bool(P.TASTE_BEFORE.search(clause_before(ctx.text, m.start)))
        if kind.about_film or kind.asks_taste or kind.open or (taste and not kind.request) \
                or not self._request_context(ctx, kind) or describes_films(ctx.text, m.start, m.end):
            act.liked_attributes.append(m.node)
            return
        decade = int(node_value(m.node))
        act.constraints.year_min, act.constraints.year_max = decade, decade + 9
        _origin(act, "year", REQUEST, ctx.text[m.start:m.end])

    # ------------------------------------------------------------------ people
    def _person(self, ctx: _Context, m, act: DialogueAct, people: dict) -> None:
        text = ctx.text
        kind = self._kind(text, m.start, m.end)
        name = self._label(m.node)
        if kind.about_film or kind.asks_taste:
            if kind.about_film:
                act.liked_attributes.append(m.node)   # "that was a Vin Diesel movie, right?"
            return
        negation = negation_before(text, m.start, ctx.spans)
        if negation is not None and negation_strength(negation) != "soft" and self._asks(ctx, kind, negation):
            act.constraints.people_none.append(name)
            act.disliked_attributes.append(m.node)
            _origin(act, f"people_none:{label_key(name)}", EXCLUSION, f"without {name}")
            return
        if negation is not None or P.NEGATED_AFTER.search(clause_after(text, m.end)):
            act.disliked_attributes.append(m.node)
            return
        if negation_unclear(text, m.start, ctx.spans):
            return
        one_word = m.source == "surname" or " " not in text[m.start:m.end].strip()
        if self._describes(ctx, m) or (one_word and not text[m.start:m.start + 1].isupper()):
            if not P.NEGATIVE_AFTER.search(clause_after(text, m.end)):
                act.liked_attributes.append(m.node)   # about the film they name, not a filter
            return
        taste = bool(P.TASTE_BEFORE.search(clause_before(text, m.start, 40)))
        act.liked_attributes.append(m.node)
        if kind.open or (taste and not kind.request) or not self._request_context(ctx, kind):
            return   # "I really liked Big with Tom Hanks": a taste, not a filter
        role = self.roles.role(text, m.start, m.end, m.node)
        field = ROLE_FIELDS[role]
        said = {"director": "directed by ", "cast": "with ", "writer": "written by "}.get(role, "with ") + name
        people.setdefault(field, []).append((name, TASTE_REQUEST if taste else REQUEST, said, _hedge(kind)))

    def _describes(self, ctx: _Context, m) -> bool:
        """The mention describes a film rather than asks for one: "Y is in it", "the one with Y",
        "The Interview with Seth Rogen", "that was a Vin Diesel movie, right?"."""
        text = ctx.text
        if describes_film(text, m.start, m.end):
            return True
        if P.PASSING_MENTION.search(text[sentence_bounds(text, m.start, m.end)[0]:m.start]):
            return True
        if m.kind == PERSON and any(0 <= span.start - m.end <= 5 and re.fullmatch(r"\s+in\s+", text[m.end:span.start])
                                    for span in ctx.item_spans):
            return True   # "Adam Sandler in Blended": who is in that film
        if m.kind == PERSON and attached_to_item(text, m.start, ctx.item_spans):
            # "Edge of Darkness with Mel Gibson": about that film when it credits them.
            return any(m.node in set(self.kg.entities_of(i)) for i in ctx.items) if self.kg is not None else True
        return False

    # ------------------------------------------------------------------ keywords
    def _keyword(self, ctx: _Context, m, act: DialogueAct) -> None:
        text = ctx.text
        kind = self._kind(text, m.start, m.end)
        if kind.about_film or kind.asks_taste:
            return
        negation = negation_before(text, m.start, ctx.spans)
        if negation is None:
            if not self._describes(ctx, m) and not negation_unclear(text, m.start, ctx.spans):
                act.liked_attributes.append(m.node)
            return
        act.disliked_attributes.append(m.node)
        if negation_strength(negation) == "soft" or not self._asks(ctx, kind, negation):
            return
        label = self._label(m.node)
        certainty = EXCLUSION if self._request_context(ctx, kind) else SOFT_EXCLUSION
        genre = canonical_genre(label)
        if genre in GENRES:   # "nothing about war" rules out war films, not only films tagged so
            act.constraints.genres_none.append(genre)
            _origin(act, f"genres_none:{label_key(genre)}", certainty, f"no {label}")
        family = next((f for f in KEYWORD_FAMILIES if label_key(label) in f), (label_key(label),))
        known = [k for k in family if self.kg is None or f"{KEYWORD}:{k}" in self.kg]
        for keyword in known or [label]:
            act.constraints.keywords_none.append(keyword)
            _origin(act, f"keywords_none:{label_key(keyword)}", certainty, label)

    def _label(self, node: str) -> str:
        try:
            return self.kg.label(node)
        except Exception:  # noqa: BLE001
            return node_value(node)


def _hedge(kind: SentenceKind) -> str:
    if P.STRONG_HEDGE.search(kind.text):
        return "strong"
    # "the last 3 years or so" rounds a number; it does not hedge the wish
    return "weak" if P.WEAK_HEDGE.search(P.APPROXIMATE.sub("", kind.text)) else ""


def _origin(act: DialogueAct, unit: str, certainty: float, said: str, source: Source = "request") -> None:
    act.constraints.origins[unit] = ConstraintOrigin(source=source, certainty=certainty, said=said)


def _stated_rating(before: str, after: str) -> float | None:
    """The rating words next to a film say: "loved" 5, "liked" 4, "ok" 3, "boring" 2, "hated" 1."""
    near = before[-40:] + " | " + after[:40]
    for value, pattern in P.RATING_WORDS:
        if pattern.search(near):
            return value
    return None


def _states_opinion(before: str, after: str) -> bool:
    """"I loved X" / "X was great" state an opinion; "something like X" only refers to X."""
    return bool(re.search(r"\b(?:i|we)\b[^.;!?]*$", before, re.IGNORECASE)) or bool(P.POSITIVE_AFTER.search(after))


def _genre_word(word: str) -> str | None:
    """The canonical genre a plain word names ("war", "westerns", "musicals", "romantic")."""
    for candidate in (word, word.removesuffix("s"), re.sub(r"ies$", "y", word), word.removesuffix("tic") + "ce"):
        genre = canonical_genre(candidate)
        if genre in GENRES:
            return genre
    return None


def narrow_exclusions(act: DialogueAct, excluded: Sequence[tuple[str, str]], asked: Constraints) -> None:
    """"Something scary but not a slasher": a kind of the genre asked for (now or in ``asked``,
    the session's request) is ruled out, not the genre. The genre exclusion a narrower word
    brought becomes the exclusion of that word."""
    c = act.constraints
    wanted = {label_key(g) for g in (*c.genres_all, *c.genres_any, *asked.genres_all, *asked.genres_any)}
    for genre, said in excluded:
        key = label_key(genre)
        if key not in wanted:
            continue
        c.genres_none = [g for g in c.genres_none if label_key(g) != key]
        c.origins.pop(f"genres_none:{key}", None)
        act.disliked_attributes = [n for n in act.disliked_attributes if n != f"{GENRE}:{key}"]
        if label_key(said) not in {label_key(k) for k in c.keywords_none}:
            c.keywords_none.append(said.lower())
            _origin(act, f"keywords_none:{label_key(said)}", EXCLUSION, f"no {said.lower()}")
