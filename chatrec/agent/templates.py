"""Reply templates: the words chatrec says without an LLM. Titles are written as
``**Title** (Year)`` so every surface can style them and the guard can find them."""

from __future__ import annotations

import zlib

from chatrec.agent.models import Constraints
from chatrec.catalog.models import Item
from chatrec.catalog.normalize import label_key

MAX_MESSAGE_CHARS = 4000


def title(item: Item) -> str:
    return f"**{item.title}** ({item.year})" if item.year else f"**{item.title}**"


def pick(options: list[str], key: str) -> str:
    return options[zlib.crc32(key.encode()) % len(options)]


def constraint_summary(c: Constraints) -> str:
    """What every film of a list meets (the hard constraints), in words."""
    c = c.hard_only()
    parts: list[str] = []
    if c.year_min is not None and c.year_max is not None:
        if c.year_min == c.year_max:
            parts.append(f"from {c.year_min}")
        elif c.year_min % 10 == 0 and c.year_max == c.year_min + 9:
            parts.append(f"from the {c.year_min}s")
        else:
            parts.append(f"from {c.year_min}–{c.year_max}")
    elif c.year_min is not None:
        parts.append(f"from {c.year_min} on")
    elif c.year_max is not None:
        parts.append(f"up to {c.year_max}")
    if c.genres_all:
        parts.append(" + ".join(c.genres_all))
    if c.genres_any:
        parts.append(" or ".join(c.genres_any))
    if c.people_any:
        parts.append("with " + " or ".join(c.people_any))
    if c.directors_any:
        parts.append("directed by " + " or ".join(c.directors_any))
    if c.cast_any:
        parts.append("starring " + " or ".join(c.cast_any))
    if c.writers_any:
        parts.append("written by " + " or ".join(c.writers_any))
    if c.genres_none:
        parts.append("no " + ", no ".join(c.genres_none))
    if c.people_none:
        parts.append("without " + ", ".join(c.people_none))
    if c.keywords_none:
        # one family said once ("no gore" excludes gory, splatter, bloody)
        said = dict.fromkeys(c.origin(f"keywords_none:{label_key(k)}").said or k for k in c.keywords_none)
        parts.append("nothing " + ", nothing ".join(said))
    if c.decades_none:
        parts.append("not from the " + " or ".join(f"{d}s" for d in c.decades_none))
    return "; ".join(parts)


INTROS = [
    "Here are a few you might like",
    "You could try these",
    "Some picks for you",
    "How about these",
]


def intro(key: str, c: Constraints, count: int, asked: int) -> str:
    summary = constraint_summary(c)
    head = pick(INTROS, key)
    if summary:
        head += f" ({summary})"
    if count < asked:
        head += f" — only {count} match{'es' if count == 1 else ''} everything so far"
    return head + ":"


def no_match(c: Constraints) -> str:
    summary = constraint_summary(c)
    return (f"Nothing in the catalog matches all of that ({summary}). "
            "Could you relax one of those — a different decade or genre, say?")


def relaxed_note(dropped: list[tuple[str, int]]) -> str:
    """Said when the constraints left too few films: (what was left out, films matching everything
    before it was), in the order they were left out."""
    left_out = " and ".join(f"“{label}”" for label, _ in dropped)
    matched = dropped[0][1]
    if matched == 0:
        return f"Nothing in the catalog matches everything you asked, so I left out {left_out}."
    films = "film matches" if matched == 1 else "films match"
    return f"Only {matched} {films} everything you asked; the others leave out {left_out}."


def unsupported_note(labels: list[str]) -> str:
    joined = ", ".join(dict.fromkeys(labels))
    return (f"Note: I can't check {joined} — the catalog has no data on it — so I could not "
            "apply that part of your request.")


GREETINGS = [
    "Hi! Tell me what you're in the mood for — a genre, a film you loved, an actor or a decade.",
    "Hello! What kind of film are you after? You can say things like \"a 90s comedy\" or "
    "\"something like Inception\".",
]
THANKS = [
    "You're welcome! Ask any time you want more ideas.",
    "Glad to help — enjoy the film!",
]
DECLINED = "Alright — whenever you want more ideas, just tell me what you're in the mood for."

CHITCHAT = [
    "I'm best at films: tell me one you loved, a genre, an actor or a decade, and I'll suggest a few.",
    "I'm a film recommender — try something like \"a feel-good comedy from the 90s\" or "
    "\"movies with Tom Hanks\".",
]
# Small talk once the user has said what they want: keep the conversation on films.
MORE = [
    "A few more along the same lines:",
    "Here are some others you might like too:",
]
ASK_PREFERENCE = (
    "Happy to help! What are you in the mood for — a genre, a film you loved, or a decade? "
    "(e.g. \"a 90s comedy\" or \"something like Inception\")"
)
ASK_GENRE = "Any genre you feel like — comedy, drama, sci-fi, thriller…?"
EMPTY_MESSAGE = "I didn't catch anything there — tell me a film you like or what you're in the mood for."
TOO_LONG = ("That message is too long for me ({n:,} characters; the limit is {limit:,}). "
            "Could you say what you're looking for in a sentence or two?")
NO_TARGET = "Which film do you mean? Name it, or say \"the first one\", \"the second one\"…"
COLD_RATING = ("I don't know yet — I have no ratings from you to go on. Tell me a few films you liked "
               "or disliked, or pick a MovieLens user, and I can guess.")
RESET_DONE = "Okay, starting over. What are you in the mood for?"
