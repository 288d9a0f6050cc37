"""HTTP mode end to end: the real Bolt app served by uvicorn on loopback, requests signed with
Slack's scheme, and a stand-in Web API recording what the bot posts."""

from __future__ import annotations

import json
import time

import httpx
from slack_support import BOT_TOKEN, GatedAgent, Sender, mention_and_like, wait_until

from chatrec.slack import blocks as B
from chatrec.slack.serve import HttpServerThread
from chatrec.testing.slack import block_action, command, dm_event, mention_event


class BrokenAgent(GatedAgent):
    def respond(self, *args, **kwargs):
        raise RuntimeError("disk on fire at /srv/secret/path")


def rec_sections(call) -> list[dict]:
    return [b for b in call.data["blocks"] if b.get("block_id", "").startswith(B.REC_BLOCK)]


def item_ids(call) -> list[str]:
    return [b["block_id"][len(B.REC_BLOCK) :] for b in rec_sections(call)]


# ------------------------------------------------------------------ protocol
def test_url_verification_challenge_is_answered(send):
    response = send(
        "events_api",
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        },
    )
    assert response.status_code == 200
    assert response.json()["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


def test_bad_signature_and_stale_timestamp_are_refused(send, slack_api, bot, server):
    assert send("events_api", mention_event("a comedy"), secret="not-the-secret").status_code == 401
    stale = int(time.time()) - 6 * 60
    assert send("events_api", mention_event("a comedy"), timestamp=stale).status_code == 401
    unsigned = httpx.post(
        server.url,
        content=b'{"type":"event_callback"}',
        headers={"content-type": "application/json"},
    )
    assert unsigned.status_code == 401
    assert httpx.get(server.url.replace("/slack/events", "/health")).json() == {"ok": True}
    # A valid request afterwards is answered, and it is the only answer.
    assert send("events_api", mention_event("a comedy")).status_code == 200
    slack_api.wait_for("chat.postMessage")
    wait_until(lambda: bot.stats.replies == 1)
    assert len(slack_api.of("chat.postMessage")) == 1


# ------------------------------------------------------------------ messages
def test_mention_is_acked_before_the_work_and_answered_in_its_thread(
    make_agent, make_bot, slack_api
):
    agent = GatedAgent(make_agent())
    bot = make_bot(agent)
    with HttpServerThread(bot) as server:
        send = Sender(server.url)
        body = mention_event("something like Inception", ts="1710000100.000100")
        started = time.perf_counter()
        response = send("events_api", body)
        ack_ms = (time.perf_counter() - started) * 1000
        assert response.status_code == 200
        assert slack_api.of("chat.postMessage") == []  # acked while the turn still waits
        agent.gate.set()
        call = slack_api.wait_for("chat.postMessage")[0]
    print(f"ack {ack_ms:.1f} ms")
    assert call.authorization == f"Bearer {BOT_TOKEN}"
    assert call.data["channel"] == "C0MOVIES" and call.data["thread_ts"] == "1710000100.000100"
    assert call.data["unfurl_links"] is False
    session_id = "slack:T0CHATREC:C0MOVIES:1710000100.000100"
    state = agent.session(session_id)
    assert state.user_id == "slack:T0CHATREC:U0ALICE"
    assert state.turns[0].text == "something like Inception"  # the mention is stripped
    blocks = call.data["blocks"]
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"].endswith(":")
    shown = [s.item_id for s in state.last_shown]
    assert item_ids(call) == shown and len(shown) == 5
    catalog = agent.catalog
    for section in rec_sections(call):
        item = catalog[section["block_id"][len(B.REC_BLOCK) :]]
        text = section["text"]["text"]
        assert f"{item.title}* ({item.year})" in text
        assert ", ".join(item.genres) in text
        explanation = next(s.explanation for s in state.last_shown if s.item_id == item.id)
        assert explanation.replace("**", "*") in text
        at = blocks.index(section)
        assert blocks[at + 1]["type"] == "context"
        assert item.display in blocks[at + 1]["elements"][0]["text"]  # the evidence
        actions = blocks[at + 2]
        assert actions["block_id"] == f"chatrec_fb:{item.id}" and len(actions["elements"]) == 3
        assert B.parse_feedback_value(actions["elements"][0]["value"]) == (session_id, item.id)
    assert "Inception" in call.data["text"]  # notification text


def test_follow_up_in_the_thread_continues_the_session(send, slack_api, bot):
    send("events_api", mention_event("something like Inception", ts="1710000200.000100"))
    first = slack_api.wait_for("chat.postMessage")[0]
    send(
        "events_api",
        mention_event(
            "who directed the first one?", ts="1710000200.000900", thread_ts="1710000200.000100"
        ),
    )
    answer = slack_api.wait_for("chat.postMessage", 2)[1]
    assert answer.data["thread_ts"] == "1710000200.000100"
    item = bot.agent.catalog[item_ids(first)[0]]
    said = answer.data["blocks"][0]["text"]["text"]
    assert f"*{item.title}*" in said and all(d in said for d in item.directors)
    state = bot.agent.session("slack:T0CHATREC:C0MOVIES:1710000200.000100")
    assert [t.text for t in state.turns if t.role == "user"] == [
        "something like Inception",
        "who directed the first one?",
    ]


def test_direct_messages_read_like_a_chat(send, slack_api, bot):
    send("events_api", dm_event("a comedy from the 80s"))
    first = slack_api.wait_for("chat.postMessage")[0]
    assert first.data["channel"] == "D0ALICE" and first.data.get("thread_ts") is None
    send("events_api", dm_event("something newer"))
    slack_api.wait_for("chat.postMessage", 2)
    state = bot.agent.session("slack:T0CHATREC:D0ALICE:dm")
    assert [t.text for t in state.turns if t.role == "user"] == [
        "a comedy from the 80s",
        "something newer",
    ]
    # The bot's own messages, edits and channel chatter are not answered.
    own = dm_event("my own reply")
    own["event"]["bot_id"] = "B0BOT"
    edited = dm_event("edited")
    edited["event"]["subtype"] = "message_changed"
    channel = dm_event("chatter", channel="C0MOVIES")
    channel["event"]["channel_type"] = "channel"
    for body in (own, edited, channel):
        assert send("events_api", body).status_code == 200
    marker = send("events_api", dm_event("thanks!", channel="D0BOB", user="U0BOB"))
    assert marker.status_code == 200
    wait_until(lambda: any(c.data["channel"] == "D0BOB" for c in slack_api.of("chat.postMessage")))
    time.sleep(0.3)
    assert len(slack_api.of("chat.postMessage")) == 3


def test_slack_retries_never_produce_a_second_reply(send, slack_api, bot):
    body = mention_event("movies with Tom Hanks")
    assert send("events_api", body).status_code == 200
    retry = send(
        "events_api",
        body,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status_code == 200
    # The same message announced again under another event id (app_mention + message).
    again = json.loads(json.dumps(body))
    again["event_id"] = "Ev-other-delivery"
    assert send("events_api", again).status_code == 200
    wait_until(lambda: bot.stats.duplicates == 2)
    send("events_api", mention_event("a comedy", channel="C0OTHER"))
    wait_until(lambda: len(slack_api.of("chat.postMessage")) >= 2)
    time.sleep(0.3)
    calls = slack_api.of("chat.postMessage")
    assert len(calls) == 2 and {c.data["channel"] for c in calls} == {"C0MOVIES", "C0OTHER"}


def test_floods_are_answered_politely_once(make_bot, slack_api):
    bot = make_bot(rate_burst=3, rate_per_minute=1)
    with HttpServerThread(bot) as server:
        send = Sender(server.url)
        for i in range(7):
            send("events_api", mention_event(f"a comedy please {i}"))
        wait_until(lambda: bot.stats.replies + bot.stats.rate_limited == 7)
    assert bot.stats.replies == 3 and bot.stats.rate_limited == 4
    notices = slack_api.of("chat.postEphemeral")
    assert len(notices) == 1
    assert (
        notices[0].data["user"] == "U0ALICE"
        and "faster than I can keep up" in notices[0].data["text"]
    )
    assert notices[0].data["thread_ts"]


def test_errors_become_a_short_apology_in_the_thread(make_agent, make_bot, slack_api, caplog):
    bot = make_bot(BrokenAgent(make_agent()))
    with HttpServerThread(bot) as server:
        Sender(server.url)("events_api", mention_event("a comedy", ts="1710000300.000100"))
        call = slack_api.wait_for("chat.postMessage")[0]
    assert call.data["thread_ts"] == "1710000300.000100"
    posted = json.dumps(call.data)
    assert "Sorry, something went wrong" in posted
    assert (
        "disk on fire" not in posted and "Traceback" not in posted and "RuntimeError" not in posted
    )
    wait_until(lambda: bot.stats.errors == 1)
    assert "disk on fire" in caplog.text  # the details are in the log


def test_blocks_slack_refuses_are_resent_as_text(send, slack_api, bot):
    slack_api.fail("chat.postMessage", "invalid_blocks")
    send("events_api", mention_event("a sci-fi film"))
    refused, text_only = slack_api.wait_for("chat.postMessage", 2)
    assert refused.data["blocks"] and "blocks" not in text_only.data
    assert text_only.data["text"] == refused.data["text"] and text_only.data["thread_ts"]
    wait_until(lambda: bot.stats.replies == 1)


# ------------------------------------------------------------------ buttons
def test_buttons_feed_back_into_the_session_the_profile_and_the_message(send, slack_api, bot):
    send("events_api", mention_event("something like The Matrix", ts="1710000400.000100"))
    call = slack_api.wait_for("chat.postMessage")[0]
    message = slack_api.message(call)
    session_id = "slack:T0CHATREC:C0MOVIES:1710000400.000100"
    liked, disliked, seen = item_ids(call)[:3]

    def press(kind: str, item_id: str, msg: dict):
        actions = next(b for b in msg["blocks"] if b.get("block_id") == f"chatrec_fb:{item_id}")
        button = next(
            e for e in actions["elements"] if e["action_id"] == B.FEEDBACK_ACTION_PREFIX + kind
        )
        payload = block_action(
            msg,
            "C0MOVIES",
            button["action_id"],
            button["value"],
            response_url=slack_api.response_url("button"),
            block_id=actions["block_id"],
        )
        assert send("interactive", payload).status_code == 200

    press("liked", liked, message)
    update = slack_api.wait_for("chat.update")[0]
    assert update.data["channel"] == "C0MOVIES" and update.data["ts"] == message["ts"]
    blocks = {b.get("block_id"): b for b in update.data["blocks"]}
    assert blocks[f"chatrec_fb:{liked}"]["type"] == "context"
    assert "<@U0ALICE> liked this" in blocks[f"chatrec_fb:{liked}"]["elements"][0]["text"]
    assert blocks[f"chatrec_fb:{disliked}"]["type"] == "actions"
    # Slack echoes the updated message in the next press.
    message = {**message, "blocks": update.data["blocks"]}
    press("disliked", disliked, message)
    press("seen", seen, message)
    wait_until(lambda: len(slack_api.of("chat.update")) == 3)

    state = bot.agent.session(session_id)
    assert (
        liked in state.liked_items and disliked in state.disliked_items and seen in state.seen_items
    )
    profile = bot.agent.profile("slack:T0CHATREC:U0ALICE")["profile"]
    assert liked in profile["liked_items"] and disliked in profile["disliked_items"]
    # Likes carry across threads: a new thread never offers what the user rated.
    send("events_api", mention_event("something like The Matrix", ts="1710000500.000100"))
    fresh = slack_api.wait_for("chat.postMessage", 2)[1]
    assert not {liked, disliked, seen} & set(item_ids(fresh))


def test_a_button_pressed_by_someone_else_goes_to_their_profile(send, slack_api, bot):
    send("events_api", mention_event("a comedy from the 90s", ts="1710000550.000100"))
    call = slack_api.wait_for("chat.postMessage")[0]
    message = slack_api.message(call)
    item = item_ids(call)[0]
    actions = next(b for b in message["blocks"] if b.get("block_id") == f"chatrec_fb:{item}")
    button = next(
        e for e in actions["elements"] if e["action_id"] == B.FEEDBACK_ACTION_PREFIX + "liked"
    )
    payload = block_action(
        message,
        "C0MOVIES",
        button["action_id"],
        button["value"],
        user="U0BOB",
        response_url=slack_api.response_url("button"),
        block_id=actions["block_id"],
    )
    assert send("interactive", payload).status_code == 200
    slack_api.wait_for("chat.update")
    assert item in bot.agent.user_profile("slack:T0CHATREC:U0BOB").liked_items
    assert item not in bot.agent.user_profile("slack:T0CHATREC:U0ALICE").liked_items
    # pressing a button in Alice's thread does not make it Bob's
    assert bot.agent.session("slack:T0CHATREC:C0MOVIES:1710000550.000100").user_id == "slack:T0CHATREC:U0ALICE"


def test_a_button_from_another_channel_is_ignored(send, slack_api, bot):
    send("events_api", mention_event("a comedy", ts="1710000600.000100"))
    call = slack_api.wait_for("chat.postMessage")[0]
    message = slack_api.message(call)
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    payload = block_action(
        message, "C0ELSEWHERE", actions["elements"][0]["action_id"], actions["elements"][0]["value"]
    )
    assert send("interactive", payload).status_code == 200
    time.sleep(0.5)
    assert slack_api.of("chat.update") == [] and bot.stats.feedback == 0
    assert bot.agent.session("slack:T0CHATREC:C0MOVIES:1710000600.000100").liked_items == []


# ------------------------------------------------------------------ /chatrec
def test_slash_command_help_profile_reset_forget(send, slack_api, bot):
    url = slack_api.response_url("cmd")
    help_ = send("commands", command("help", url))
    assert help_.status_code == 200 and "/chatrec forget" in help_.json()["text"]
    unknown = send("commands", command("<!channel>", url))
    assert "I don't know `&lt;!channel&gt;`" in unknown.json()["text"]

    call = mention_and_like(send, slack_api, "something like Heat", "1710000700.000100")
    liked = bot.agent.catalog[item_ids(call)[0]]

    assert send("commands", command("profile", url)).status_code == 200
    profile = slack_api.wait_for("respond:cmd")[0].data
    assert profile["response_type"] == "ephemeral"
    assert "What chatrec keeps about you" in profile["text"]
    assert "• Liked: Heat (1995), " in profile["text"]  # said in the thread
    assert liked.display.replace("&", "&amp;") in profile["text"]  # pressed 👍
    send("commands", command("profile json", url))
    exported = slack_api.wait_for("respond:cmd", 2)[1].data["text"]
    assert exported.startswith("```") and '"user_id": "slack:T0CHATREC:U0ALICE"' in exported

    session_id = "slack:T0CHATREC:C0MOVIES:1710000700.000100"
    assert bot.agent.session(session_id).turns
    send("commands", command("reset", url))
    assert (
        "started your latest thread with me in this channel over"
        in slack_api.wait_for("respond:cmd", 3)[2].data["text"]
    )
    assert bot.agent.session(session_id).turns == []
    assert (
        liked.id in bot.agent.profile("slack:T0CHATREC:U0ALICE")["profile"]["liked_items"]
    )  # kept

    send("commands", command("forget", url))
    assert (
        slack_api.wait_for("respond:cmd", 4)[3]
        .data["text"]
        .startswith("Done: I deleted your profile and 1 conversation.")
    )
    after = bot.agent.profile("slack:T0CHATREC:U0ALICE")
    assert after["profile"]["liked_items"] == [] and after["sessions"] == []
    send("commands", command("reset", url))
    assert "no conversation of yours here" in slack_api.wait_for("respond:cmd", 5)[4].data["text"]
    assert bot.stats.commands == 5


def test_reset_in_a_dm_restarts_the_dm_conversation(send, slack_api, bot):
    send("events_api", dm_event("a comedy from the 80s"))
    slack_api.wait_for("chat.postMessage")
    send("commands", command("reset", slack_api.response_url("dm"), channel="D0ALICE"))
    assert "started our conversation here over" in slack_api.wait_for("respond:dm")[0].data["text"]
    assert bot.agent.session("slack:T0CHATREC:D0ALICE:dm").turns == []


# ------------------------------------------------------------------ load
def test_a_burst_of_50_mentions_keeps_50_separate_sessions(make_bot, slack_api):
    bot = make_bot(rate_burst=5)
    requests = [
        "a comedy from the 90s",
        "movies with Tom Hanks",
        "something like Inception",
        "a horror film from the 80s",
        "an animated film for kids",
    ]
    sent = {}
    with HttpServerThread(bot) as server:
        send = Sender(server.url)
        started = time.perf_counter()
        ack_ms = []
        for i in range(50):
            user, text, ts = f"U0USER{i % 10}", requests[i // 10], f"1710001000.{i:06d}"
            body = mention_event(text, user=user, channel=f"C0ROOM{i % 3}", ts=ts)
            t = time.perf_counter()
            assert send("events_api", body).status_code == 200
            ack_ms.append((time.perf_counter() - t) * 1000)
            sent[ts] = (user, text, f"C0ROOM{i % 3}")
        calls = slack_api.wait_for("chat.postMessage", 50, timeout=120)
        total_s = time.perf_counter() - started
    ack_ms.sort()
    print(
        f"50 mentions: acks p50 {ack_ms[25]:.1f} ms max {ack_ms[-1]:.1f} ms; all replies in "
        f"{total_s:.2f} s; reply p50 {sorted(bot.stats.reply_ms)[25]:.0f} ms"
    )
    assert {c.data["thread_ts"] for c in calls} == set(sent)
    catalog = bot.agent.catalog
    for call in calls:
        ts = call.data["thread_ts"]
        user, text, channel = sent[ts]
        assert call.data["channel"] == channel
        state = bot.agent.session(f"slack:T0CHATREC:{channel}:{ts}")
        assert state.user_id == f"slack:T0CHATREC:{user}"
        assert [t.text for t in state.turns if t.role == "user"] == [text]
        shown = [catalog[s.item_id] for s in state.last_shown]
        assert [i.id for i in shown] == item_ids(call)
        if text == "a comedy from the 90s":
            assert shown and all(1990 <= i.year <= 1999 and "comedy" in i.genres for i in shown)
        if text == "a horror film from the 80s":
            assert shown and all(1980 <= i.year <= 1989 and "horror" in i.genres for i in shown)
    assert bot.stats.rate_limited == 0 and bot.stats.errors == 0
