"""The agent's side of "identity is the key to data" and of honest errors: a session keeps the
user who started it, a speaker's likes go to the speaker, a persona is read-only, wrong types are
a clear ``ValueError``, ids are bounded, lone surrogates are cleaned, and a user's text echoed
back never becomes a live link."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ALICE, BOB = "web:alice", "web:bob"


def test_a_session_keeps_its_creator_and_a_speakers_likes_are_their_own(agent):
    agent.respond("shared", "a comedy from the 90s please", user_id=ALICE)
    agent.respond("shared", "I loved Heat, something like it", user_id=BOB)
    heat = agent.catalog.find_title("Heat")[0].id
    assert agent.session("shared").user_id == ALICE
    assert heat in agent.user_profile(BOB).liked_items
    assert heat not in agent.user_profile(ALICE).liked_items
    shown = agent.session("shared").last_shown[0].item_id
    agent.feedback("shared", shown, "disliked", user_id=BOB)
    assert agent.session("shared").user_id == ALICE
    assert shown in agent.user_profile(BOB).disliked_items
    assert shown not in agent.user_profile(ALICE).disliked_items


def test_forgetting_a_speaker_removes_their_words_from_others_sessions(agent):
    agent.respond("alices", "a comedy from the 90s please", user_id=ALICE)
    agent.respond("alices", "my secret is pistachio, I loved Heat", user_id=BOB)
    agent.forget(BOB)
    state = json.dumps(agent.session("alices").model_dump(mode="json"))
    assert "pistachio" not in state and "a comedy from the 90s please" in state
    assert "pistachio" not in json.dumps(agent.profile(ALICE))


def test_a_persona_is_read_only(agent):
    persona = "ml:414"
    before = agent.user_profile(persona).model_dump(mode="json")
    reply = agent.respond("persona-tab", "I loved Heat, something like it", user_id=ALICE, persona=persona)
    assert reply.recommendations
    agent.feedback("persona-tab", reply.recommendations[0].item.id, "liked", user_id=ALICE)
    assert agent.user_profile(persona).model_dump(mode="json") == before
    assert agent.session("persona-tab").user_id == ALICE
    assert reply.recommendations[0].item.id in agent.user_profile(ALICE).liked_items


@pytest.mark.parametrize("call", [
    lambda a: a.rank("s", k="5"),
    lambda a: a.rank("s", k=-1),
    lambda a: a.respond("s", "hi", user_id=["web:alice"]),
    lambda a: a.respond(["s"], "hi"),
    lambda a: a.respond("s" * 10_000, "hi"),
    lambda a: a.respond("s", "hi", user_id="web:" + "a" * 10_000),
    lambda a: a.feedback("s", 42, "liked"),
    lambda a: a.profile({"user": 1}),
    lambda a: a.forget(None),
], ids=["k-str", "k-negative", "user-list", "session-list", "session-long", "user-long",
        "item-int", "profile-dict", "forget-none"])
def test_wrong_types_and_unbounded_ids_are_a_clear_value_error(agent, call):
    with pytest.raises(ValueError) as raised:
        call(agent)
    assert type(raised.value).__module__.split(".")[0] in ("builtins", "chatrec", "pydantic_core")
    assert "numpy" not in str(raised.value) and "has no attribute" not in str(raised.value)


def test_a_lone_surrogate_is_cleaned_and_the_turn_kept(agent):
    reply = agent.respond("s", "a comedy from the 90s \ud800 please")
    assert reply.recommendations and "\ud800" not in reply.text
    assert "internal error" not in " ".join(reply.trace.notes)
    assert agent.session("s").turns and "\ud800" not in agent.session("s").turns[0].text


def test_the_cli_does_not_print_a_traceback_for_undecodable_input(tmp_path, data_dir):
    # A lone surrogate's bytes (CESU-8) in argv decode to surrogate escapes in Python.
    message = os.fsencode("a comedy ") + b"\xed\xa0\x80" + os.fsencode(" please")
    env = {**os.environ, "CHATREC_HOME": os.environ["CHATREC_HOME"], "CHATREC_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-m", "chatrec", "chat", "-m", message],
                          capture_output=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"Traceback" not in done.stderr + done.stdout
    assert b"something went wrong" not in done.stdout


@pytest.mark.parametrize("text", [
    'I loved "Blorptastic [x](http://evil.example/steal)"',
    'I loved "The [Free](javascript:alert(1)) Money"',
    'I loved "Blorptastic <http://evil.example> www.evil.example"',
])
def test_an_echoed_title_is_never_a_live_link(agent, text):
    reply = agent.respond("s", text)
    assert "couldn't find" in reply.text
    assert "](" not in reply.text and "<http" not in reply.text
    assert "evil.example" not in reply.text


@pytest.mark.parametrize("option", ["--session", "--user"])
def test_the_cli_refuses_an_oversized_id_in_one_line(option):
    from typer.testing import CliRunner

    from chatrec.cli import app

    result = CliRunner().invoke(app, ["chat", option, "x" * 300, "-m", "hi"])
    assert result.exit_code == 2
    assert "must be 1 to 200 characters" in result.output and "Traceback" not in result.output
