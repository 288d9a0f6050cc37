"""Parsing ReDial for replay: raw release and iEvaLM formats, merging, scored turns, gold, and
that whole-dialogue fields (movieMentions, questionnaires) never reach anything."""

from __future__ import annotations

import json
import re

import pytest

from chatrec.catalog.redial_dialogues import (
    NameFinder,
    detect_format,
    fold_of,
    merge,
    read_dialogues,
    read_iard,
    read_processed_turns,
    render,
    scored_turns,
)
from chatrec.errors import CatalogFormatError
from chatrec.learn.dialogue_stats import DialogueStats

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
    assert POISON not in stats.in_dialogues and POISON not in stats.recommended
    assert all(POISON not in partners for partners in stats.together.values())


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


def test_iard_dialogues_read_like_the_raw_release(data_dir):
    dialogues = read_iard(data_dir / "redial/iard/umap2020_IARD_Cai.json", max_id=19893)
    assert 250 < len(dialogues) < 336
    first = dialogues[0]
    assert first.messages[0].role == "seeker"
    texts = " ".join(m.text for d in dialogues for m in d.messages)
    assert not re.search(r"@\d+\s*<", texts)  # the <Title (year)> notes after mentions are gone
    assert any(m.ids for d in dialogues for m in d.messages if m.role == "recommender")
