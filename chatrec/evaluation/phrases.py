"""What the scripted simulated user says, in words written after real seekers.

Every template was written after an utterance of a real ReDial seeker (the dev dialogues or the
IARD release in the data directory) and names the dialogue it was heard in (``after``); none was
written from the agent's patterns. A phrasing the agent reads only because someone taught it that
exact phrasing says nothing about real users, so the bank is split **by template** into a
*tuning* half and a *held-out* half (``half_of``: a fixed hash of the wording, alternating within
each kind, so neither half was chosen by hand). ``chatrec eval sim`` runs every simulated user with
each half; a large gap between the halves means the agent is fitted to phrasings.

Templates are chosen by a seeded generator, so a run repeats exactly. Each has an id
(``kind/n``) that travels with the utterance, so a report can say which phrasings the agent
understood and which it did not.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Literal

# Natural nouns for canonical genres ("a sci-fi movie", "a western").
GENRE_NOUN = {
    "action": "action movie",
    "adventure": "adventure movie",
    "animation": "animated movie",
    "biography": "biopic",
    "comedy": "comedy",
    "crime": "crime movie",
    "documentary": "documentary",
    "drama": "drama",
    "family": "family movie",
    "fantasy": "fantasy movie",
    "film-noir": "film noir",
    "history": "historical movie",
    "horror": "horror movie",
    "music": "music movie",
    "musical": "musical",
    "mystery": "mystery",
    "romance": "romance",
    "sci-fi": "sci-fi movie",
    "sport": "sports movie",
    "thriller": "thriller",
    "war": "war movie",
    "western": "western",
}
# Plurals for "I don't really like horror movies".
GENRE_PLURAL = {
    g: (n[:-1] + "ies" if n.endswith("y") and not n.endswith("ey") else n + "s")
    for g, n in GENRE_NOUN.items()
}
GENRE_PLURAL.update(
    {
        "comedy": "comedies",
        "documentary": "documentaries",
        "mystery": "mysteries",
        "biography": "biopics",
        "film-noir": "noir films",
    }
)
# Everyday words for some genres ("something funny"): the linker is expected to know them.
GENRE_WORD = {
    "comedy": "funny",
    "horror": "scary",
    "romance": "romantic",
    "animation": "animated",
    "sci-fi": "science fiction",
}
DECADE_WORDS = {
    1920: "twenties",
    1930: "thirties",
    1940: "forties",
    1950: "fifties",
    1960: "sixties",
    1970: "seventies",
    1980: "eighties",
    1990: "nineties",
}

Half = Literal["tuning", "held-out"]
HALVES: tuple[Half, Half] = ("tuning", "held-out")


@dataclass(frozen=True)
class Template:
    """One phrasing.

    Attributes:
        kind: what it says: open (a greeting before the first request), genre, decade, keyword,
            director, cast (reveal an attribute), reject (turn a list down), newer, older,
            not_genre, want_genre (a reason), accept, nothing (nothing new to add).
        index: its place in the kind's list (the id is ``kind/index``).
        text: the wording, with slots: {noun} {a_noun} {plural} {word} (genres), {short}
            {apos} {tick} {long} {words} (decades), {kw} {Kw} (keywords), {name} (people),
            {title} (the found film).
        after: the real seeker utterance it was written after ("redial:<conversationId>" of
            the dev dialogues, "iard:<conversationId>" of the IARD release).
    """

    kind: str
    index: int
    text: str
    after: str

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.index}"

    def format(self, **slots: str) -> str:
        return self.text.format(**slots)


# kind → [(wording, the dialogue it was written after)]
_WORDINGS: dict[str, list[tuple[str, str]]] = {
    "open": [
        ("Hi! ", "redial:1942"),
        ("Hello, ", "redial:1589"),
        ("Hi, how are you? ", "iard:21954"),
        ("hi there, ", "redial:16571"),
        ("", "redial:13263"),
        ("Hey there! ", "redial:6977"),
        ("Good afternoon! ", "redial:2681"),
        ("", "redial:10645"),
    ],
    "genre": [
        ("I am looking for some good {plural}.", "redial:1942"),
        ("Can you suggest a good {noun}?", "redial:16970"),
        ("I like {plural}.", "iard:13364"),
        ("I'm looking for some {plural} to watch.", "iard:13526"),
        ("can you help me find a good {noun}?", "redial:6168"),
        ("I really like {plural}. Do you have any that you can suggest?", "redial:16933"),
        ("I'm in the mood for a good {noun}.", "iard:7045"),
        ("Do you have any suggestions? maybe {a_noun}?", "redial:19893"),
        ("Can I get a good {noun} rec?", "iard:13965"),
        ("I love {plural}.", "iard:13304"),
        ("Something {word} I think.", "iard:3994"),
        ("I like {word} movies.", "redial:2873"),
        ("I'm interested in {plural}.", "redial:9561"),
        ("recommend any good {plural}?", "redial:3173"),
        ("I would like to watch {a_noun}.", "iard:21954"),
        ("I'm a big {noun} fan.", "redial:15704"),
    ],
    "decade": [
        ("can you suggest a good {apos} movie?", "redial:15679"),
        ("I like {short} movies, any kind.", "iard:13557"),
        ("I could go for something from the {apos}, any genre really.", "redial:13460"),
        ("Anything from the {tick}?", "redial:9758"),
        ("I do love {short} movies though.", "iard:1057"),
        ("I recently got into {apos} movies.", "redial:11156"),
        ("I am looking for some {apos} movies.", "redial:10427"),
        ("Something from the {long}, any ideas?", "redial:6608"),
        ("Some good ole {apos} stuff.", "iard:18692"),
        ("I grew up in the {words}, so something from then.", "redial:12285"),
    ],
    "keyword": [
        ("I like movies about {kw}.", "redial:7257"),
        ("Anything with {kw} in it I love.", "redial:3671"),
        ("I love {kw} movies.", "redial:8436"),
        ("Do you have any {kw} movies?", "iard:474"),
        ("Preferably something with {kw}.", "redial:6645"),
        ("I'm really into {kw} lately.", "redial:11156"),
        ("{Kw} would be great.", "iard:11282"),
        ("I enjoy {kw} kind of films.", "redial:6374"),
    ],
    "director": [
        ("anything else from {name}?", "iard:2630"),
        ("I love {name}'s movies.", "redial:11243"),
        ("I'm a big fan of {name}.", "iard:1205"),
        ("Something directed by {name} maybe?", "iard:3897"),
        ("I like movies by {name}.", "redial:19739"),
        ("Any {name} movies you'd recommend?", "redial:14694"),
    ],
    "cast": [
        ("I usually enjoy movies with {name}.", "iard:957"),
        ("I love {name}.", "iard:1495"),
        ("Can you recommend me movies with {name} in it?", "redial:16858"),
        ("Anything with {name} in it!", "redial:17354"),
        ("I do like {name} a lot.", "iard:950"),
        ("Im looking for a movie with {name} in it.", "redial:6740"),
    ],
    "reject": [
        ("Not really too keen on those.", "redial:10001"),
        ("no not really", "iard:9353"),
        ("Hmm. Not interested in those.", "iard:21398"),
        ("I'm going to pass on those.", "iard:12596"),
        ("They are not really my type of movies.", "iard:7698"),
        ("Those don't sound very interesting tbh.", "redial:10102"),
        ("Not my cup of tea.", "redial:11709"),
        ("I'm not interested in those, sorry.", "iard:9343"),
    ],
    "newer": [
        ("Something a bit more recent?", "redial:10001"),
        ("anything more recent?", "redial:14313"),
        ("Do you know any newer films?", "redial:3519"),
        ("Those are older films, anything newer?", "redial:14694"),
        ("Perhaps more recent.", "redial:15982"),
        ("Anything else that's recent?", "redial:11392"),
    ],
    "older": [
        ("I like older movies.", "redial:7455"),
        ("I love the older movies the most.", "redial:7459"),
        ("I do like some older films.", "iard:9238"),
        ("Those are too new, I love older ones.", "redial:15303"),
    ],
    "not_genre": [
        ("I don't really like {plural}.", "iard:474"),
        ("Not a fan of {plural}.", "iard:22739"),
        ("I don't really enjoy {plural}.", "iard:22730"),
        ("We don't want anything {word}.", "iard:16252"),
        ("I'm not into {plural}.", "iard:11269"),
        ("not a big fan of {plural}", "iard:10597"),
    ],
    "want_genre": [
        ("I much prefer {plural}.", "iard:22730"),
        ("what about {plural}?", "iard:474"),
        ("I'm really looking for {a_noun}.", "redial:6569"),
        ("I was hoping for more of {a_noun}.", "iard:15051"),
    ],
    "accept": [
        ("I think I will check out {title} thanks for the help", "redial:16889"),
        ("{title} sounds good. I'll check it out!", "redial:10708"),
        ("I have not seen {title}! I think I will watch that.", "redial:19612"),
        ("Oh {title}, I will deff check it out!", "redial:11069"),
    ],
    "nothing": [
        ("any genre really", "redial:13460"),
        ("I like pretty much everything.", "redial:14356"),
        ("Mostly everything.", "redial:16983"),
        ("Whatever you would suggest.", "redial:14356"),
    ],
}

BANK: dict[str, list[Template]] = {
    kind: [Template(kind, n, text, after) for n, (text, after) in enumerate(rows)]
    for kind, rows in _WORDINGS.items()
}
BY_ID: dict[str, Template] = {t.id: t for rows in BANK.values() for t in rows}


def _halves() -> dict[str, Half]:
    """Within each kind, templates ordered by a hash of their wording alternate between the
    halves, so every kind has phrasings in both and nobody picked which went where."""
    out: dict[str, Half] = {}
    for rows in BANK.values():
        ordered = sorted(rows, key=lambda t: (zlib.crc32(f"phrase-half:{t.text}".encode()), t.index))
        for position, template in enumerate(ordered):
            out[template.id] = HALVES[position % 2]
    return out


_HALF = _halves()


def half_of(template_id: str) -> Half:
    """"tuning" or "held-out": the half a template belongs to."""
    return _HALF[template_id]


class Phrases:
    """The templates one simulated user may use: one half of the bank, or all of it.

    Args:
        half: "tuning", "held-out", or None for the whole bank.
    """

    def __init__(self, half: str | None = None):
        if half is not None and half not in HALVES:
            raise ValueError(f"half must be one of {HALVES}, not {half!r}")
        self.half = half

    def options(self, kind: str, needs: str | None = None) -> list[Template]:
        """This half's templates of ``kind``; with ``needs`` (a slot that cannot be filled, such
        as "{word}" for a genre without an everyday word) only those without that slot."""
        rows = [t for t in BANK[kind] if self.half is None or _HALF[t.id] == self.half]
        if needs is not None:
            rows = [t for t in rows if needs not in t.text]
        return rows

    def pick(self, rng: random.Random, kind: str, avoid: str | None = None) -> Template:
        """A seeded choice among ``options(kind, avoid)``."""
        rows = self.options(kind, avoid)
        return rows[rng.randrange(len(rows))]


# Genome keywords that describe the data, not the film ("imdb top 250", "oscar (best picture)"),
# or that people would not say as a wish: never revealed.
META_KEYWORDS = (
    "imdb",
    "oscar",
    "afi ",
    "criterion",
    "original",
    "predictable",
    "talky",
    "sequel",
    "franchise",
    "remake",
    "adapted from",
    "great acting",
    "good action",
    "nudity",
    "pornography",
    "sexual",
    "storytelling",
    "bad ",
    "overrated",
    "stupid",
    "boring",
    "netflix",
    "dvd",
    "seen ",
    "library",
    "tumey",
    "clv",
    "r:",
    ":",
)


def with_article(noun: str) -> str:
    """The noun with its article: "a comedy", "an action movie"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def genre_slots(genre: str) -> dict[str, str]:
    noun = GENRE_NOUN.get(genre, genre)
    return {
        "noun": noun,
        "a_noun": with_article(noun),
        "plural": GENRE_PLURAL.get(genre, noun),
        "word": GENRE_WORD.get(genre, ""),
    }


def speakable_keyword(keyword: str) -> bool:
    lowered = keyword.lower()
    return not any(marker in lowered for marker in META_KEYWORDS) and 2 < len(lowered) <= 30


def decade_forms(decade: int) -> dict[str, str]:
    """Spellings of a decade as seekers write them: "90s", "90's", "'90s", "1990s", "nineties"
    (the 2000s and later: "2000s", "2000's")."""
    long = f"{decade}s"
    if decade >= 2000:
        return {"short": long, "apos": f"{decade}'s", "tick": long, "long": long, "words": long}
    two = str(decade)[2:]
    return {
        "short": f"{two}s",
        "apos": f"{two}'s",
        "tick": f"'{two}s",
        "long": long,
        "words": DECADE_WORDS.get(decade, long),
    }
