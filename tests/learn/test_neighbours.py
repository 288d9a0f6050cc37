"""The learnt sources that read the request: request neighbours (what recommenders suggested
after similar requests in training dialogues) and mention popularity conditioned on the genres
the dialogue leans to."""

from __future__ import annotations

import numpy as np

from chatrec.agent.models import Constraints
from chatrec.agent.retrieve import RetrievalQuery
from chatrec.agent.table import ItemTable
from chatrec.catalog.models import Catalog, Item
from chatrec.learn.dialogue_stats import DialogueStats, GenreMentionPopularity
from chatrec.learn.genres import GenreProfile
from chatrec.learn.neighbours import RequestNeighbours, query_tokens
from chatrec.learn.training import RecordedQuery


def _recorded() -> list[RecordedQuery]:
    turns = [
        ("d1", RetrievalQuery(text="scary ghosts haunted house"), {"conjuring"}),
        ("d2", RetrievalQuery(text="something scary", seeds={"it": 1.0}), {"insidious", "conjuring"}),
        ("d3", RetrievalQuery(text="funny romance", liked_attributes=["genre:comedy"]), {"notting"}),
        ("d4", RetrievalQuery(), {"never-asked"}),  # a turn that said nothing: not remembered
    ]
    return [RecordedQuery(f"{d}:1", d, q, answers) for d, q, answers in turns]


def test_films_suggested_after_similar_requests_score_first():
    neighbours = RequestNeighbours.fit(_recorded(), k=10)
    assert len(neighbours.turns) == 3
    scores = neighbours(RetrievalQuery(text="a scary film about ghosts"))
    assert max(scores, key=scores.__getitem__) == "conjuring"  # suggested after both scary requests
    assert "notting" not in scores and "never-asked" not in scores
    # a liked film is part of the request too
    by_film = neighbours(RetrievalQuery(seeds={"it": 1.0}))
    assert set(by_film) == {"insidious", "conjuring"}
    # a stated genre reads like a liked one
    comedy = neighbours(RetrievalQuery(constraints=Constraints(genres_all=["comedy"])))
    assert set(comedy) == {"notting"}
    assert neighbours(RetrievalQuery()) == {}


def test_neighbours_survive_storage():
    neighbours = RequestNeighbours.fit(_recorded(), k=10)
    again = RequestNeighbours.from_json(neighbours.to_json())
    query = RetrievalQuery(text="scary", seeds={"it": 1.0})
    assert again(query) == neighbours(query)
    assert query_tokens(query) == ["scary", "item:it"]


def test_mention_popularity_follows_the_genres_asked_for():
    items = [Item(id="drama", title="A Drama", genres=["drama"]),
             Item(id="comedy", title="A Comedy", genres=["comedy"]),
             Item(id="other", title="Never Suggested", genres=["comedy"])]
    table = ItemTable(Catalog("films", items), kg=None)
    stats = DialogueStats()
    stats.recommended.update({"drama": 9, "comedy": 3})
    source = GenreMentionPopularity(stats, GenreProfile(table))
    plain = source(RetrievalQuery())
    assert plain[table.pos["drama"]] > plain[table.pos["comedy"]] > 0 == plain[table.pos["other"]]
    comedy = source(RetrievalQuery(liked_attributes=["genre:comedy"]))
    assert comedy[table.pos["comedy"]] > comedy[table.pos["drama"]] > 0
    assert np.allclose(source(RetrievalQuery(seeds={"comedy": 1.0})), comedy)
