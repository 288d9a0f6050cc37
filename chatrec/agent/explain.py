"""Explanations built from knowledge-graph edges only.

For each shown item we take the most informative path from something the user liked (an item or an
attribute) to it (``kg.paths.explain``) and say it with a template, adding what the user asked
for (genre, decade, person) when the item has it. Every clause is backed by ``Fact``s (KG edges)
that travel with the recommendation as its evidence, so the guard, the UI and the evaluation can
check that nothing was made up.
"""

from __future__ import annotations

import logging
import zlib

from chatrec.catalog.models import Catalog, Item
from kg.models import (
    DIRECTED_BY,
    HAS_GENRE,
    HAS_KEYWORD,
    MADE_BY,
    RELEASED_IN,
    STARS,
    WRITTEN_BY,
    Fact,
    item_node,
    node_value,
)

logger = logging.getLogger(__name__)

# {P} entity label, {L} liked item "Title (Year)", {liked} ", which you liked" or "".
_SHARED = {
    DIRECTED_BY: ["Directed by {P}, who also made {L}{liked}.",
                  "From {P}, the director of {L}{liked}.",
                  "Another film by {P}, like {L}{liked}."],
    STARS: ["{P} stars in it, as in {L}{liked}.",
            "With {P}, also in {L}{liked}.",
            "Stars {P}, like {L}{liked}."],
    WRITTEN_BY: ["Written by {P}, who also wrote {L}{liked}.",
                 "From a script by {P}, like {L}{liked}."],
    MADE_BY: ["Made by {P}, like {L}{liked}.",
              "From {P}, who also made {L}{liked}."],
    HAS_KEYWORD: ["Shares the tag '{P}' with {L}{liked}.",
                  "Tagged '{P}', like {L}{liked}."],
    HAS_GENRE: ["{Art} {G}, like {L}{liked}.",
                "Also {art} {G}, like {L}{liked}."],
    RELEASED_IN: ["From the {D}, like {L}{liked}."],
}
# Genre labels that read as nouns on their own ("a comedy"); the others take "film".
_NOUN_GENRES = {"comedy", "drama", "thriller", "western", "musical", "documentary", "romance",
                "mystery", "fantasy", "adventure", "biography", "war film"}


def _pick(options: list[str], key: str) -> str:
    """A template chosen by a stable hash: varied across items, identical across runs."""
    return options[zlib.crc32(key.encode()) % len(options)]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def genre_phrase(label: str, noun: str = "film") -> str:
    """"comedy" → "comedy"; "sci-fi" → "sci-fi film" (without the article)."""
    return label if label in _NOUN_GENRES else f"{label} {noun}"


def _decade_label(fact: Fact) -> str:
    return f"{node_value(fact.object)}s"


def _title(item: Item) -> str:
    return f"**{item.title}** ({item.year})" if item.year else f"**{item.title}**"


