"""The checks of the request suite, each computed from catalog data and the agent's reply.

A check takes the turn (its reply, the session before and after it, what the script showed and
named earlier) and an argument from the suite, and returns whether it passed with a short reason.
"Every film" checks fail on a reply without films: a request that gets no recommendation has not
been served.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatrec.catalog.genres import GENRES, canonical_genre
from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.normalize import label_key, title_key

WELL_KNOWN_RATINGS = 10     # "well known": at least this many MovieLens ratings
WELL_KNOWN_SHARE = 4        # ... for at least 4 of 5 films
WELL_RATED = 3.5            # "well rated": mean rating at least this
DARK_GENRES = ("horror", "thriller", "crime", "war", "mystery")
_RATING = re.compile(r"\b(\d(?:\.\d)?)\s*(?:out of 5|/\s*5|stars?)\b")


@dataclass
class Turn:
    """What a check sees of one turn."""

    catalog: Catalog
    reply: Any                       # chatrec.agent.models.Reply
    before: Any                      # SessionState before the message
    after: Any                       # SessionState after it
    shown_before: list[Item] = field(default_factory=list)   # the previous reply's films
    named: list[str] = field(default_factory=list)           # titles the script named so far
    k: int = 5

    @property
    def films(self) -> list[Item]:
        return [r.item for r in self.reply.recommendations]


Result = tuple[bool, str]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _find(catalog: Catalog, title: str) -> Item | None:
    found = catalog.find_title(title)
    return found[0] if found else None


def _every(turn: Turn, ok: Callable[[Item], bool], what: str) -> Result:
    films = turn.films
    if not films:
        return False, "no films recommended"
    bad = [f.display for f in films if not ok(f)]
    return (not bad, f"{what}: {', '.join(bad[:3])}" if bad else "")


def _people(item: Item, role: str) -> set[str]:
    names = {"director": item.directors, "cast": item.cast, "writer": item.writers}.get(role)
    if names is None:
        names = [n for _, n in item.people]
    return {label_key(n) for n in names}


def _genre_word(word: str) -> str | None:
    """"musicals" → musical, "war movies" → war, "documentaries" → documentary."""
    text = re.sub(r"\b(?:movies?|films?|flicks?|ones?)\b", "", word.lower()).strip()
    singular = re.sub(r"ies$", "y", text) if text.endswith("ies") else text.removesuffix("s")
    for candidate in (text, singular):
        genre_label = canonical_genre(candidate)
        if genre_label in GENRES:
            return genre_label
    return None


def _required_genres(state) -> set[str]:
    c = state.constraints
    return {label_key(g) for g in (*c.genres_all, *c.genres_any)}


def _hard(constraints) -> dict:
    data = constraints.model_dump(exclude_defaults=True)
    return {k: v for k, v in data.items() if k not in ("unsupported", "origins", "soft")}


def _rating(text: str) -> float | None:
    found = _RATING.search(text)
    return float(found.group(1)) if found else None


def _well_known(turn: Turn, rated: bool = False) -> Result:
    films = turn.films
    if not films:
        return False, "no films recommended"
    known = [f for f in films if f.popularity >= WELL_KNOWN_RATINGS
             and (not rated or (f.mean_rating or 0) >= WELL_RATED)]
    need = min(WELL_KNOWN_SHARE, len(films)) if len(films) < turn.k else WELL_KNOWN_SHARE
    obscure = [f"{f.display} ({f.popularity})" for f in films if f not in known]
    return len(known) >= need, "obscure or poorly rated: " + ", ".join(obscure[:3]) if obscure else ""


# ------------------------------------------------------------------------------- the checks
def genre(turn: Turn, arg) -> Result:
    wanted = [label_key(g) for g in _as_list(arg)]
    return _every(turn, lambda f: set(wanted) <= {label_key(g) for g in f.genres}, f"not {'+'.join(wanted)}")


def genre_any(turn: Turn, arg) -> Result:
    wanted = {label_key(canonical_genre(g) or g) for g in _as_list(arg)}
    return _every(turn, lambda f: bool(wanted & {label_key(g) for g in f.genres}), "none of the genres")


def no_genre(turn: Turn, arg) -> Result:
    banned = {label_key(canonical_genre(g) or g) for g in _as_list(arg)}
    return _every(turn, lambda f: not banned & {label_key(g) for g in f.genres}, "has an excluded genre")


def no_genre_word(turn: Turn, arg) -> Result:
    genre_label = _genre_word(str(arg))
    if genre_label is None:
        return False, f"suite error: {arg!r} is no genre"
    return no_genre(turn, genre_label)


def no_keyword(turn: Turn, arg) -> Result:
    banned = {label_key(k) for k in _as_list(arg)}
    return _every(turn, lambda f: not banned & {label_key(k) for k in f.keywords}, "tagged with it")


def _says_word(texts: list[str], word: str) -> bool:
    """Whether any of ``texts`` holds ``word`` as a word, in the singular or plural, or written
    together with its neighbour ("super hero" holds "superhero")."""
    word = label_key(word)
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    pattern = re.compile(rf"\b{re.escape(word)}(?:s|es)?\b")
    return any(pattern.search(key) or pattern.search(key.replace(" ", ""))
               for key in (label_key(t) for t in texts))


def no_keyword_word(turn: Turn, arg) -> Result:
    """No film has a keyword holding one of the words ("Disney" rules out "disney animated
    feature"; "superhero" rules out "superheroes" and "super hero")."""
    words = _as_list(arg)
    return _every(turn, lambda f: not any(_says_word(f.keywords, w) for w in words), "a keyword holds it")


def about(turn: Turn, arg) -> Result:
    """At least 3 films are about the word: it is in their keywords, tags or description (a title
    alone is no evidence)."""
    word = str(arg)
    films = turn.films
    hits = [f for f in films if _says_word([*f.keywords, *f.tags, f.description or ""], word)]
    return len(hits) >= min(3, len(films)) and bool(films), f"{len(hits)} of {len(films)} about {word!r}"


def gems(turn: Turn, arg) -> Result:
    """Hidden gems: at least 4 films rated by 5 to ``arg`` people (known to few, yet seen), each
    of those rated at least ``WELL_RATED`` on average."""
    most = int(arg) if not isinstance(arg, bool) else 60
    films = turn.films
    found = [f for f in films if 5 <= f.popularity <= most and (f.mean_rating or 0) >= WELL_RATED]
    others = [f"{f.display} ({f.popularity}, {f.mean_rating})" for f in films if f not in found]
    return len(found) >= min(WELL_KNOWN_SHARE, len(films)) and bool(films), "not gems: " + ", ".join(others[:3])


def mostly_person(turn: Turn, arg) -> Result:
    """At least 3 films credit the person in the role (a taste for someone's films, not a filter)."""
    name, role = label_key(arg["name"]), arg.get("role", "any")
    hits = [f for f in turn.films if name in _people(f, role)]
    return len(hits) >= min(3, len(turn.films)) and bool(turn.films), f"{len(hits)} by {arg['name']}"


def person(turn: Turn, arg) -> Result:
    wanted = [(label_key(p["name"]), p.get("role", "any")) for p in _as_list(arg)]
    return _every(turn, lambda f: all(name in _people(f, role) for name, role in wanted),
                  "lacks " + ", ".join(f"{n} as {r}" for n, r in wanted))


def no_person(turn: Turn, arg) -> Result:
    banned = {label_key(p) for p in _as_list(arg)}
    return _every(turn, lambda f: not banned & _people(f, "any"), "credits them")


def no_title_words(turn: Turn, arg) -> Result:
    words = {w.lower() for phrase in _as_list(arg) for w in re.findall(r"[A-Za-z]+", phrase) if len(w) > 2}
    return _every(turn, lambda f: not words & set(re.findall(r"[a-z]+", f.title.lower())), "title word match")


def year_min(turn: Turn, arg) -> Result:
    return _every(turn, lambda f: f.year is not None and f.year >= int(arg), f"before {arg}")


def year_max(turn: Turn, arg) -> Result:
    return _every(turn, lambda f: f.year is not None and f.year <= int(arg), f"after {arg}")


def not_decade(turn: Turn, arg) -> Result:
    decade = int(arg)
    return _every(turn, lambda f: f.year is None or not decade <= f.year <= decade + 9, f"from the {decade}s")


def _reference_year(turn: Turn, title: str) -> int | None:
    item = _find(turn.catalog, title)
    return item.year if item else None


def newer_than(turn: Turn, arg) -> Result:
    year = _reference_year(turn, arg)
    if year is None:
        return False, f"suite error: no year for {arg}"
    return _every(turn, lambda f: f.year is not None and f.year > year, f"not after {year}")


def older_than(turn: Turn, arg) -> Result:
    year = _reference_year(turn, arg)
    if year is None:
        return False, f"suite error: no year for {arg}"
    return _every(turn, lambda f: f.year is not None and f.year < year, f"not before {year}")


def _shown_median(turn: Turn) -> float | None:
    years = [f.year for f in turn.shown_before if f.year]
    return statistics.median(years) if years else None


def newer_than_shown(turn: Turn, arg) -> Result:
    median = _shown_median(turn)
    if median is None:
        return False, "nothing shown before"
    return _every(turn, lambda f: f.year is not None and f.year > median, f"not newer than {median:g}")


def older_than_shown(turn: Turn, arg) -> Result:
    median = _shown_median(turn)
    if median is None:
        return False, "nothing shown before"
    return _every(turn, lambda f: f.year is not None and f.year < median, f"not older than {median:g}")


def _dark(films: list[Item]) -> int:
    return sum(bool(set(DARK_GENRES) & set(f.genres)) for f in films)


def lighter_than_shown(turn: Turn, arg) -> Result:
    before, now = _dark(turn.shown_before), _dark(turn.films)
    return bool(turn.films) and (now < before or now <= 1), f"dark films {before} → {now}"


def darker_than_shown(turn: Turn, arg) -> Result:
    before, now = _dark(turn.shown_before), _dark(turn.films)
    return bool(turn.films) and (now > before or now >= 3), f"dark films {before} → {now}"


def similar_to(turn: Turn, arg) -> Result:
    ref = _find(turn.catalog, arg)
    if ref is None:
        return False, f"suite error: no film {arg}"
    films = turn.films
    sharing = [f for f in films if set(f.genres) & set(ref.genres)]
    return len(sharing) >= min(3, len(films)) and bool(films), f"{len(sharing)} share a genre with {ref.display}"


def not_titles(turn: Turn, arg) -> Result:
    keys = {title_key(t) for t in _as_list(arg)}
    return _every(turn, lambda f: title_key(f.title) not in keys, "recommended back")


def _session_items(turn: Turn, field_name: str) -> set[str]:
    return {title_key(turn.catalog[i].title) for i in getattr(turn.after, field_name) if i in turn.catalog}


def disliked(turn: Turn, arg) -> Result:
    return title_key(arg) in _session_items(turn, "disliked_items"), "not recorded as disliked"


def liked(turn: Turn, arg) -> Result:
    return title_key(arg) in _session_items(turn, "liked_items"), "not recorded as liked"


def _liked_or_required(turn: Turn) -> set[str]:
    state = turn.after
    nodes = {a.lower() for a in state.liked_attributes}
    nodes |= {f"genre:{g}" for g in _required_genres(state)}
    c = state.constraints
    nodes |= {f"person:{label_key(p)}" for p in c.people_any}
    for name in ("directors_any", "cast_any", "writers_any", "keywords_any"):
        kind = "keyword" if name == "keywords_any" else "person"
        nodes |= {f"{kind}:{label_key(v)}" for v in getattr(c, name, [])}
    return nodes


def not_liked_attr(turn: Turn, arg) -> Result:
    nodes = {f"{a.split(':', 1)[0]}:{label_key(a.split(':', 1)[1])}" for a in _as_list(arg)}
    found = nodes & _liked_or_required(turn)
    return not found, f"taken as a like: {sorted(found)}" if found else ""


def not_liked_attr_word(turn: Turn, arg) -> Result:
    genre_label = _genre_word(str(arg))
    if genre_label is None:
        return False, f"suite error: {arg!r} is no genre"
    return not_liked_attr(turn, f"genre:{genre_label}")


def no_constraint(turn: Turn, arg) -> Result:
    before, after = _hard(turn.before.constraints), _hard(turn.after.constraints)
    return before == after, f"constraints changed: {before} → {after}" if before != after else ""


def no_person_constraint(turn: Turn, arg) -> Result:
    hard = _hard(turn.after.constraints)
    people = {k: v for k, v in hard.items() if k in ("people_any", "directors_any", "cast_any", "writers_any")}
    return not people, f"person constraint {people}" if people else ""


def some_without_person(turn: Turn, arg) -> Result:
    films = turn.films
    key = label_key(arg)
    return bool(films) and any(key not in _people(f, "any") for f in films), "every film has them"


def some_outside_genre(turn: Turn, arg) -> Result:
    films = turn.films
    key = label_key(canonical_genre(arg) or arg)
    return bool(films) and any(key not in {label_key(g) for g in f.genres} for f in films), "all of that genre"


def rating_min(turn: Turn, arg) -> Result:
    value = _rating(turn.reply.text)
    return value is not None and value >= float(arg), f"rating {value}"


def rating_max(turn: Turn, arg) -> Result:
    value = _rating(turn.reply.text)
    return value is not None and value <= float(arg), f"rating {value}"


def rating_given(turn: Turn, arg) -> Result:
    value = _rating(turn.reply.text)
    return value is not None, "no rating in the reply"


def full(turn: Turn, arg) -> Result:
    return len(turn.films) == turn.k, f"{len(turn.films)} films"


def relaxed(turn: Turn, arg) -> Result:
    notes = [n.split(":", 1)[1].strip() for n in turn.reply.trace.notes if n.startswith("relaxed:")]
    said = any(note and note in turn.reply.text for note in notes)
    return bool(notes) and said, "no relaxation recorded and said" if not (notes and said) else ""


def popular(turn: Turn, arg) -> Result:
    return _well_known(turn, rated=True)


def question_or_popular(turn: Turn, arg) -> Result:
    """One useful question, or well-known, well-rated films none of which was found by a word of
    the request in its title (``arg``: the request's words about the occasion)."""
    if turn.reply.question is not None and not turn.films:
        return True, ""
    known, why = _well_known(turn, rated=True)
    if not known or not isinstance(arg, list):
        return known, why
    return no_title_words(turn, arg)


def never_named(turn: Turn) -> Result:
    """No film the script named comes back (the named title read as the best-known film of that
    title; another film of the same title and year is the same film)."""
    named = [item for title in turn.named if (item := _find(turn.catalog, title)) is not None]
    keys = {(title_key(i.title), i.year) for i in named}
    ids = {i.id for i in named}
    return _every(turn, lambda f: f.id not in ids and (title_key(f.title), f.year) not in keys, "named earlier")


def no_twice(turn: Turn, arg) -> Result:
    keys = [(title_key(f.title), f.year) for f in turn.films]
    return len(keys) == len(set(keys)), "a film twice"


CHECKS: dict[str, Callable[[Turn, Any], Result]] = {
    f.__name__: f for f in (
        genre, genre_any, no_genre, no_genre_word, no_keyword, person, no_person, no_title_words,
        year_min, year_max, not_decade, newer_than, older_than, newer_than_shown, older_than_shown,
        lighter_than_shown, darker_than_shown, similar_to, not_titles, disliked, liked, not_liked_attr,
        not_liked_attr_word, no_constraint, no_person_constraint, some_without_person,
        some_outside_genre, rating_min, rating_max, rating_given, full, relaxed, popular,
        question_or_popular, no_twice, no_keyword_word, about, gems, mostly_person)
}
#: Checks that say something about the reply's films: a turn with any of them also gets the
#: automatic "well known" check.
FILM_CHECKS = set(CHECKS) - {"disliked", "liked", "not_liked_attr", "not_liked_attr_word", "no_constraint",
                             "no_person_constraint", "rating_min", "rating_max", "rating_given", "relaxed",
                             "question_or_popular"}


def run_checks(turn: Turn, expect: dict[str, Any]) -> list[dict]:
    """The suite's checks of one turn, plus the automatic ones: well-known films (unless
    ``obscure``), no film the script named, no film shown earlier (``never_repeats``, done by the
    runner, which knows the script's history)."""
    results = []
    for name, arg in expect.items():
        if name == "obscure":
            continue
        check = CHECKS.get(name)
        if check is None:
            raise ValueError(f"unknown check {name!r}")
        passed, why = check(turn, arg)
        results.append({"check": name, "passed": bool(passed), "why": "" if passed else why})
    if turn.films and set(expect) & FILM_CHECKS and not expect.get("obscure"):
        passed, why = _well_known(turn)
        results.append({"check": "well_known", "passed": passed, "why": "" if passed else why})
    if turn.films and turn.named:
        passed, why = never_named(turn)
        results.append({"check": "never_named", "passed": passed, "why": "" if passed else why})
    return results
