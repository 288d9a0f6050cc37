"""What the simulated user says: templates for revealing an attribute, rejecting a list with a
reason, and accepting. Varied, but chosen by a seeded generator, so a run repeats exactly.

Each template has an id (``kind/n``) that travels with the utterance, so a report can say which
phrasings the agent understood and which it did not.
"""

from __future__ import annotations

import random

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
# Plurals for "no horror movies please".
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

REVEAL = {
    "genre": [
        "I'm in the mood for {a_noun}.",
        "Can you recommend a good {noun}?",
        "I'd like to watch {a_noun} tonight.",
        "Looking for {a_noun}.",
        "Something {word} would be great.",
        "How about {a_noun}?",
        "It should be {a_noun}.",
    ],
    "decade": [
        "Something from the {short} would be nice.",
        "Preferably from the {words}.",
        "A movie from the {long}, ideally.",
        "I'd like something made in the {long}.",
        "Maybe a {short} movie?",
        "It should be from the {short}.",
    ],
    "keyword": [
        "I'm thinking {kw}.",
        "{Kw} would be a plus.",
        "Ideally something with a {kw} vibe.",
        "Oh, and {kw}, if possible.",
        "Bonus points for {kw}.",
    ],
    "director": [
        "Maybe something directed by {name}?",
        "I like {name}'s films.",
        "Something by {name} would be cool.",
    ],
    "cast": [
        "Something with {name} in it?",
        "I'm a big fan of {name}.",
        "Maybe something starring {name}.",
    ],
}
OPEN_PREFIX = ["Hi! ", "Hey. ", "Hello, ", "", "", "Hi there. "]
REJECT = [
    "Nah.",
    "Hmm, not quite.",
    "Not really what I'm after.",
    "None of those grab me.",
    "Not those.",
    "No, thanks.",
]
REASON = {
    "newer": [
        "Those are all too old.",
        "Something more recent, please.",
        "I'd prefer something newer.",
        "These feel too old for me.",
        "Anything newer?",
    ],
    "older": [
        "Those are all too recent.",
        "Something older, please.",
        "I'd like an older one.",
        "These are too new for me.",
    ],
    "not_genre": [
        "Not {a_noun}.",
        "No {plural} please.",
        "I'm not in the mood for {a_noun}.",
        "I don't want {a_noun}.",
    ],
    "want_genre": [
        "I really want {a_noun}.",
        "It has to be {a_noun}.",
        "I was hoping for {a_noun}.",
    ],
}
ACCEPT = [
    "Oh, {title} — that's exactly what I was looking for!",
    "{title}! Perfect, I'll watch that.",
    "Yes, {title} sounds great.",
]
NOTHING_NEW = [
    "Anything along those lines is fine.",
    "Whatever fits what I said.",
    "Something like that, you choose.",
]


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


def speakable_keyword(keyword: str) -> bool:
    lowered = keyword.lower()
    return not any(marker in lowered for marker in META_KEYWORDS) and 2 < len(lowered) <= 30


def pick(rng: random.Random, options: list[str], kind: str) -> tuple[str, str]:
    """A seeded choice: (template, template id)."""
    index = rng.randrange(len(options))
    return options[index], f"{kind}/{index}"


def decade_forms(decade: int) -> dict[str, str]:
    """Spellings of a decade: "90s", "nineties", "1990s" (the 2000s and later: "2000s" for all three)."""
    long = f"{decade}s"
    if decade >= 2000:
        return {"short": long, "words": long, "long": long}
    return {"short": f"{str(decade)[2:]}s", "words": DECADE_WORDS.get(decade, long), "long": long}
