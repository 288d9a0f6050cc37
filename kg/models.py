"""The knowledge graph's public data types: node ids and ``Fact`` (one typed edge)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chatrec.catalog.normalize import label_key

# Edge types, item → entity. Everything an explanation may state is one of these edges.
DIRECTED_BY = "directed_by"
STARS = "stars"
WRITTEN_BY = "written_by"
MADE_BY = "made_by"          # creators of non-movie items (brand, author)
HAS_GENRE = "has_genre"
HAS_KEYWORD = "has_keyword"
RELEASED_IN = "released_in"  # item → decade
RELATIONS = (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY, HAS_GENRE, HAS_KEYWORD, RELEASED_IN)

# Node kinds (the prefix of a node id).
ITEM, PERSON, GENRE, KEYWORD, DECADE = "item", "person", "genre", "keyword", "decade"


def item_node(item_id: str) -> str:
    return f"{ITEM}:{item_id}"


def person_node(name: str) -> str:
    return f"{PERSON}:{label_key(name)}"


def genre_node(genre: str) -> str:
    return f"{GENRE}:{label_key(genre)}"


def keyword_node(keyword: str) -> str:
    return f"{KEYWORD}:{label_key(keyword)}"


def decade_node(decade: int) -> str:
    return f"{DECADE}:{decade}"


def node_kind(node: str) -> str:
    return node.split(":", 1)[0]


def node_value(node: str) -> str:
    return node.split(":", 1)[1]


class Fact(BaseModel):
    """One edge of the knowledge graph, ready to be said: (subject, relation, object) with labels.

    ``subject`` is always an item node ("item:2571") and ``object`` an entity node
    ("person:lana wachowski"); labels are the human spellings ("The Matrix (1999)", "Lana Wachowski").
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    relation: str
    object: str
    subject_label: str
    object_label: str

    def __str__(self) -> str:
        return f"{self.subject_label} —{self.relation}→ {self.object_label}"