class Explainer:
    """Builds the one-line why and its evidence for a recommended item.

    Args:
        catalog: the catalog (titles of liked items).
        kg: the knowledge graph (``facts_of``, ``label``).
        paths: the path finder, ``kg.paths.explain``-compatible.
    """

    def __init__(self, catalog: Catalog, kg, paths):
        self.catalog = catalog
        self.kg = kg
        self.paths = paths

    def explain(self, item: Item, liked_items: list[str], liked_attributes: list[str],
                user_liked: set[str]) -> tuple[str, list[Fact]]:
        """(sentence, facts) for ``item``. ``user_liked``: the liked items the user stated or
        rated (said with "which you liked"); other liked items are references of the request."""
        try:
            found = self.paths(self.kg, item.id, liked_items, liked_attributes, max_paths=4)
        except Exception:  # noqa: BLE001 - fall back to the item's own facts
            logger.exception("path search failed for %s", item.id)
            found = []
        via_item = next((p for p in found if p.liked_item and self.catalog.get(p.liked_item)), None)
        attribute_facts = [p.facts[0] for p in found if p.liked_item is None]
        noun = "film" if item.kind == "movie" else item.kind
        if via_item is not None:
            sentence, facts = self._say_shared(item, via_item, user_liked, noun)
            extra_facts = [f for f in attribute_facts if f.object != via_item.via][:1]
            if extra_facts:
                if extra_facts[0].relation == RELEASED_IN:
                    clause, used = f"from the {_decade_label(extra_facts[0])}", extra_facts
                else:
                    clause, used = self._attributes_phrase(extra_facts, noun)
                if clause:
                    sentence = sentence[:-1] + f"; {clause}."
                    facts += used
            return sentence, facts
        if attribute_facts:
            clause, used = self._attributes_phrase(attribute_facts[:3], noun)
            if not any(f.relation in (DIRECTED_BY, MADE_BY, STARS, WRITTEN_BY) for f in used):
                director = self.kg.facts_of(item.id, (DIRECTED_BY, MADE_BY))[:1]
                if director:
                    verb = "directed by" if director[0].relation == DIRECTED_BY else "by"
                    clause += f", {verb} {director[0].object_label}"
                    used += director
            if clause:
                return clause[0].upper() + clause[1:] + ".", used
        return self.describe(item)

    # -------------------------------------------------------------- pieces
    def _say_shared(self, item: Item, path, user_liked: set[str], noun: str) -> tuple[str, list[Fact]]:
        fact = path.facts[0]
        liked = self.catalog[path.liked_item]
        template = _pick(_SHARED.get(fact.relation, _SHARED[HAS_KEYWORD]), item.id + path.via)
        label = fact.object_label
        genre = genre_phrase(label, noun)
        text = template.format(
            P=label, G=genre, art=_article(genre), Art=_article(genre).capitalize(),
            D=_decade_label(fact) if fact.relation == RELEASED_IN else label,
            L=_title(liked), liked=", which you liked" if path.liked_item in user_liked else "")
        return text, list(path.facts)

    def _attributes_phrase(self, facts: list[Fact], noun: str) -> tuple[str, list[Fact]]:
        """"a comedy from the 1990s, with Tom Hanks" from attribute facts of one item."""
        genres = [f for f in facts if f.relation == HAS_GENRE][:1]
        decades = [f for f in facts if f.relation == RELEASED_IN][:1]
        people = [f for f in facts if f.relation in (DIRECTED_BY, MADE_BY, STARS, WRITTEN_BY)][:1]
        keywords = [f for f in facts if f.relation == HAS_KEYWORD][:1]
        parts: list[str] = []
        if genres:
            phrase = genre_phrase(genres[0].object_label, noun)
            parts.append(f"{_article(phrase)} {phrase}")
        if decades:
            decade = f"from the {_decade_label(decades[0])}"
            parts.append(f"{parts.pop()} {decade}" if parts else f"{_article(noun)} {noun} {decade}")
        for f in people:
            verb = {DIRECTED_BY: "directed by", MADE_BY: "by", STARS: "with", WRITTEN_BY: "written by"}[f.relation]
            parts.append(f"{verb} {f.object_label}")
        for f in keywords:
            parts.append(f"tagged '{f.object_label}'")
        return ", ".join(parts), [*genres, *decades, *people, *keywords]

    def describe(self, item: Item) -> tuple[str, list[Fact]]:
        """The item by its own edges (genre, decade, director, a star): all KG facts."""
        noun = "film" if item.kind == "movie" else item.kind
        facts = self.kg.facts_of(item.id)
        pick = []
        for relation in (HAS_GENRE, RELEASED_IN, DIRECTED_BY, MADE_BY, STARS):
            pick += [f for f in facts if f.relation == relation][:1]
        clause, used = self._attributes_phrase(pick, noun)
        if not clause:
            return ("A popular pick in the catalog." if item.popularity else "From the catalog."), []
        return clause[0].upper() + clause[1:] + ".", used


def item_facts_for_question(kg, item: Item, question: str) -> list[Fact]:
    """The facts that answer "who directed it" etc. about one item."""
    relation = {"director": (DIRECTED_BY, MADE_BY), "cast": (STARS,), "writer": (WRITTEN_BY,),
                "genre": (HAS_GENRE,), "year": (RELEASED_IN,)}.get(question, ())
    return [f for f in kg.facts_of(item.id) if f.relation in relation]


def claims_are_edges(kg, facts: list[Fact]) -> bool:
    """True when every fact is an edge of the knowledge graph (the evaluation's check)."""
    return all(kg.has_fact(node_value(f.subject), f.relation, f.object) for f in facts
               if f.subject.startswith("item:")) and all(f.subject.startswith("item:") for f in facts)


__all__ = ["Explainer", "claims_are_edges", "genre_phrase", "item_facts_for_question", "item_node"]
