"""Moods a request asks for ("I need a good cry", "a movie that will make me think", "something
to cheer me up"): read as leanings towards the knowledge graph's nodes for that feeling, never
as filters. A mood is how people ask for a kind of film without naming a genre or a keyword.

Each mood lists keyword and genre labels in order of preference; only the nodes the catalog's
graph has are used, so one table serves MovieLens's genome tags and catalogs with fewer keywords
(where a mood leans on its genre alone, or reads as nothing rather than as a made-up node).
"""

from __future__ import annotations

import re

from chatrec.agent import patterns as P
from chatrec.agent.models import DialogueAct
from chatrec.agent.scope import Span, clause_before, overlaps
from chatrec.catalog.normalize import label_key
from kg.models import GENRE, KEYWORD

# The user's own state ("I'm sad, cheer me up") is no request for sad films.
_SOFTENED = re.compile(r"\b(?:less|fewer)\s+(?:\w+\s+)?$", re.IGNORECASE)
# "a dog movie that won't make me cry": the mood is what the film must not do.
_WILL_NOT = re.compile(rf"\b(?:{P.NOT_VERBS}|not)\s+(?:\w+\s+){{0,2}}$", re.IGNORECASE)
_OWN_STATE = r"(?<!i'm )(?<!i am )(?<!feel )(?<!feeling )(?<!im )"

#: mood phrase → (keyword labels, genre labels) it leans towards.
MOODS: tuple[tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]], ...] = (
    (re.compile(r"\b(?:good cry|make (?:me|us) (?:cry|weep|sob|tear up)|cry(?:ing)? my eyes out|"
                r"tear[- ]?jerk(?:ers?|ing)|weepies?|heart[- ]?breaking|" + _OWN_STATE + r"sad(?:der)?|"
                r"emotional|(?<!keep )moving(?! on\b| to\b| away\b| house\b)|touching)\b", re.IGNORECASE),
     ("tear jerker", "emotional", "touching", "melancholic", "sad"), ("drama",)),
    (re.compile(r"\b(?:makes? (?:me|you|us|one) think|thought[- ]provoking|philosophical|cerebral|"
                r"intellectual(?:ly stimulating)?|food for thought|make (?:me|you) reflect)\b", re.IGNORECASE),
     ("thought provoking", "philosophical", "cerebral", "life philosophy", "philosophy"), ()),
    (re.compile(r"\b(?:mind[- ]?(?:bending|benders?|twisting|f\w*k\w*)|trippy|brain[- ]?(?:teasers?|twisters?|melting)|"
                r"mess(?:es)? with (?:your|my) (?:head|mind))\b", re.IGNORECASE),
     ("mindfuck", "twist ending", "surreal", "complex", "cerebral"), ()),
    (re.compile(r"\b(?:uplifting|feel[- ]?good|heart[- ]?warming|cheer (?:me|us|you|her|him) up|"
                r"put (?:me|us) in a good mood|inspiring|inspirational|pick[- ]me[- ]up|wholesome|"
                r"make (?:me|us) (?:smile|happy|feel (?:good|better)))\b", re.IGNORECASE),
     ("feel good", "feel good movie", "heartwarming", "inspirational", "inspiring", "happy ending"), ()),
    (re.compile(r"\b(?:crack (?:me|us) up|make (?:me|us) (?:laugh|giggle|chuckle)|(?:want|need|like) to laugh|"
                r"a good laugh|laugh out loud)\b", re.IGNORECASE),
     ("funny", "hilarious", "very funny"), ("comedy",)),
)


class MoodReader:
    """Adds the leanings of the moods a message asks for to a ``DialogueAct``.

    Args:
        kg: the knowledge graph (``node in kg``); without one no mood is read.
    """

    def __init__(self, kg) -> None:
        self.kg = kg

    def read(self, text: str, taken: list[Span], act: DialogueAct) -> list[Span]:
        """Appends each asked mood's nodes to ``act.liked_attributes``; returns the spans read
        (words that are a mood are no free-text need). A negated mood ("nothing sad", "less
        sad") is left to the refinements and exclusions."""
        if self.kg is None:
            return []
        spans: list[Span] = []
        for pattern, keywords, genres in MOODS:
            for m in pattern.finditer(text):
                before = clause_before(text, m.start(), 40)
                if overlaps(m.start(), m.end(), taken) or P.NEGATOR.search(before) or _SOFTENED.search(before) \
                        or _WILL_NOT.search(before):
                    continue
                nodes = [*(f"{KEYWORD}:{label_key(k)}" for k in keywords),
                         *(f"{GENRE}:{label_key(g)}" for g in genres)]
                found = [n for n in nodes if n in self.kg and n not in act.disliked_attributes]
                if found:
                    act.liked_attributes = list(dict.fromkeys([*act.liked_attributes, *found]))
                    spans.append(Span(m.start(), m.end()))
        return spans
