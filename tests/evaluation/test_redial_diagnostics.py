"""Ranking diagnostics of the ReDial replay, on a hand-made catalog with one film under two ids
(no data needed)."""

from __future__ import annotations

from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.redial_dialogues import ScoredTurn
from chatrec.evaluation.redial_diagnostics import canonical_turn, checks_md, ranking_checks, summarise_checks


def _catalog() -> Catalog:
    items = [Item(id="1", title="Police Academy", year=1984, genres=["comedy"]),
             Item(id="3", title="Heat", year=1995, genres=["crime"]),
             Item(id="4", title="The Heat", year=2013, genres=["comedy"]),
             Item(id="5", title="Heat", year=1995, genres=["crime"])]  # a second entry, not merged
    return Catalog("t", items, id_aliases={"2": "1"})


def test_a_merged_id_resolves_to_its_film():
    catalog = _catalog()
    assert "2" in catalog and catalog["2"].id == "1" and catalog.get("2").title == "Police Academy"
    assert catalog.canonical_id("2") == "1" and catalog.canonical_id("9") is None
    assert catalog.ids == ["1", "3", "4", "5"] and len(catalog) == 4
    assert catalog.ids_of("2") == ["1", "2"]
    small = catalog.subset(["2", "4"])
    assert small.ids == ["1", "4"] and small["2"].id == "1"


def test_checks_of_one_ranking():
    catalog = _catalog()
    clean = ranking_checks(["3", "4"], 2, catalog, named_before=[])
    assert clean == {"n": 2, "k": 2, "empty": False, "short": False, "twice": [], "named_in_top10": []}
    # "Heat (1995)" twice (two entries of one title and year); the film named earlier under its
    # other id comes back
    bad = ranking_checks(["3", "5", "1"], 5, catalog, named_before=["2"])
    assert bad["twice"] == ["Heat (1995)"]
    assert bad["named_in_top10"] == ["Police Academy (1984)"]
    assert bad["short"] and not bad["empty"]
    assert ranking_checks([], 5, catalog, [])["empty"]
    # a ranking as long as the catalog allows is not short
    assert not ranking_checks(["1", "3"], 5, catalog, [], reachable=2)["short"]


def test_gold_is_judged_by_film_not_by_id():
    catalog = _catalog()
    turn = ScoredTurn(key="c:3", conversation_id="c", index=3, context=[],
                      gold=[frozenset({"2"}), frozenset({"4"})], gold_new=[frozenset({"2"}), frozenset({"4"})])
    mapped = canonical_turn(turn, catalog, earlier=["1"])
    assert mapped.gold == [frozenset({"1"}), frozenset({"4"})]
    assert mapped.gold_new == [frozenset({"4"})]  # Police Academy was named before, as "1"


def test_summary_counts_and_examples():
    catalog = _catalog()
    records = [{"turns": [
        {"key": "c:1", "constraints": {"genres_all": ["comedy"]},
         "checks": ranking_checks([], 5, catalog, []),
         "gold": [{"ids": ["3"], "new": True, "in_catalog": True, "filtered": True}]},
        {"key": "c:3", "constraints": {},
         "checks": ranking_checks(["3", "5"], 2, catalog, ["1"]),
         "gold": [{"ids": ["4"], "new": True, "in_catalog": True, "filtered": False},
                  {"ids": ["1"], "new": False, "in_catalog": True, "filtered": True}]},
    ]}]
    summary = summarise_checks(records, catalog)
    assert (summary["rankings"], summary["empty"], summary["with_a_film_twice"]) == (2, 1, 1)
    assert summary["new_gold"] == 2 and summary["new_gold_excluded_by_constraints"] == 1
    assert summary["new_gold_excluded_share"] == 0.5
    assert summary["excluded_with_constraint"] == {"genres_all": 1}
    assert summary["examples"]["gold_excluded"][0]["gold"] == ["Heat (1995)"]
    report = "\n".join(checks_md(summary))
    assert "| empty rankings | 1 | 0 |" in report and "1 of 2 (50.0%)" in report
