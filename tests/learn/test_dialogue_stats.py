"""Dialogue statistics: what they count, how they are stored, and that cross-fitting never lets a
dialogue's own co-mentions score it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatrec.agent.retrieve import RetrievalQuery
from chatrec.catalog.redial_dialogues import read_dialogues
from chatrec.learn.dialogue_stats import (
    DialogueCoMention,
    DialoguePopularity,
    DialogueStats,
    MentionPopularity,
)
from chatrec.learn.models import cross_fitted_sources
from chatrec.learn.training import RecordedQuery, inner_fold

FIXTURES = Path(__file__).parent.parent / "evaluation" / "fixtures"


@pytest.fixture
def dialogues():
    return read_dialogues(FIXTURES / "redial_raw.jsonl")


def test_counts_and_comentions(dialogues):
    stats = DialogueStats.fit(dialogues)
    # two messages of the recommender naming Step Brothers are one merged turn: counted once
    assert stats.recommended["111918"] == 1
    assert stats.dialogues == len(dialogues)
    # alpha 1, no shrink: P(b named | a named) = 1 for every partner of Finding Nemo
    assert DialogueCoMention(stats, alpha=1.0, shrink=0.0).scores({"154844": 1.0}) == {
        "133249": 1.0, "82894": 1.0}
    # a pseudo-count lowers what one dialogue says
    shrunk = DialogueCoMention(stats, alpha=1.0, shrink=5.0).scores({"154844": 1.0})
    assert 0 < shrunk["133249"] < 1.0
    assert MentionPopularity(stats)(None)["111918"] == pytest.approx(0.6931, abs=1e-4)


def test_dialogue_popularity_counts_what_seekers_name_too(dialogues):
    stats = DialogueStats.fit(dialogues)
    recommended, named = MentionPopularity(stats)(None), DialoguePopularity(stats)(None)
    # Finding Nemo (154844) is named only by a seeker: no recommender suggested it
    assert "154844" not in recommended
    assert named["154844"] == pytest.approx(0.6931, abs=1e-4)
    # Step Brothers (111918), named by both in one dialogue, counts once
    assert named["111918"] == pytest.approx(0.6931, abs=1e-4)
    assert set(named) == {i for d in dialogues for m in d.messages for i in m.ids}


def test_stats_survive_storage(dialogues):
    stats = DialogueStats.fit(dialogues)
    again = DialogueStats.from_json(stats.to_json())
    assert again.to_json() == stats.to_json()
    assert DialogueCoMention(again).scores({"111776": 1.0}) == DialogueCoMention(stats).scores({"111776": 1.0})


def test_cross_fitted_statistics_never_saw_the_dialogue(dialogues):
    recorded = [RecordedQuery(f"{d.conversation_id}:1", d.conversation_id,
                              RetrievalQuery(text=f"words of {d.conversation_id}"), {d.conversation_id})
                for d in dialogues]
    learnt_for = cross_fitted_sources(dialogues, recorded, folds=2)
    for record, dialogue in zip(recorded, dialogues, strict=True):
        learnt = learnt_for(record)
        stats = learnt.stats
        assert stats is not None and learnt.neighbours is not None
        # the request neighbours remember only other folds' turns
        remembered = {film for _, films in learnt.neighbours.turns for film in films}
        assert remembered == {d.conversation_id for d in dialogues
                              if inner_fold(d.conversation_id, 2) != inner_fold(dialogue.conversation_id, 2)}
        own = {i for m in dialogue.messages for i in m.ids}
        others = [d for d in dialogues if inner_fold(d.conversation_id, 2) != inner_fold(dialogue.conversation_id, 2)]
        assert stats.dialogues == len(others)
        for a in own:
            # every co-mention of the dialogue's own films comes from other dialogues
            partners = {b for d in others for b in {i for m in d.messages for i in m.ids} if a in
                        {i for m in d.messages for i in m.ids} and b != a}
            assert set(stats.together.get(a, {})) == partners


def test_films_listed_under_two_ids_are_counted_as_the_catalog_item():
    from chatrec.catalog.models import Catalog, Item
    from chatrec.catalog.redial_dialogues import Dialogue, Message
    from chatrec.learn.training import canonical_dialogues

    catalog = Catalog("films", [Item(id="1", title="Merged"), Item(id="2", title="Other")], id_aliases={"9": "1"})
    dialogue = Dialogue("c", [Message("seeker", "I liked @9 and @1", ["9", "1"]),
                              Message("recommender", "try @2 or @404", ["2", "404"])])
    canonical = canonical_dialogues([dialogue], catalog)[0]
    assert [m.ids for m in canonical.messages] == [["1"], ["2", "404"]]
    assert canonical.messages[0].text == "I liked @9 and @1"  # rendered from the raw ids
    assert dialogue.messages[0].ids == ["9", "1"]  # the input is left alone
    assert DialogueStats.fit([canonical]).together["1"] == {"2": 1, "404": 1}
