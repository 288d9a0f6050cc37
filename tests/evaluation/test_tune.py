"""Tuning helpers: the coordinate search, tuned-config loading, co-mention modes, IARD reading."""

from __future__ import annotations

import json
import re

import pytest

from chatrec.evaluation.comention import DialogueCoMention, DialogueStats
from chatrec.evaluation.redial_data import read_dialogues, read_iard
from chatrec.evaluation.tune import coordinate_search, load_tuned, split_config


def test_coordinate_search_finds_the_best_and_reuses_trials(tmp_path):
    calls = []

    def objective(config):
        calls.append(config)
        return -((config["a"] - 2) ** 2) - (config["b"] - 1) ** 2

    space = {"a": [0, 1, 2, 3], "b": [0, 1, 2]}
    best, score = coordinate_search(objective, space, {"a": 0, "b": 0}, tmp_path / "t.jsonl")
    assert best == {"a": 2, "b": 1} and score == 0
    first = len(calls)
    again, _ = coordinate_search(objective, space, {"a": 0, "b": 0}, tmp_path / "t.jsonl")
    assert again == best and len(calls) == first  # every trial came from the file


def test_tuned_config_is_split_by_owner(tmp_path):
    path = tmp_path / "best.json"
    path.write_text(
        json.dumps(
            {
                "config": {
                    "collab": 0.5,
                    "observed_seed_weight": 1.0,
                    "comention_weight": 2.0,
                    "alpha": 0.7,
                    "mention_pop_weight": 0.0,
                }
            }
        )
    )
    tuned = load_tuned(path)
    assert tuned == {
        "weights": {"collab": 0.5},
        "agent": {"observed_seed_weight": 1.0},
        "comention": {"alpha": 0.7},
        "comention_weight": 2.0,
        "mention_pop_weight": 0.0,
    }
    assert split_config({}) == ({}, {}, {})


def test_comention_modes(fixtures):
    stats = DialogueStats.fit(read_dialogues(fixtures / "redial_raw.jsonl"))
    # dialogue mode, alpha 1, no shrink: P(b named | a named) = 1 for every partner of Nemo
    assert DialogueCoMention(stats, shrink=0.0).scores({"154844": 1.0}) == {
        "133249": 1.0,
        "82894": 1.0,
    }
    directed = DialogueCoMention(stats, mode="directed", shrink=0.0)
    # after Super Troopers the recommender brought up Step Brothers, The Hangover, Anchorman
    assert directed.scores({"111776": 1.0}) == pytest.approx(
        {"111918": 1 / 3, "135571": 1 / 3, "133813": 1 / 3}
    )
    with pytest.raises(ValueError):
        DialogueCoMention(stats, mode="psychic")


def test_iard_dialogues_read_like_the_raw_release(data_dir):
    dialogues = read_iard(data_dir / "redial/iard/umap2020_IARD_Cai.json", max_id=19893)
    assert 250 < len(dialogues) < 336
    first = dialogues[0]
    assert first.messages[0].role == "seeker"
    texts = " ".join(m.text for d in dialogues for m in d.messages)
    assert not re.search(r"@\d+\s*<", texts)  # the <Title (year)> notes after mentions are gone
    assert any(m.ids for d in dialogues for m in d.messages if m.role == "recommender")


def test_refusion_reproduces_the_agent_ranking(ml_catalog, test_settings):
    """Recorded queries re-fused with the agent's own weights give exactly its ranking, and other
    weights give another ranking: what makes fast tuning trustworthy."""
    from chatrec.agent import Agent
    from chatrec.evaluation.fastfuse import Case, fuse, memoised
    from chatrec.resources import Resources

    catalog = ml_catalog.subset(
        [it.id for it in ml_catalog.popular(1500)], name="movielens-fastfuse"
    )
    resources = Resources.load(catalog, test_settings, with_index=False)
    agent = Agent(resources, store=None, llm=None)
    rankings, cases = [], []
    for session, text in (
        ("a", "I loved The Matrix, something from the 90s please"),
        ("b", "a comedy with Tom Hanks"),
    ):
        agent.respond(session, text, user_id="ml:42")
        cases.append(Case(agent.query(session), []))
        rankings.append([r.item.id for r in agent.rank(session, k=20)])
    memos = memoised(agent.retriever)
    assert fuse(memos[0].table, memos, {}, {}, cases, 20) == rankings
    assert fuse(memos[0].table, memos, {"collab": 0.0, "kg": 3.0}, {}, cases, 20) != rankings


def test_shipped_tuned_configurations_load():
    from chatrec.agent.retrieve import FusionWeights
    from chatrec.evaluation.tune import TUNED_DIR

    for name in ("redial", "sim"):
        tuned = load_tuned(TUNED_DIR / f"{name}.json")
        FusionWeights(**(tuned["weights"] or {}))  # every weight is a real FusionWeights field
        assert set(tuned["weights"]) <= set(FusionWeights.model_fields)
