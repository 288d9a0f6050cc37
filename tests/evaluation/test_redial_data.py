"""Parsing ReDial for replay: raw release and iEvaLM formats, merging, scored turns, gold, and
that whole-dialogue fields (movieMentions, questionnaires) never reach anything."""

from __future__ import annotations

import json

import pytest

from chatrec.errors import CatalogFormatError
from chatrec.evaluation.comention import DialogueCoMention, DialogueStats, Folded, fit_sources
from chatrec.evaluation.redial_data import (
    NameFinder,
    detect_format,
    fold_of,
    merge,
    read_dialogues,
    read_processed_turns,
    render,
    scored_turns,
)

POISON = "999999"


def test_raw_release_is_merged_by_sender(fixtures):
    dialogues = read_dialogues(fixtures / "redial_raw.jsonl")
    first = dialogues[0]
    assert first.conversation_id == "391"
    # 9 raw messages: seeker, seeker | rec | seeker | rec, rec | seeker | rec | seeker
    assert [m.role for m in first.messages] == [
        "seeker",
        "recommender",
        "seeker",
        "recommender",
        "seeker",
        "recommender",
        "seeker",
    ]
    assert first.messages[0].text == "Hi there! I'm looking for a funny movie like @111776"
    assert first.messages[3].ids == ["111918", "135571"]


def test_merging_twice_changes_nothing(fixtures):
    merged = read_dialogues(fixtures / "redial_raw.jsonl")[0].messages
    again = merge([(m.role, m.text) for m in merged], "seeker")
    assert [(m.role, m.text) for m in again] == [(m.role, m.text) for m in merged]


def test_scored_turns_gold_and_new(fixtures):
    dialogue = read_dialogues(fixtures / "redial_raw.jsonl")[0]
    turns = scored_turns(dialogue)
    # "What kind of comedy?" has no @id: not scored. Two scored turns remain.
    assert [t.index for t in turns] == [3, 5]
    first, second = turns
    assert [sorted(g) for g in first.gold] == [["111918"], ["135571"]]
    assert first.n_gold == first.n_gold_new == 2
    assert len(first.context) == 3 and first.context[-1].role == "seeker"
    # @133813 was named by the seeker earlier: gold, but not new
    assert [sorted(g) for g in second.gold] == [["133813"]]
    assert second.gold_new == [] and second.n_gold_new == 0


def test_leaky_fields_are_never_read(fixtures):
    dialogues = read_dialogues(fixtures / "redial_raw.jsonl")
    everything = json.dumps([[m.__dict__ for m in d.messages] for d in dialogues])
    assert POISON not in everything
    stats = DialogueStats.fit(dialogues)
    assert POISON not in stats.mentioned and POISON not in stats.recommended
    assert all(POISON not in following for following in stats.follows.values())


def test_render_replaces_ids_by_names(redial_names):
    text = render("I loved @133813 and @0000001 !", redial_names)
    assert text == "I loved Anchorman: The Legend of Ron Burgundy (2004) and !"


def test_processed_turns(fixtures, redial_names):
    turns = read_processed_turns(fixtures / "redial_turns.jsonl", redial_names)
    assert len(turns) == 2
    nemo, inception = turns
    assert [m.role for m in nemo.context] == ["recommender", "seeker"]
    assert [sorted(g) for g in nemo.gold] == [["133249"], ["82894"]] and nemo.n_gold_new == 2
    # the empty first entry is a placeholder; Inception is in the context: gold but not new;
    # the invented title is unmatched and counts as a (new) miss
    assert [m.role for m in inception.context] == ["seeker"]
    assert inception.unmatched == ["Not A Real Movie (1901)"] and inception.unmatched_new == [
        "Not A Real Movie (1901)"
    ]
    assert inception.n_gold == 3 and inception.n_gold_new == 2


def test_title_groups_match_any_id(redial_names, tmp_path):
    # "Meet the Parents (2000)" is the name of two ReDial ids: one gold group holding both
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(
            {
                "dialog_id": "1",
                "turn_id": 1,
                "context": ["hi"],
                "rec": ["Meet the Parents (2000)"],
                "resp": "",
            }
        )
        + "\n"
    )
    (turn,) = read_processed_turns(path, redial_names)
    assert turn.gold == [frozenset({"106317", "170722"})]


def test_formats_are_detected(fixtures, tmp_path):
    assert detect_format(fixtures / "redial_raw.jsonl") == "dialogues"
    assert detect_format(fixtures / "redial_turns.jsonl") == "turns"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"foo": 1}\n')
    with pytest.raises(CatalogFormatError):
        detect_format(bad)


def test_name_finder(redial_names):
    finder = NameFinder(redial_names)
    text = "we watched Finding Nemo (2003) and The Hangover (2009), also 1999 stuff (1999)"
    assert finder.find(text) == ["154844", "135571"]


def test_folds_are_stable_and_balanced():
    assert fold_of("391") == fold_of("391")
    counts = [0] * 5
    for cid in range(1000):
        counts[fold_of(str(cid))] += 1
    assert min(counts) > 150


def test_comention_counts_follow_order(fixtures):
    stats = DialogueStats.fit(read_dialogues(fixtures / "redial_raw.jsonl"))
    # Super Troopers and Anchorman were named before the recommender brought up Step Brothers
    assert stats.follows["111776"]["111918"] == 1 and stats.follows["133813"]["111918"] == 1
    # two messages of the recommender naming Step Brothers are one merged turn: counted once
    assert stats.recommended["111918"] == 1
    # Anchorman came back after Step Brothers had been named
    assert stats.follows["111918"]["133813"] == 1 and "133813" not in stats.follows["133813"]
    # nothing follows what was mentioned only at the very end
    source = DialogueCoMention(stats)
    scores = source.scores({"154844": 1.0})
    assert set(scores) == {"133249", "82894"}


def test_folded_sources_when_training_overlaps_scoring(fixtures):
    train = read_dialogues(fixtures / "redial_raw.jsonl")
    sources, info = fit_sources(train, {d.conversation_id for d in train}, folds=5)
    assert info["mode"].startswith("5-fold")
    assert isinstance(sources["comention"], Folded)
    fold = fold_of("402")
    sources["comention"].use(fold)
    # dialogue 402's own co-mentions are not in the statistics its fold sees
    model = sources["comention"].per_fold[fold]
    assert "133249" not in model.stats.follows.get("154844", {})
    disjoint, info = fit_sources(train, {"not-in-train"})
    assert info["mode"] == "disjoint" and isinstance(disjoint["comention"], DialogueCoMention)
