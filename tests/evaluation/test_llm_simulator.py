"""``eval sim --simulator llm``: the iEvaLM-style LLM user against a real OpenAI-compatible
server on loopback (scripted answers), on the real MovieLens hold-out (no vector index).

What must hold: the LLM's messages are what the recommenders hear; its answers are seeded
(temperature 0, the run's seed in every request) and cached, so a rerun makes no request and
gives the same results; the simulator never sees the title, and a message naming it (or empty,
garbage, too long) is replaced by the scripted one and counted; no LLM → one clear error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chatrec.errors import ConfigError
from chatrec.evaluation.llm_user import leaks_title, vet
from chatrec.evaluation.simulate import SimConfig, pick_targets, run_sim
from chatrec.testing.llm_servers import (
    Fail,
    LlamaCppServer,
    Respond,
    ScriptedLLMServer,
    Seen,
    llama_server_missing,
)

pytestmark = pytest.mark.usefixtures("data_dir")

SYSTEMS = ["agent", "popularity", "collab"]
LINES = [
    "Hi, I want a movie I can get lost in tonight.",
    "No, not those. Something closer to what I described, please.",
    "Still not it, keep looking along those lines.",
]


def _own_messages(seen: Seen) -> int:
    return sum(m.get("role") == "assistant" for m in seen.messages)


def _cooperative(seen: Seen) -> Respond:
    # A different line per turn, so no message repeats the seeker's own earlier one.
    return Respond(LINES[_own_messages(seen) % len(LINES)])


def _with_llm(settings, server: ScriptedLLMServer):
    return settings.model_copy(
        update={"llm": server.model, "llm_base_url": server.url, "llm_timeout": 5.0}
    )


def _run(config: SimConfig, settings, out, cache) -> dict:
    """A quiet run without the vector index, caching the simulator's answers in ``cache``."""
    return run_sim(config, settings, out, show_progress=False, with_index=False, llm_cache=cache)


def _records(out) -> list[dict]:
    return [json.loads(line)["record"] for line in open(out / "checkpoints" / "units.jsonl")]


def _without_timings(out) -> dict:
    """results.json less what may differ between identical runs: timings, and the checkout's
    state (others may commit or edit between two runs)."""
    results = json.loads((out / "results.json").read_text())
    results.pop("timings_s")
    results["provenance"].pop("git")
    return results


@pytest.fixture(scope="module")
def llm_runs(settings, tmp_path_factory):
    """The same LLM run twice into two directories sharing one response cache."""
    config = SimConfig(users=3, turns=3, seed=5, systems=SYSTEMS, simulator="llm")
    cache = tmp_path_factory.mktemp("llm-cache")
    outs = [tmp_path_factory.mktemp("llm-a"), tmp_path_factory.mktemp("llm-b")]
    requests = []
    for out in outs:
        with ScriptedLLMServer(_cooperative) as server:
            _run(config, _with_llm(settings, server), out, cache)
            requests.append(list(server.seen))
    return config, outs, requests


def test_llm_run_writes_results_and_sends_the_llm_messages(llm_runs, movielens):
    config, (out, _), (seen, _) = llm_runs
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["simulator"] == "llm"
    assert results["config"]["simulator_model"] == "scripted-model"
    assert set(results["systems"]) == set(SYSTEMS) and results["n_users"] == 3
    llm = results["llm_simulator"]
    assert llm["utterances"] > 0 and llm["used"] + llm["replaced"] == llm["utterances"]
    assert llm["replaced"] == 0, llm["by_reason"]
    assert results["timings_s"]["llm_calls"] == len(seen) == llm["distinct_calls"] > 0
    # Seeded and greedy, every request.
    assert all(s.body.get("seed") == config.seed for s in seen)
    assert all(s.body.get("temperature") == 0.0 for s in seen)
    assert all(s.body.get("max_tokens") == 80 for s in seen)  # the limit llama.cpp's server reads
    # The simulator is told attributes, never the title.
    targets = {r["target"]: movielens[r["target"]].title for r in _records(out)}
    # (The recommender's lines may name any film: another user's liked history can hold a target.)
    for request in seen:
        told = "\n".join(line for line in request.prompt_text.splitlines()
                          if not line.lstrip().startswith("Recommender:"))
        assert not any(title in told for title in targets.values()), told
    # What the recommenders heard is the LLM's text; the accept rule stays in code.
    for record in _records(out):
        for dialogue in record["systems"].values():
            for turn in dialogue["turns"]:
                assert (
                    turn["llm"]["used"] and turn["user"] in LINES and turn["templates"] == ["llm"]
                )
            if dialogue["hit_turn"]:
                assert record["target"] in dialogue["turns"][-1]["items"]
    report = (out / "report.md").read_text()
    assert "llm utterances replaced: 0" in report and "[LLM]" in report


def test_llm_rerun_makes_no_calls_and_is_exact(llm_runs):
    _, (a, b), (_, seen_again) = llm_runs
    assert seen_again == []
    assert json.loads((b / "results.json").read_text())["timings_s"]["llm_calls"] == 0
    assert _without_timings(a) == _without_timings(b)

    def strip(records):
        return [
            {**r, "systems": {n: {**s, "seconds": 0} for n, s in r["systems"].items()}}
            for r in records
        ]

    assert strip(_records(a)) == strip(_records(b))


