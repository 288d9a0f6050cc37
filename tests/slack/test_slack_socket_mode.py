"""Socket Mode end to end: Bolt's real ``SocketModeHandler`` opens its connection through
``apps.connections.open`` on the stand-in Web API, then talks to a loopback WebSocket server
speaking Slack's envelope protocol."""

from __future__ import annotations

import time

from slack_support import APP_TOKEN, GatedAgent, wait_until

from chatrec.slack import blocks as B
from chatrec.testing.slack import block_action, command, mention_event


def test_events_are_acked_and_answered_in_the_thread(socket, slack_api, bot):
    opened = slack_api.of("apps.connections.open")
    assert opened and opened[0].authorization == f"Bearer {APP_TOKEN}"
    # The answer is held until the test lets it go: an ack that waited for the answer would
    # never arrive. (Comparing arrival times instead raced: the ack travels over the WebSocket,
    # the reply over HTTP, and a 7 ms answer may land first though it was sent second.)
    bot.agent = GatedAgent(bot.agent)
    envelope, sent = socket.send(
        "events_api", mention_event("a comedy from the 90s", ts="1710002000.000100")
    )
    ack, acked = socket.wait_ack(envelope, timeout=5)
    assert ack == {"envelope_id": envelope}
    assert not slack_api.of("chat.postMessage")
    bot.agent.gate.set()
    call = slack_api.wait_for("chat.postMessage")[0]
    print(f"socket mode: ack {(acked - sent) * 1000:.1f} ms while the answer was held")
    assert call.data["channel"] == "C0MOVIES" and call.data["thread_ts"] == "1710002000.000100"
    ids = [
        b["block_id"][len(B.REC_BLOCK) :]
        for b in call.data["blocks"]
        if b.get("block_id", "").startswith(B.REC_BLOCK)
    ]
    assert len(ids) == 5
    assert all(1990 <= bot.agent.catalog[i].year <= 1999 for i in ids)
    state = bot.agent.session("slack:T0CHATREC:C0MOVIES:1710002000.000100")
    assert [s.item_id for s in state.last_shown] == ids


def test_a_redelivered_envelope_is_acked_but_not_answered_again(socket, slack_api, bot):
    body = mention_event("movies with Tom Hanks")
    first, _ = socket.send("events_api", body)
    socket.wait_ack(first)
    retry, _ = socket.send("events_api", body, retry_attempt=1)
    assert socket.wait_ack(retry)[0] == {"envelope_id": retry}
    wait_until(lambda: bot.stats.duplicates == 1)
    socket.send("events_api", mention_event("a comedy", channel="C0OTHER"))
    wait_until(lambda: len(slack_api.of("chat.postMessage")) >= 2)
    time.sleep(0.3)
    assert sorted(c.data["channel"] for c in slack_api.of("chat.postMessage")) == [
        "C0MOVIES",
        "C0OTHER",
    ]


def test_buttons_and_commands_over_socket_mode(socket, slack_api, bot):
    socket.send("events_api", mention_event("something like Toy Story", ts="1710002100.000100"))
    call = slack_api.wait_for("chat.postMessage")[0]
    message = slack_api.message(call)
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    seen = actions["elements"][2]
    envelope, _ = socket.send(
        "interactive", block_action(message, "C0MOVIES", seen["action_id"], seen["value"])
    )
    assert socket.wait_ack(envelope)[0]["envelope_id"] == envelope
    update = slack_api.wait_for("chat.update")[0]
    item_id = actions["block_id"][len(B.FEEDBACK_BLOCK) :]
    assert (
        "has seen this"
        in next(b for b in update.data["blocks"] if b.get("block_id") == actions["block_id"])[
            "elements"
        ][0]["text"]
    )
    assert item_id in bot.agent.session("slack:T0CHATREC:C0MOVIES:1710002100.000100").seen_items

    envelope, _ = socket.send("slash_commands", command("help", slack_api.response_url()))
    ack = socket.wait_ack(envelope)[0]
    assert "/chatrec reset" in ack["payload"]["text"]
    envelope, _ = socket.send("slash_commands", command("profile", slack_api.response_url("p")))
    assert socket.wait_ack(envelope)[0] == {"envelope_id": envelope}
    assert "Seen: " in slack_api.wait_for("respond:p")[0].data["text"]
