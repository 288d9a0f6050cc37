"""The validation tool's candidate recall: where gold films are lost before the ranker."""

from __future__ import annotations

from chatrec.agent.models import Constraints
from chatrec.agent.retrieve import RetrievalQuery, Retriever
from chatrec.agent.table import ItemTable
from chatrec.catalog.models import Catalog, Item
from chatrec.evaluation.tune import candidate_recall
from chatrec.learn.features import FeatureBuilder
from chatrec.learn.training import RecordedQuery


class _Fixed:
    name = "kg"

    def __init__(self, scores: dict[str, float]):
        self.scores = scores

    def __call__(self, query):
        return self.scores


def test_gold_is_traced_to_the_stage_that_loses_it():
    items = [Item(id=str(i), title=f"Film {i}", genres=["comedy" if i % 2 else "drama"]) for i in range(1000)]
    table = ItemTable(Catalog("films", items), kg=None)
    # the source scores films 0..399, best first; film 651 it never scores
    retriever = Retriever(table, [_Fixed({str(i): 1.0 - i / 800 for i in range(400)})])
    query = RetrievalQuery(constraints=Constraints(genres_all=["comedy"]))
    gold = {"1", "399", "651", "2", "not-in-catalog"}  # "2" is a drama: ruled out by the constraint
    report = candidate_recall(retriever, FeatureBuilder(table), [RecordedQuery("d:1", "d", query, gold)])
    assert {k: report[k] for k in ("gold", "in_catalog", "reachable")} == {"gold": 5, "in_catalog": 4, "reachable": 3}
    # the candidates: the fusion's best 150 and the source's best 25 (all comedies)
    assert report["in_candidates"] == 1  # film 1; film 399 is the 200th comedy the source scores
    kg = report["per_source_share_of_reachable"]["kg"]
    assert kg == {"scored": round(2 / 3, 3), "top25": round(1 / 3, 3), "top150": round(1 / 3, 3)}
