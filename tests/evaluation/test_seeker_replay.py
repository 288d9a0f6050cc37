"""``chatrec eval sim --simulator seeker-replay``: real ReDial seekers' own words as the user, on
hand-written dialogues in the raw release format and in iEvaLM's preprocessed one, with the
real ReDial catalog (no vector index in the test home).

What must hold: the seeker says exactly their own messages (merged by sender, ``@id`` as the
title without its year) up to the first message naming a film they ended up liking, and nothing
after; those films are the targets, never in what the systems hear; both formats give the same
episodes; the popularity baseline's counts never include the scored dialogue's fold; a rerun —
in the same process or another one — gives the same numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chatrec.catalog.redial_dialogues import fold_of, read_dialogues

pytestmark = pytest.mark.usefixtures("data_dir")

SYSTEMS = ["agent", "popularity"]


@pytest.fixture(scope="module")
def redial(settings):
    from chatrec.catalog import load_catalog

    return load_catalog("redial", settings)


@pytest.fixture(scope="module")
def episodes(fixtures, redial, redial_names):
    from chatrec.evaluation.seeker_replay import read_episodes

    return read_episodes(fixtures / "seekers_raw.jsonl", redial, redial_names)


def _by_id(episodes):
    return {e.conversation_id: e for e in episodes[0]}


def test_the_seeker_says_their_own_words_until_a_liked_film_is_named(episodes, redial):
    found, skipped = episodes
    by_id = _by_id(episodes)
    assert sorted(by_id) == ["501", "502", "505", "506"]
    assert skipped == {
        "no film suggested and liked": 1,  # 503: the only suggestion was not liked
        "a target named before the seeker spoke": 1,  # 504: the recommender's first message
        "no target in the catalog": 1,  # 507: an id the catalog lacks
    }
    fast = by_id["501"]  # merged messages, the title as typed, cut before "Then @137615 is great"
    assert [t.text for t in fast.turns] == [
        "hey I love Fast & Furious do you know any movies like that?",
        "Yes, I saw it, it was ok",
    ]
    assert fast.turns[0].named == [redial.canonical_id("141788")]
    assert fast.targets == sorted({redial.canonical_id("137615"), redial.canonical_id("167208")})
    assert fast.ended_by == "recommender"
    # The seeker names a liked film first: the replay stops before that message.
    scary = by_id["502"]
    assert [t.text for t in scary.turns] == ["hi, i want a scary movie like The Babadook"]
    assert scary.ended_by == "seeker"
    # No questionnaire from the seeker: the respondent's answers about them.
    assert by_id["505"].targets == [redial.canonical_id("197213")]
    assert [t.text for t in by_id["505"].turns] == [
        "hello i want a mind bending sci-fi movie like Inception"
    ]
    # No message names a target: every seeker message is said; an unknown target id is dropped.
    family = by_id["506"]
    assert family.ended_by == "end" and family.targets == [redial.canonical_id("133249")]
    assert [t.text for t in family.turns] == [
        "Animated movies for my kids, we watched Finding Nemo last week",
        "Great, thank you We loved the first one",
    ]
    for episode in found:
        assert episode.fold == fold_of(episode.conversation_id, 5)
        assert episode.split == ("validation" if episode.fold == 0 else "test")
        said = " ".join(t.text for t in episode.turns).lower()
        for target in episode.targets:
            assert redial[target].title.lower() not in said


def test_raw_and_ievalm_formats_give_the_same_episodes(episodes, fixtures, redial, redial_names):
    from chatrec.evaluation.seeker_replay import read_episodes

    ievalm, skipped = read_episodes(fixtures / "seekers_ievalm.jsonl", redial, redial_names)
    assert skipped == episodes[1]
    assert [(e.conversation_id, [(t.text, t.named) for t in e.turns], e.targets, e.ended_by)
            for e in ievalm] == [
        (e.conversation_id, [(t.text, t.named) for t in e.turns], e.targets, e.ended_by)
        for e in episodes[0]
    ]


def test_popularity_counts_are_cross_fitted(fixtures, redial, settings):
    from chatrec.evaluation.seeker_replay import Recommenders, ReplayConfig
    from chatrec.resources import Resources

    resources = Resources.load(redial, settings, with_index=False, with_learnt=False)
    path = str(fixtures / "seekers_raw.jsonl")
    scored = {d.conversation_id for d in read_dialogues(fixtures / "seekers_raw.jsonl")}
    config = ReplayConfig(dialogues=path, train=path, systems=SYSTEMS, with_index=False)
    crossed = Recommenders(resources, config, scored, show_progress=False)
    assert crossed.folds.cross_fitted
    every = Recommenders(resources, config, set(), show_progress=False).popularity_counts(None)
    nemo_sequel = redial.canonical_id("75881")  # named by the recommender of 506 only (fold 0)
    assert fold_of("506", 5) == 0 and every[nemo_sequel] == 1
    assert nemo_sequel not in crossed.popularity_counts(0)
    assert crossed.popularity_counts(1)[nemo_sequel] == 1
    fast_six = redial.canonical_id("137615")  # 501, fold 4
    assert fast_six not in crossed.popularity_counts(4)
    assert crossed.popularity_counts(0)[fast_six] == 1
    # Only what human recommenders named counts, never the seeker's own films.
    assert redial.canonical_id("141788") not in every


@pytest.fixture(scope="module")
def replay_runs(settings, fixtures, tmp_path_factory):
    from chatrec.evaluation.seeker_replay import ReplayConfig, run_seeker_replay

    path = str(fixtures / "seekers_raw.jsonl")
    config = ReplayConfig(dialogues=path, train=path, systems=SYSTEMS, with_index=False)
    outs = [tmp_path_factory.mktemp("replay-a"), tmp_path_factory.mktemp("replay-b")]
    metrics = [run_seeker_replay(config, settings, out, show_progress=False) for out in outs]
    return config, outs, metrics


def test_results_have_the_measures_of_every_system_and_split(replay_runs):
    _, (out, _), _ = replay_runs
    results = json.loads((out / "results.json").read_text())
    assert results["simulator"] == "seeker-replay" and results["episodes"] == 4
    assert 0.0 <= results["success@5"] <= 1.0 and "median_turns" in results
    assert set(results["baselines"]) == {"popularity"}
    assert 0.0 <= results["baselines"]["popularity"]["success@5"] <= 1.0
    assert results["splits"]["validation"]["episodes"] == 1  # 506
    assert results["splits"]["test"]["episodes"] == 3
    assert results["input"]["training"]["mode"] == "5-fold cross-fitted by conversationId"
    assert set(results["learnt_components"]) <= {"0", "2", "1", "3", "4"}
    records = [json.loads(line)["record"] for line in open(out / "checkpoints" / "units.jsonl")]
    for record in records:
        named = set()
        for said in record["seeker"]:
            assert said  # the systems heard the seeker's words, one reply each until a success
        for name in SYSTEMS:
            played = record["systems"][name]
            assert 1 <= len(played["turns"]) <= len(record["seeker"])
            success = played["success_turn"]
            for t, turn in enumerate(played["turns"], 1):
                assert len(turn["items"]) <= 5
                hit = bool(set(turn["items"]) & set(record["targets"]))
                assert hit == (success == t)
        # The popularity baseline never shows a film the seeker named.
        if record["conversation_id"] == "501":
            named.add("141788")
            shown = {i for turn in record["systems"]["popularity"]["turns"] for i in turn["items"]}
            assert not shown & named
    report = (out / "report.md").read_text()
    assert "validation" in report and "test" in report and "Dialogue" in report


def test_a_rerun_gives_the_same_numbers(replay_runs, settings):
    from chatrec.evaluation.seeker_replay import run_seeker_replay

    config, (a, b), (ma, mb) = replay_runs

    def records(out):
        rows = [json.loads(line)["record"] for line in open(out / "checkpoints" / "units.jsonl")]
        return sorted(rows, key=lambda r: r["conversation_id"])

    assert records(a) == records(b)
    costs = ("agent_warnings", "learnt_components")  # timings
    assert {k: v for k, v in ma.items() if k not in costs} == {
        k: v for k, v in mb.items() if k not in costs
    }
    before = (a / "checkpoints" / "units.jsonl").read_text()
    again = run_seeker_replay(config, settings, a, show_progress=False)
    assert (a / "checkpoints" / "units.jsonl").read_text() == before  # resumed, nothing redone
    assert again["success@5"] == ma["success@5"]


@pytest.mark.slow
def test_a_rerun_in_another_process_gives_the_same_numbers(fixtures, tmp_path, session_home,
                                                           data_dir):
    """Two CLI runs with different hash seeds (set iteration order differs between processes)."""
    results = []
    for n, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"run{n}"
        env = {**os.environ, "CHATREC_HOME": str(session_home), "CHATREC_DATA_DIR": str(data_dir),
               "PYTHONHASHSEED": hash_seed}
        env.pop("CHATREC_LLM", None)
        done = subprocess.run(
            [sys.executable, "-m", "chatrec", "eval", "sim", "--simulator", "seeker-replay",
             "--dialogues", str(fixtures / "seekers_ievalm.jsonl"),
             "--train", str(fixtures / "seekers_raw.jsonl"), "--systems", "agent,popularity",
             "--no-index", "--quiet", "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=900,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Seeker replay" in done.stdout
        results.append(json.loads((out / "results.json").read_text()))
    keys = ("success@5", "success@5_ci", "episodes", "median_turns", "baselines", "splits")
    assert [{k: r[k] for k in keys} for r in results][0] == {k: results[1][k] for k in keys}
