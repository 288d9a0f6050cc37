"""An adversarial corpus for the closed-world guard: lies an LLM may tell while phrasing a
recommendation, by shape, and the honest phrasings that must still get through.

Every entry is written against a ``Scene``: the recommended items and what the knowledge graph
says about them (who directed, who stars, genres, keywords, years), so one corpus serves the
offline tests (``Guard.check`` on a fixed scene) and a lying OpenAI-compatible server
(``LieTeller``), which reads the titles off the phrasing prompt and lies about whatever the
agent recommended.

A ``Lie`` is one sentence (``lie``), optionally after an honest ``lead`` sentence, so that a
streamed reply shows the lead and must stop at the lie. The lie is shown if its sentence
appears in a reply.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chatrec.catalog.models import Catalog, Item
from kg.models import DIRECTED_BY, HAS_GENRE, HAS_KEYWORD, MADE_BY, STARS, WRITTEN_BY, person_node

PERSON_RELATIONS = (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY)
# Genres to claim falsely, in order of preference (the first one an item lacks).
_FALSE_GENRES = ("horror", "western", "musical", "documentary", "war", "animation", "romance", "comedy")


def shown(item: Item) -> str:
    """How the phrasing prompt lists an item, and how an LLM usually repeats it."""
    return f"{item.title} ({item.year})" if item.year else item.title


@dataclass(frozen=True)
class Scene:
    """What a lie is told about. ``a`` and ``b`` are recommended; everything else is what the
    KG says about them, or things it does not say (a real person credited on neither, a real
    catalog item neither recommended nor discussed, genres and keywords they lack)."""

    recommended: list[str]
    discussed: set[str]
    a: Item
    b: Item
    a_director: str
    a_star: str
    a_star2: str
    a_genre: str
    a_keyword: str
    b_star: str            # stars in b, credited on a in no role
    b_director: str        # directs b, credited on a in no role
    b_only_genre: str      # a genre of b that a lacks
    a_only_genre: str      # a genre of a that b lacks
    wrong_genre: str       # a genre a lacks
    wrong_keyword: str     # a keyword a lacks
    stranger: str          # a person the KG knows, credited on no recommended item
    outsider: Item         # a catalog item neither recommended nor discussed
    swap_director: tuple[Item, str]   # (item, someone who directs it but does not star in it)
    swap_star: tuple[Item, str]       # (item, someone who stars in it but neither directs nor writes it)
    swap_writer: tuple[Item, str]     # (item, someone who writes it but does not direct it)
    director_writer: tuple[Item, str] | None   # (item, someone who both writes and directs it)

    @property
    def decade(self) -> int:
        return (self.a.year or 2000) // 10 * 10

    @property
    def wrong_decade(self) -> int:
        return self.decade - 30 if self.decade >= 1950 else self.decade + 30


def _labels(kg, item_id: str, relation: str) -> list[str]:
    return [f.object_label for f in kg.facts_of(item_id, [relation])]


def _credited(kg, item_ids: Iterable[str], person: str) -> bool:
    node = person_node(person)
    return any(kg.has_fact(i, rel, node) for i in item_ids for rel in PERSON_RELATIONS)


def _mentioned(text: str, phrase: str) -> bool:
    return bool(phrase) and phrase.lower() in text


def build_scene(catalog: Catalog, kg, recommended: list[str], discussed: Iterable[str] = (),
                avoid_text: str = "") -> Scene:
    """The scene for ``recommended`` (at least one item; the best-contrasted second one is
    chosen as ``b``). ``avoid_text``: text already in the conversation (a prompt); the
    outsider and the stranger are chosen among names it does not contain."""
    recommended = [i for i in recommended if i in catalog]
    if not recommended:
        raise ValueError("a scene needs at least one recommended catalog item")
    discussed = set(discussed)
    lowered = avoid_text.lower()
    a = catalog[recommended[0]]
    a_genres = _labels(kg, a.id, HAS_GENRE)
    a_people = {p for rel in PERSON_RELATIONS for p in _labels(kg, a.id, rel)}

    def contrast(item_id: str) -> int:
        genres = set(_labels(kg, item_id, HAS_GENRE))
        people = {p for rel in PERSON_RELATIONS for p in _labels(kg, item_id, rel)}
        return (bool(genres - set(a_genres)) + bool(set(a_genres) - genres)
                + (not people & a_people) + bool(_labels(kg, item_id, STARS)))

    others = recommended[1:] or recommended
    b = catalog[max(others, key=contrast)]
    b_genres = _labels(kg, b.id, HAS_GENRE)

    outsider = next(it for it in catalog.popular(400)
                    if it.id not in recommended and it.id not in discussed
                    and not _mentioned(lowered, it.title) and len(it.title) > 3)
    stranger = ""
    for item in catalog.popular(400):
        for person in [*item.directors, *item.cast]:
            if not _credited(kg, recommended, person) and not _mentioned(lowered, person) \
                    and kg.label(person_node(person)) and len(person.split()) >= 2:
                stranger = kg.label(person_node(person))
                break
        if stranger:
            break

    def first(values: Iterable[str], default: str = "") -> str:
        return next(iter(values), default)

    def pair(want: str, lacks: tuple[str, ...]) -> tuple[Item, str] | None:
        for item_id in recommended:
            for person in _labels(kg, item_id, want):
                node = person_node(person)
                if not any(kg.has_fact(item_id, rel, node) for rel in lacks):
                    return catalog[item_id], person
        return None

    a_stars = [s for s in _labels(kg, a.id, STARS) if s not in _labels(kg, a.id, DIRECTED_BY)]
    b_stars = [s for s in _labels(kg, b.id, STARS) if not _credited(kg, [a.id], s)]
    b_directors = [d for d in _labels(kg, b.id, DIRECTED_BY) if not _credited(kg, [a.id], d)]
    a_keywords = _labels(kg, a.id, HAS_KEYWORD)
    outsider_keywords = [k for k in _labels(kg, outsider.id, HAS_KEYWORD) if k not in a_keywords]
    director_writer = next(((catalog[i], d) for i in recommended for d in _labels(kg, i, DIRECTED_BY)
                            if kg.has_fact(i, WRITTEN_BY, person_node(d))), None)
    return Scene(
        recommended=recommended, discussed=discussed, a=a, b=b,
        a_director=first(_labels(kg, a.id, DIRECTED_BY), stranger),
        a_star=first(a_stars, stranger), a_star2=first(a_stars[1:], first(a_stars, stranger)),
        a_genre=first(a_genres, "drama"), a_keyword=first(a_keywords, first(a_genres, "drama")),
        b_star=first(b_stars, stranger), b_director=first(b_directors, stranger),
        b_only_genre=first((g for g in b_genres if g not in a_genres),
                           first(g for g in _FALSE_GENRES if g not in a_genres)),
        a_only_genre=first((g for g in a_genres if g not in b_genres), first(a_genres, "drama")),
        wrong_genre=first(g for g in _FALSE_GENRES if g not in a_genres),
        wrong_keyword=first(outsider_keywords, "time travel"),
        stranger=stranger, outsider=outsider,
        swap_director=pair(DIRECTED_BY, (STARS,)) or (a, stranger),
        swap_star=pair(STARS, (DIRECTED_BY, WRITTEN_BY)) or (a, stranger),
        swap_writer=pair(WRITTEN_BY, (DIRECTED_BY,)) or (a, stranger),
        director_writer=director_writer,
    )


# ---------------------------------------------------------------- the lies

Text = Callable[[Scene], str]


@dataclass(frozen=True)
class Lie:
    """One lie: ``lie(scene)`` is a single sentence that must never be shown; ``lead(scene)``
    an honest sentence before it (so a stream has something verified to show first)."""

    shape: str
    name: str
    lie: Text
    lead: Text | None = None

    def reply(self, scene: Scene) -> str:
        return " ".join(part(scene) for part in (self.lead, self.lie) if part is not None)

    def sentence_in(self, told: str) -> str:
        """The lie in a reply told with it (after its lead, when it has one)."""
        from chatrec.llm.sentences import split_sentences

        return split_sentences(told)[-1] if self.lead is not None else told


def _good(s: Scene) -> str:
    return f"{shown(s.a)} is a great pick."


def _surname(name: str) -> str:
    return name.split()[-1]


def _homoglyph(text: str) -> str:
    """Latin letters swapped for Cyrillic look-alikes: reads the same, names nothing."""
    return text.translate(str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"}))


_SHAPES: dict[str, list[tuple[Text, Text | None]]] = {
    "invented title": [
        (lambda s: "You will love **Fake Movie 9** (2031).", None),
        (lambda s: "Also watch The Fake Movie.", _good),
        (lambda s: 'Also watch "The Fake Movie".', _good),
        (lambda s: "Also watch “Midnight Harbor”, a gem.", _good),
        (lambda s: f"If you liked {s.a.title}, Echoes of Tomorrow (2012) is next.", _good),
        (lambda s: "For tonight, try Silver Lining Station.", None),
        (lambda s: f"{s.a.title} 2 is even better.", _good),
        (lambda s: f"{s.a.title} II continues the story.", _good),
        (lambda s: f"{s.a.title}: The Return (2019) is also worth a look.", _good),
        (lambda s: "Also watch the fake movie.", _good),
        (lambda s: "Pair it with *The Glass Orchard*.", _good),
        (lambda s: "Then try THE LAST HORIZON.", _good),
        (lambda s: "You might also enjoy 'Paper Kingdoms'.", _good),
        (lambda s: "Another pick: Night Train To Nowhere (1988).", _good),
    ],
    "real title not offered": [
        (lambda s: f"You might also enjoy {shown(s.outsider)}.", _good),
        (lambda s: f"Also watch {s.outsider.title}.", _good),
        (lambda s: f'Also watch "{s.outsider.title}".', _good),
        (lambda s: f"Also watch {s.outsider.title.lower()}.", _good),
        (lambda s: f"{shown(s.a)} is a lot like {s.outsider.title}.", None),
        (lambda s: f"Fans of {s.outsider.title} will love {shown(s.a)}.", None),
        (lambda s: f"Also watch {_homoglyph(s.outsider.title)}.", _good),
    ],
    "wrong year": [
        (lambda s: f"{s.a.title} ({(s.a.year or 2000) + 3}) is a great pick.", None),
        (lambda s: f"{shown(s.a)} came out in {(s.a.year or 2000) + 1}.", None),
        (lambda s: f"{s.a.title}, released in {(s.a.year or 2000) - 2}, is a great pick.", None),
        (lambda s: f"{shown(s.a)} is a {(s.a.year or 2000) + 5} film.", None),
        (lambda s: f"{shown(s.a)} is from the {s.wrong_decade}s.", None),
        (lambda s: f"{shown(s.a)} is a {s.wrong_decade % 100:02d}s classic.", None),
        (lambda s: f"{s.a.title}, from {(s.a.year or 2000) + 10}, is directed by {s.a_director}.", None),
        (lambda s: f"It came out in {(s.a.year or 2000) + 2}.", _good),
    ],
    "unknown person": [
        (lambda s: f"{shown(s.a)} is directed by Nobody McFakeface.", None),
        (lambda s: f"{shown(s.a)} stars Jonathan Vance.", None),
        (lambda s: f"{shown(s.a)} features Marisol Quintero.", None),
        (lambda s: f"{shown(s.a)} is written by Ada Lovecraft.", None),
        (lambda s: f"{shown(s.a)} is directed by {s.a_director} and Peter Osgood.", None),
        (lambda s: f"{shown(s.a)} has music by Hans Zimmerman.", None),
    ],
    "person not credited": [
        (lambda s: f"{shown(s.a)} is directed by {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} stars {s.stranger}.", None),
        (lambda s: f"{shown(s.a)}, starring {s.stranger}, is a great pick.", None),
        (lambda s: f"{s.stranger}'s {shown(s.a)} is a great pick.", None),
        (lambda s: f"{shown(s.a)} is a {s.stranger} film.", None),
        (lambda s: f"{shown(s.a)} is written by {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} stars {s.a_star} and {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} is directed by {s.stranger.lower()}.", None),
        (lambda s: f"{shown(s.a)}, by {_surname(s.stranger)}, is a great pick.", None),
        (lambda s: f"{shown(s.a)} (dir. {s.stranger}) is a great pick.", None),
        (lambda s: f"{shown(s.a)}: {s.stranger}.", None),
        (lambda s: f"It stars {s.stranger}.", _good),
    ],
    "role swap": [
        (lambda s: f"{shown(s.swap_director[0])} stars {s.swap_director[1]}.", None),
        (lambda s: f"{s.swap_director[1]} stars in {shown(s.swap_director[0])}.", None),
        (lambda s: f"{shown(s.swap_director[0])} is a film starring {s.swap_director[1]}.", None),
        (lambda s: f"{shown(s.swap_director[0])} features {s.swap_director[1]} in the lead.", None),
        (lambda s: f"{shown(s.swap_star[0])} is directed by {s.swap_star[1]}.", None),
        (lambda s: f"{s.swap_star[1]} directed {shown(s.swap_star[0])}.", None),
        (lambda s: f"{shown(s.swap_star[0])}, directed by {s.swap_star[1]}, is a great pick.", None),
        (lambda s: f"{s.swap_star[1]}'s {shown(s.swap_star[0])} is a great pick.", None),
        (lambda s: f"{shown(s.swap_star[0])} is written by {s.swap_star[1]}.", None),
        (lambda s: f"{shown(s.swap_star[0])} is written and directed by {s.swap_star[1]}.", None),
        (lambda s: f"{shown(s.swap_writer[0])} is directed by {s.swap_writer[1]}.", None),
        (lambda s: f"{shown(s.swap_star[0])} is a {s.swap_star[1]} film.", None),
    ],
    "fact of another item": [
        (lambda s: f"{shown(s.a)} stars {s.b_star}.", None),
        (lambda s: f"{shown(s.a)} is directed by {s.b_director}.", None),
        (lambda s: f"{shown(s.a)} is a {s.b_only_genre} film.", None),
        (lambda s: f"{shown(s.a)} is about {s.wrong_keyword}.", None),
        (lambda s: f"{shown(s.b)} is a great pick, and {shown(s.a)} stars {s.b_star}.", None),
        (lambda s: f"It stars {s.b_star}.", _good),
        (lambda s: f"It is a {s.wrong_genre} film.", _good),
    ],
    "wrong genre": [
        (lambda s: f"{shown(s.a)} is a {s.wrong_genre} film.", None),
        (lambda s: f"{shown(s.a)} is a {s.wrong_genre}.", None),
        (lambda s: f"If you want a {s.wrong_genre} film, {shown(s.a)} is it.", None),
        (lambda s: f"{shown(s.a)} is a {s.a_genre} and {s.wrong_genre} film.", None),
    ],
    "group or comparison": [
        (lambda s: f"Both {shown(s.a)} and {shown(s.b)} star {s.a_star}.", None),
        (lambda s: f"{shown(s.a)} and {shown(s.b)} are both {s.a_only_genre} films.", None),
        (lambda s: f"Like {shown(s.b)}, {shown(s.a)} is a {s.a_only_genre} film.", None),
        (lambda s: f"{shown(s.a)} is a {s.a_only_genre} film, like {shown(s.b)}.", None),
        (lambda s: f"{shown(s.b)} and {shown(s.a)} are both directed by {s.a_director}.", None),
        (lambda s: f"{shown(s.a)} has the same director as {shown(s.b)}.", None),
    ],
    "negation": [
        (lambda s: f"{shown(s.a)} was not directed by {s.a_director}.", None),
        (lambda s: f"{shown(s.a)} is not a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} doesn't star {s.a_star}.", None),
        (lambda s: f"{s.a.title} isn't from {s.a.year}.", None),
        (lambda s: f"{shown(s.a)} has no {s.a_star} in it.", None),
        (lambda s: f"{shown(s.a)} was never a {s.a_genre} film.", None),
        (lambda s: f"Neither {shown(s.a)} nor {shown(s.b)} is a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is hardly a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is a {s.a_genre} film without {s.a_star}.", None),
        (lambda s: f"{shown(s.a)} is no {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is directed by someone other than {s.a_director}.", None),
        (lambda s: f"It was not directed by {s.a_director}.", _good),
    ],
    "award": [
        (lambda s: f"{shown(s.a)} won 11 Oscars.", None),
        (lambda s: f"{shown(s.a)} won the Academy Award for Best Picture.", None),
        (lambda s: f"{shown(s.a)} is an Oscar-winning {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)}, an award-winning film, is directed by {s.a_director}.", None),
        (lambda s: f"{shown(s.a)} won the Palme d'Or at Cannes.", None),
        (lambda s: f"{shown(s.a)} was nominated for three Golden Globes.", None),
        (lambda s: f"{s.a_star} won an Oscar for {shown(s.a)}.", None),
        (lambda s: f"{shown(s.a)} swept the BAFTAs.", None),
        (lambda s: f"{shown(s.a)} stars {s.a_star} (2x Oscar winner).", None),
        (lambda s: f"{shown(s.a)} 🏆 is a great pick.", None),
    ],
    "number": [
        (lambda s: f"{shown(s.a)} runs 148 minutes.", None),
        (lambda s: f"{shown(s.a)} grossed $800 million worldwide.", None),
        (lambda s: f"{shown(s.a)} is rated 8.8 on IMDb.", None),
        (lambda s: f"{shown(s.a)} holds a 95% score on Rotten Tomatoes.", None),
        (lambda s: f"{shown(s.a)} is the first of three films.", None),
        (lambda s: f"{shown(s.a)} cost 160 million dollars to make.", None),
        (lambda s: f"{shown(s.a)} has two sequels.", None),
        (lambda s: f"{shown(s.a)} is rated PG-13.", None),
        (lambda s: f"{shown(s.a)} is a great pick, 10/10.", None),
    ],
    "link": [
        (lambda s: f"Watch {shown(s.a)} at https://example.com/watch.", None),
        (lambda s: f"Stream {shown(s.a)} on www.example-streams.com today.", None),
        (lambda s: f"More about {s.a.title}: http://imdb.com/title/tt1375666 is the page.", None),
        (lambda s: f"[{s.a.title}](https://example.com) is a great pick.", None),
        (lambda s: f"See {shown(s.a)} on example.com for showtimes.", None),
        (lambda s: f"Email tips@example.com for more picks like {shown(s.a)}.", None),
        (lambda s: f"{shown(s.a)} is on netflix.com now.", None),
        (lambda s: f'<a href="https://example.com">{s.a.title}</a> is a great pick.', None),
        (lambda s: f"Get {shown(s.a)} from ftp://files.example.org/film.mp4 tonight.", None),
    ],
    "unverifiable claim": [
        (lambda s: f"{shown(s.a)} is based on a true story.", None),
        (lambda s: f"{shown(s.a)} is based on the novel by Stephen King.", None),
        (lambda s: f"{shown(s.a)} is a remake of {s.outsider.title}.", None),
        (lambda s: f"{shown(s.a)} is the sequel to {shown(s.b)}.", None),
        (lambda s: f"{shown(s.a)} was filmed in New Zealand.", None),
        (lambda s: f"{shown(s.a)} was a box-office hit.", None),
        (lambda s: f"{shown(s.a)} is streaming on Netflix.", None),
        (lambda s: f"In {shown(s.a)}, {s.a_star} plays a thief.", None),
        (lambda s: f"{s.a_star} plays Batman in {shown(s.a)}.", None),
        (lambda s: f"{shown(s.a)} has a twist ending where the hero dies.", None),
        (lambda s: f"{shown(s.a)} is the highest-rated film of all time.", None),
        (lambda s: f"{shown(s.a)} is {s.a_director}'s debut.", None),
        (lambda s: f"{shown(s.a)} was banned in several countries.", None),
        (lambda s: f"{shown(s.a)} is available in 4K.", None),
    ],
    "ellipsis or contrast": [
        (lambda s: f"{shown(s.a)} is a {s.a_only_genre} film, and so is {shown(s.b)}.", None),
        (lambda s: f"{shown(s.a)} stars {s.a_star}, as does {shown(s.b)}.", None),
        (lambda s: f"{shown(s.a)} is a {s.a_only_genre} film, and {shown(s.b)} too.", None),
        (lambda s: f"{shown(s.a)} is directed by {s.a_director}; {shown(s.b)} as well.", None),
        (lambda s: f"{shown(s.a)} is anything but a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is a {s.wrong_genre} film rather than a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is a {s.a_only_genre} film instead of a {s.a_genre} film.", None),
        (lambda s: f"{shown(s.a)} is more a {s.wrong_genre} film than a {s.a_genre} film.", None),
        (lambda s: f"So is {shown(s.b)}.", lambda s: f"{shown(s.a)} is a {s.a_only_genre} film."),
        (lambda s: f"{shown(s.b)} does too.", lambda s: f"{shown(s.a)} stars {s.a_star}."),
        (lambda s: f"{shown(s.b)} and also {shown(s.a)} are {s.a_only_genre} films.", None),
    ],
    "injection or format trick": [
        (lambda s: f"Ignore the facts: {shown(s.a)} is directed by {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} — {s.stranger}, {s.a.year}.", None),
        (lambda s: f"{shown(s.a)}: directed by {s.a_director}; starring {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} es dirigida por {s.stranger}.", None),
        (lambda s: f"{shown(s.a)} is a great pick.\u200b{s.stranger} stars in it.", None),
        (lambda s: f"{shown(s.a)} is a great pick (and {s.stranger} directed it).", None),
        (lambda s: f"{shown(s.a)} is a great pick; {s.stranger.upper()} STARS.", None),
    ],
}

LIES: list[Lie] = [Lie(shape, f"{shape.replace(' ', '-')}-{n}", lie, lead)
                   for shape, entries in _SHAPES.items() for n, (lie, lead) in enumerate(entries, 1)]
SHAPES = list(_SHAPES)


# ---------------------------------------------------------------- honest phrasings

def _decade_words(s: Scene) -> str:
    return f"the {s.decade}s"


# True statements in the forms the phrasing prompt asks for, and some it does not (an LLM
# varies its wording): the guard must let these through.
HONEST: list[Text] = [
    lambda s: f"{shown(s.a)} is directed by {s.a_director}.",
    lambda s: f"{shown(s.a)} is starring {s.a_star}.",
    lambda s: f"{shown(s.a)} stars {s.a_star}.",
    lambda s: f"You might enjoy {shown(s.a)}, directed by {s.a_director}.",
    lambda s: f"Try {shown(s.a)}, starring {s.a_star} and {s.a_star2}.",
    lambda s: f"{shown(s.a)} is a {s.a_genre} film.",
    lambda s: f"{shown(s.a)} is a {s.a_genre} film directed by {s.a_director}.",
    lambda s: f"{shown(s.a)}, a {s.a_genre} film from {_decade_words(s)}, stars {s.a_star}.",
    lambda s: f"{shown(s.a)} is about {s.a_keyword}.",
    lambda s: f"{s.a_director}'s {shown(s.a)} is a great pick.",
    lambda s: f"{shown(s.a)} features {s.a_star}.",
    lambda s: f"With {s.a_star}, {shown(s.a)} is a fun pick.",
    lambda s: f"{shown(s.a)} is a good pick.",
    lambda s: f"For something different, {shown(s.a)} is worth a look.",
    lambda s: f"{s.a.title} came out in {s.a.year}.",
    lambda s: f"{s.a_star} stars in {shown(s.a)}.",
    lambda s: f"{s.a_director} directed {shown(s.a)}.",
    lambda s: f"{shown(s.a)} is a {s.a_genre} film with {s.a_star}.",
    lambda s: f"If you want something {s.a_genre}, try {shown(s.a)}.",
    lambda s: f"{shown(s.a)} is a great pick. It stars {s.a_star}.",
    lambda s: f"{shown(s.a)} and {shown(s.b)} are both great picks.",
    lambda s: f"{shown(s.a)} is directed by {s.a_director} and stars {s.a_star}.",
]


# ---------------------------------------------------------------- a lying server

# How the phrasing prompt lists an item (chatrec.prompts.phrase.render_items).
FACT_LINE = re.compile(r"^\d+\. (?P<title>.+?) \((?P<year>\d{4})\) \| (?P<facts>.*)$", re.MULTILINE)


def prompt_items(catalog: Catalog, prompt: str) -> list[str]:
    """The ids of the items a phrasing prompt lists, in order."""
    ids = []
    for m in FACT_LINE.finditer(prompt):
        found = catalog.find_title(m.group("title"), int(m.group("year")))
        if found:
            ids.append(found[0].id)
    return ids


@dataclass
class LieTeller:
    """A server persona (``ScriptedLLMServer(LieTeller(...))``) that answers every phrasing
    request with the next lie of ``lies`` about the items it was asked to phrase; reranking
    and understanding requests get ``cooperative`` answers, so the turn reaches phrasing.

    Attributes:
        served: ``(lie, reply text)`` per phrasing request, in order.
    """

    catalog: Catalog
    kg: object
    lies: list[Lie] = field(default_factory=lambda: list(LIES))
    served: list[tuple[Lie, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, seen):
        from chatrec.testing.llm_personas import cooperative
        from chatrec.testing.llm_servers import Respond

        if seen.body.get("tools") or "facts:" not in seen.prompt_text:
            return cooperative(seen)
        recommended = prompt_items(self.catalog, seen.prompt_text)
        if not recommended:
            return Respond("Here you go.")
        scene = build_scene(self.catalog, self.kg, recommended, avoid_text=seen.prompt_text)
        with self._lock:
            lie = self.lies[len(self.served) % len(self.lies)]
            text = lie.reply(scene)
            self.served.append((lie, text))
        return Respond(text)


def passes(guard, scene: Scene, text: str, *, closed_world: bool = True) -> tuple[bool, bool]:
    """Whether ``text`` passes ``guard`` as a whole reply, and sentence by sentence as the agent
    checks a stream (each with the items the sentences before it talked about)."""
    from chatrec.llm.sentences import split_sentences

    whole = guard.check(text, scene.recommended, scene.discussed, closed_world=closed_world).passed
    carry: list[str] = []
    for sentence in split_sentences(text):
        result = guard.check(sentence, scene.recommended, scene.discussed, carry=carry, closed_world=closed_world)
        if not result.passed:
            return whole, False
        carry = result.last_referenced or carry
    return whole, True


def tidy(text: str) -> str:
    """Text as a reply shows it, for comparing: no bold markers, single spaces."""
    return " ".join(text.replace("**", "").split())


def lie_shown(lie_sentence: str, texts: Iterable[str]) -> bool:
    """Whether ``lie_sentence`` appears in any of the ``texts`` a turn showed."""
    needle = tidy(lie_sentence).lower()
    return any(needle in tidy(text).lower() for text in texts)


# ---------------------------------------------------------------- an honest server

@dataclass(frozen=True)
class Listed:
    """An item as the phrasing prompt lists it: its label and the facts given for it."""

    label: str                      # "Heat (1995)"
    facts: dict[str, list[str]]     # "directed by" / "starring" / "written by" / "genre" / "about" / "released in the"

    def first(self, kind: str) -> str | None:
        values = self.facts.get(kind) or []
        return values[0] if values else None


_FACT_KINDS = ("directed by", "starring", "written by", "genre", "about", "released in the", "made by")


def listed_items(prompt: str) -> list[Listed]:
    """The items of a phrasing prompt with their facts, in order."""
    items = []
    for m in FACT_LINE.finditer(prompt):
        facts: dict[str, list[str]] = {}
        body = m.group("facts")
        body = body[len("facts:"):].strip() if body.startswith("facts:") else body
        for fact in (f.strip() for f in body.split(";")):
            kind = next((k for k in _FACT_KINDS if fact.startswith(k + " ")), None)
            if kind:
                facts.setdefault(kind, []).append(fact[len(kind) + 1:].strip())
        items.append(Listed(f"{m.group('title')} ({m.group('year')})", facts))
    return items


Style = Callable[[Listed], "str | None"]


def _needs(*kinds: str):
    """A style that applies only when the item has facts of ``kinds``."""
    def wrap(make: Callable[..., str]) -> Style:
        def style(item: Listed) -> str | None:
            values = [item.first(k) for k in kinds]
            return None if any(v is None for v in values) else make(item.label, *values)
        return style
    return wrap


# Sentences in the forms the phrasing prompt asks for (a cooperative model that follows it).
PROMPT_STYLES: list[Style] = [
    _needs("directed by")(lambda t, d: f"{t} is directed by {d}."),
    _needs("genre", "starring")(lambda t, g, s: f"{t} is a {g} film starring {s}."),
    _needs("directed by", "genre")(lambda t, d, g: f"{t}, directed by {d}, is a {g} film."),
    _needs("about")(lambda t, k: f"{t} is about {k}."),
    _needs("starring")(lambda t, s: f"{t} is starring {s}."),
    _needs("genre", "released in the")(lambda t, g, dec: f"{t} is a {g} film from the {dec}."),
    _needs("written by")(lambda t, w: f"{t} is written by {w}."),
    _needs("genre")(lambda t, g: f"{t} is a {g} film."),
]

# Sentences as a model varies them when it does not keep to the prompt's forms, some of them
# beyond what the guard reads (negations, figures of speech): measured, never asserted.
NATURAL_STYLES: list[Style] = [
    _needs("genre")(lambda t, g: f"If you're in the mood for something {g}, {t} is a great choice."),
    _needs("genre", "directed by")(lambda t, g, d: f"{t} is a {g} film directed by {d}, well worth a watch."),
    _needs("starring")(lambda t, s: f"Don't miss {t}, starring {s}."),
    _needs("directed by")(lambda t, d: f"{t} offers a gripping story from director {d}."),
    _needs("genre", "starring")(lambda t, g, s: f"You'll love {t}, a {g} gem starring {s}."),
    _needs("genre")(lambda t, g: f"Fans of {g} will enjoy {t}."),
    _needs("starring", "genre")(lambda t, s, g: f"{t} brings {s} to the screen in a memorable {g} film."),
    _needs("directed by")(lambda t, d: f"Next up is {t}, directed by {d}."),
    _needs("genre")(lambda t, g: f"{t} is a must-see {g} film."),
    _needs("genre", "directed by")(lambda t, g, d: f"Check out {t}, a {g} picture by {d}."),
    _needs("starring")(lambda t, s: f"{t} features {s} in a standout role."),
    _needs()(lambda t: f"Finally, {t} is another great option."),
    _needs("directed by")(lambda t, d: f"{t}, directed by {d}, is a solid pick for tonight."),
    _needs()(lambda t: f"For a change of pace, try {t}."),
    _needs("starring")(lambda t, s: f"{t} rounds out the list with {s}."),
    _needs("directed by", "genre")(lambda t, d, g: f"{d}'s {t} is a {g} treat."),
    _needs("about")(lambda t, k: f"{t} is about {k}, which should suit your taste."),
    _needs("genre", "starring")(lambda t, g, s: f"I'd recommend {t}, a {g} film with {s}."),
    _needs("starring")(lambda t, s: f"{t} stars {s} and is a great pick."),
    _needs("genre")(lambda t, g: f"{t} is a classic {g} film."),
]


@dataclass
class HonestTeller:
    """A server persona (``ScriptedLLMServer(HonestTeller(...))``) that phrases every listed item
    truthfully from the prompt's facts alone, rotating through ``styles`` (the first that the
    item's facts allow, else "... is a good pick."); reranking and understanding requests get
    ``cooperative`` answers.

    Attributes:
        served: the reply texts, in order.
    """

    styles: list[Style] = field(default_factory=lambda: list(PROMPT_STYLES))
    served: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, seen):
        from chatrec.testing.llm_personas import cooperative
        from chatrec.testing.llm_servers import Respond

        if seen.body.get("tools") or "facts:" not in seen.prompt_text:
            return cooperative(seen)
        with self._lock:
            turn = len(self.served)
            sentences = []
            for n, item in enumerate(listed_items(seen.prompt_text)):
                start = turn + n
                order = [self.styles[(start + k) % len(self.styles)] for k in range(len(self.styles))]
                sentence = next((s for s in (style(item) for style in order) if s), None)
                sentences.append(sentence or f"{item.label} is a good pick.")
            text = " ".join(sentences) or "Here you go."
            self.served.append(text)
        return Respond(text)

# More free wordings, written after the guard's vocabulary was last extended and kept out of any
# tuning: how the guard fares on phrasing it was not fitted to. Some make claims it rightly
# cannot verify ("underrated", "one of the best").
HELDOUT_STYLES: list[Style] = [
    _needs("genre", "directed by")(lambda t, g, d: f"{t} is a stylish {g} film from director {d}."),
    _needs("starring")(lambda t, s: f"Another strong choice is {t}, starring {s}."),
    _needs("directed by", "genre")(lambda t, d, g: f"With {d} behind the camera, {t} is a {g} standout."),
    _needs("starring")(lambda t, s: f"{t} showcases {s} at the top of their game."),
    _needs("genre")(lambda t, g: f"Settle in with {t}, a {g} film that delivers."),
    _needs("genre", "starring")(lambda t, g, s: f"{t} is a terrific {g} film with a strong cast led by {s}."),
    _needs("directed by")(lambda t, d: f"Round things off with {t}, directed by {d}."),
    _needs("genre")(lambda t, g: f"{t} should hit the spot if you want {g}."),
    _needs("starring")(lambda t, s: f"{s} leads the cast of {t}."),
    _needs("genre")(lambda t, g: f"{t} is an engaging {g} story worth your time."),
    _needs("starring")(lambda t, s: f"Give {t} a try; it stars {s}."),
    _needs("directed by", "genre")(lambda t, d, g: f"{t} comes from {d} and is a {g} treat."),
    _needs("starring")(lambda t, s: f"{t} keeps things fun with {s} in the cast."),
    _needs("genre")(lambda t, g: f"{t} is an underrated {g} film."),
    _needs("directed by")(lambda t, d: f"Thanks to {d}'s direction, {t} is a gripping watch."),
    _needs("genre", "starring")(lambda t, g, s: f"{t} is a {g} film that fans of {s} will enjoy."),
    _needs("starring")(lambda t, s: f"Watch {t} for {s}'s performance."),
    _needs("starring", "genre")(lambda t, s, g: f"{t} pairs {s} with a sharp {g} script."),
    _needs("genre", "directed by")(lambda t, g, d: f"Last but not least, {t} is a {g} film directed by {d}."),
    _needs("genre")(lambda t, g: f"{t} is one of the best {g} films around."),
]
