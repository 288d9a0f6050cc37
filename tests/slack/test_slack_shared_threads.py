"""Threads several people talk in, over signed HTTP requests: the thread's session keeps the
person who started it, every speaker's likes go to their own profile, and ``/chatrec forget``
removes the forgetting person's words from the threads they spoke in, whoever started them."""

from __future__ import annotations

import json

from slack_support import wait_until

from chatrec.testing.slack import command, mention_event

ALICE, BOB = "U0ALICE", "U0BOB"
THREAD = "1710009000.000100"
SESSION = f"slack:T0CHATREC:C0MOVIES:{THREAD}"


def user(slack_user: str) -> str:
    return f"slack:T0CHATREC:{slack_user}"


def converse(send, slack_api, bot, alice_says: str, bob_says: str) -> None:
    """Alice starts a thread, Bob answers in it, each waits for the bot's reply."""
    send("events_api", mention_event(alice_says, user=ALICE, ts=THREAD))
    slack_api.wait_for("chat.postMessage")
    send("events_api", mention_event(bob_says, user=BOB, ts="1710009000.000200", thread_ts=THREAD))
    slack_api.wait_for("chat.postMessage", 2)
    wait_until(lambda: bot.stats.replies == 2)


def said(bot, session_id: str) -> list[str]:
    return [turn.text for turn in bot.agent.session(session_id).turns]


def test_a_thread_keeps_its_creator_and_each_speaker_likes_for_themselves(send, slack_api, bot):
    converse(send, slack_api, bot, "a comedy from the 90s please", "I loved Heat, something like it")
    assert bot.agent.session(SESSION).user_id == user(ALICE)
    heat = bot.agent.catalog.find_title("Heat")[0].id
    assert heat in bot.agent.user_profile(user(BOB)).liked_items
    assert heat not in bot.agent.user_profile(user(ALICE)).liked_items


def test_forget_removes_a_speakers_words_from_someone_elses_thread(send, slack_api, bot):
    bob_says = "I loved Heat, and my secret is pistachio ice cream"
    converse(send, slack_api, bot, "a comedy from the 90s please", bob_says)
    assert bob_says in said(bot, SESSION)

    url = slack_api.response_url("cmd")
    send("commands", command("forget", url, user=BOB))
    slack_api.wait_for("respond:cmd")
    assert bob_says not in json.dumps(bot.agent.session(SESSION).model_dump(mode="json"))
    assert "a comedy from the 90s please" in said(bot, SESSION)       # alice's words stay hers

    send("commands", command("profile json", url, user=ALICE))
    exported = slack_api.wait_for("respond:cmd", 2)[1].data["text"]
    assert "pistachio" not in exported


def test_the_creators_forget_leaves_nothing_of_theirs_in_others_exports(send, slack_api, bot):
    alice_says = "a comedy from the 90s, my secret is a tattoo of a fox"
    converse(send, slack_api, bot, alice_says, "I loved Heat, something like it")
    url = slack_api.response_url("cmd")
    send("commands", command("forget", url, user=ALICE))
    slack_api.wait_for("respond:cmd")
    send("commands", command("profile json", url, user=BOB))
    exported = slack_api.wait_for("respond:cmd", 2)[1].data["text"]
    assert "tattoo of a fox" not in exported
    assert "tattoo of a fox" not in json.dumps(bot.agent.session(SESSION).model_dump(mode="json"))
