"""Slack text handling and Block Kit rendering: escaping, markdown → mrkdwn, limits."""

from __future__ import annotations

from chatrec.agent.models import Recommendation, Reply
from chatrec.catalog.models import Item
from chatrec.slack import blocks as B
from chatrec.slack.text import clip, escape, markdown_to_mrkdwn, plain, slack_to_plain
from kg.models import Fact

HOSTILE = "<!channel> Tom & Jerry <@U0EVIL> <https://evil.example|click>"


def test_escape_and_markdown():
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert markdown_to_mrkdwn("1. **Heat** (1995) & **M<3**") == "1. *Heat* (1995) &amp; *M&lt;3*"
    assert plain("**Heat** (1995)") == "Heat (1995)"


def test_slack_markup_becomes_plain_text():
    text = (
        "<@U0BOT> something like <https://x.example/a|Heat> with <@U0BOB|bob> in <#C01|movies>"
        " &amp; <!here> 90s &lt;3"
    )
    assert slack_to_plain(text, "U0BOT") == "something like Heat with someone in #movies & 90s <3"
    assert slack_to_plain("<@U0BOT>", "U0BOT") == ""


def test_clip_never_breaks_entities_or_bold():
    assert clip("short", 10) == "short"
    cut = clip("*bold title* and more words here &amp; there", 38)
    assert len(cut) <= 38 and cut.endswith("…") and not cut.rstrip("…").endswith("&amp")
    assert clip("x" * 20 + " &amp;" + " y" * 10, 25).count("&") == 0
    assert clip("*a b c d e f g h*", 10).count("*") % 2 == 0


def _hostile_reply() -> Reply:
    item = Item(
        id="666", title=HOSTILE, year=1999, genres=["<b>drama</b>"], directors=["A <b> & C"]
    )
    fact = Fact(
        subject="item:666",
        relation="directed_by",
        object="person:a b c",
        subject_label=f"{HOSTILE} (1999)",
        object_label="A <b> & C",
    )
    rec = Recommendation(
        item=item, score=1.0, evidence=[fact], explanation=f"Because **{HOSTILE}** <!here>."
    )
    return Reply(
        session_id="s",
        text=f"Try these <!everyone>:\n1. **{HOSTILE}** (1999) — because",
        recommendations=[rec],
    )


def _texts(blocks: list[dict]) -> list[str]:
    out = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return out


def test_every_user_or_catalog_string_is_escaped():
    message = B.reply_message(_hostile_reply(), "slack:T:C:1.2")
    texts = _texts(message["blocks"]) + [message["text"]]
    joined = "\n".join(texts)
    for raw in ("<!channel>", "<@U0EVIL>", "<!here>", "<!everyone>", "<https://", "<b>", " & "):
        assert raw not in joined, raw
    assert "&lt;!channel&gt; Tom &amp; Jerry &lt;@U0EVIL&gt;" in joined
    assert "&lt;b&gt;drama&lt;/b&gt;" in joined  # genres
    assert "A &lt;b&gt; &amp; C" in joined  # evidence labels


def test_reply_layout_text_then_one_section_per_recommendation():
    message = B.reply_message(_hostile_reply(), "slack:T:C:1.2")
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["section", "divider", "section", "context", "actions"]
    intro = message["blocks"][0]["text"]["text"]
    assert intro == "Try these &lt;!everyone&gt;:"  # the numbered list is not repeated
    rec = message["blocks"][2]
    assert rec["block_id"] == "chatrec_rec:666"
    assert rec["text"]["text"].startswith("*1. &lt;!channel&gt; Tom &amp; Jerry")
    assert "(1999) · _&lt;b&gt;drama&lt;/b&gt;_\nBecause *" in rec["text"]["text"]
    assert message["blocks"][3]["elements"][0]["text"].startswith("Evidence: ")
    buttons = message["blocks"][4]["elements"]
    assert [b["action_id"] for b in buttons] == [
        "chatrec_feedback_liked",
        "chatrec_feedback_disliked",
        "chatrec_feedback_seen",
    ]
    assert {B.parse_feedback_value(b["value"]) for b in buttons} == {("slack:T:C:1.2", "666")}
    assert all(len(b["accessibility_label"]) <= 75 for b in buttons)


def test_slack_limits_hold_for_long_replies():
    item = Item(id="1", title="T" * 5000, genres=["g"] * 300)
    recs = [
        Recommendation(
            item=item.model_copy(update={"id": str(i)}), score=1.0, explanation="why " * 2000
        )
        for i in range(30)
    ]
    message = B.reply_message(Reply(session_id="s", text="x " * 10_000, recommendations=recs), "s")
    assert len(message["blocks"]) <= B.MAX_BLOCKS
    assert len(message["text"]) <= B.FALLBACK_CHARS
    assert all(len(t) <= 3000 for t in _texts(message["blocks"]))
    assert all(
        len(b["value"]) <= 2000
        for blk in message["blocks"]
        if blk["type"] == "actions"
        for b in blk["elements"]
    )


def test_after_feedback_replaces_only_that_items_buttons():
    first = _hostile_reply().recommendations[0]
    second = first.model_copy(update={"item": first.item.model_copy(update={"id": "777"})})
    message = B.reply_message(Reply(session_id="s", text="x", recommendations=[first, second]), "s")
    updated = B.after_feedback(message["blocks"], "666", "liked", "U0ALICE")
    by_id = {b.get("block_id"): b for b in updated}
    assert by_id["chatrec_fb:666"]["type"] == "context"
    assert by_id["chatrec_fb:666"]["elements"][0]["text"].startswith("👍 <@U0ALICE> liked this")
    assert by_id["chatrec_fb:777"]["type"] == "actions"
    assert len(updated) == len(message["blocks"])
    # A user id that is not a Slack id never becomes markup.
    odd = B.after_feedback(message["blocks"], "777", "seen", "<!channel>")
    done = next(b for b in odd if b.get("block_id") == "chatrec_fb:777")
    assert done["elements"][0]["text"].startswith("✓ someone has seen this")


def test_profile_summary_and_export():
    exported = {
        "user_id": "slack:T:U",
        "profile": {
            "liked_items": ["1", "2"],
            "disliked_items": ["3"],
            "seen_items": [],
            "liked_attributes": ["person:x <y>"],
            "disliked_attributes": [],
        },
        "sessions": [{"session_id": "a"}],
        "labels": {"1": "Heat (1995)", "2": "A & B", "3": "Jaws"},
    }
    text = B.profile_text(exported, lambda node: node.split(":", 1)[1])
    assert "• Liked: Heat (1995), A &amp; B" in text and "• Didn't like: Jaws" in text
    assert "• Into: x &lt;y&gt;" in text and "Conversations: 1" in text
    assert "Nothing yet" in B.profile_text({"profile": None, "sessions": []}, str)
    dumped = B.profile_json(exported)
    assert dumped.startswith("```") and "slack:T:U" in dumped and "A &amp; B" in dumped
    assert B.forgot_text({"profile_deleted": True, "sessions_deleted": ["a", "b"]}).startswith(
        "Done: I deleted your profile and 2 conversations"
    )