def test_leaked_title_and_bad_messages_are_replaced_and_counted(settings, movielens, tmp_path):
    config = SimConfig(users=1, turns=3, seed=11, systems=["agent", "popularity"], simulator="llm")
    ((_, target),) = pick_targets(movielens, config)
    title = movielens[target].title

    def mischief(seen: Seen) -> Respond:
        return Respond(
            [
                f"Oh I know, it's {title.upper()}!",  # normalised match
                "I want " + "a really long rambling message " * 20,
                "!!! ??? ... ###",
            ][min(_own_messages(seen), 2)]
        )

    with ScriptedLLMServer(mischief) as server:
        _run(config, _with_llm(settings, server), tmp_path, tmp_path / "cache")
    expected = ["title", "too_long", "garbage"]
    replaced = 0
    for dialogue in _records(tmp_path)[0]["systems"].values():
        for n, turn in enumerate(dialogue["turns"]):
            assert turn["llm"]["reason"] == expected[n] and not turn["llm"]["used"]
            assert turn["user"] == turn["llm"]["scripted"]  # the scripted message went out
            assert title.lower() not in turn["user"].lower()
            replaced += 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["llm_simulator"]["replaced"] == replaced > 0
    assert results["llm_simulator"]["by_reason"]["title"] >= 1
    assert f"llm utterances replaced: {replaced}**" in (tmp_path / "report.md").read_text()


def test_no_llm_configured_is_one_clear_error(settings, tmp_path):
    with pytest.raises(ConfigError, match="CHATREC_LLM_BASE_URL"):
        run_sim(SimConfig(users=2, simulator="llm"), settings, tmp_path, show_progress=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATREC_LLM")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatrec",
            "eval",
            "sim",
            "--simulator",
            "llm",
            "--users",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "cli"),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "CHATREC_LLM=" in lines[0] and "CHATREC_LLM_BASE_URL" in lines[0]


def test_a_dead_llm_server_stops_the_run(settings, tmp_path):
    config = SimConfig(users=2, turns=2, seed=2, systems=["popularity"], simulator="llm")
    server = ScriptedLLMServer(default=Fail(500))
    with server, pytest.raises(ConfigError, match="failed 3 calls in a row"):
        no_retry = _with_llm(settings, server).model_copy(update={"llm_max_retries": 0})
        _run(config, no_retry, tmp_path, tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.parametrize(
    ("text", "title", "leaks"),
    [
        ("Is it the matrix?", "The Matrix", True),
        ("something like Matrix, The", "The Matrix", True),
        ("I can't stand the heat in summer", "Heat", False),
        ("Heat was great, something like it", "Heat", True),
        ("is it HEAT?", "Heat", True),
        ("one like 1917", "1917", True),
        ("un film comme Amelie", "Amélie", True),
        (
            "a lord of the rings the return of the king feel",
            "The Lord of the Rings: The Return of the King",
            True,
        ),
        ("Schindler's List!", "Schindler's List", True),
        ("something about a list", "Schindler's List", False),
    ],
)
def test_title_leak_matching(text, title, leaks):
    assert leaks_title(text, [title]) is leaks


def test_vetting_cleans_and_rejects():
    from chatrec.evaluation.llm_user import build_prompt

    prompt = build_prompt(
        [],
        [("user", "Recommender: hi"), ("assistant", "A comedy please.")],
        "Recommender: Here are some movies for you.",
        "it is a comedy",
    )
    assert vet('"Seeker: Not those, something funnier."\nRecommender: ok', [], prompt) == (
        "Not those, something funnier.",
        None,
    )
    assert vet("   ", [], prompt) == (None, "empty")
    assert vet("A comedy please.", [], prompt) == (None, "repeat")
    assert vet("I would recommend Heat, you might like it.", [], prompt) == (None, "role")
    assert vet("You have one particular movie in mind, right", [], prompt) == (None, "echo")
    assert vet("movie " * 10, [], prompt) == (None, "garbage")
    assert vet("Movies: Heat (1995; crime, thriller)", [], prompt) == (None, "echo")
    assert vet("I'd be happy to recommend one for you.", [], prompt) == (None, "role")


@pytest.mark.slow
@pytest.mark.llm_server
def test_tiny_real_model_two_users(settings, tmp_path):
    missing = llama_server_missing()
    if missing:
        pytest.skip(missing)
    config = SimConfig(users=2, turns=2, seed=0, systems=["agent", "popularity"], simulator="llm")
    with LlamaCppServer() as server:
        real = settings.model_copy(
            update={"llm": "smollm2", "llm_base_url": server.url, "llm_timeout": 90.0}
        )
        for out in (tmp_path / "a", tmp_path / "b"):
            _run(config, real, out, tmp_path / "cache")
    first, again = (json.loads((tmp_path / d / "results.json").read_text()) for d in "ab")
    assert first["llm_simulator"]["utterances"] > 0 and first["timings_s"]["llm_calls"] > 0
    assert again["timings_s"]["llm_calls"] == 0
    assert _without_timings(tmp_path / "a") == _without_timings(tmp_path / "b")
