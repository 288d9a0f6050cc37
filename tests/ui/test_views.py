"""Everything a user typed and every catalog string is escaped; the agent's markdown titles stay."""

from __future__ import annotations

from types import SimpleNamespace

from chatrec.agent.models import Trace
from chatrec.catalog.models import Item
from kg.models import Fact
from ui.views import (
    CardView,
    Chip,
    ProfileSection,
    assistant_markdown,
    cards_html,
    chat_messages,
    header_html,
    history_html,
    profile_html,
    trace_html,
    user_markdown,
)

EVIL = "<script>alert(1)</script>"
EVIL_ITEM = Item(id='x"1', title=f"{EVIL} Night", year=1999, genres=["<b>horror</b>"],
                 directors=['<img src=x onerror="alert(2)">'], cast=["A & B"])


def test_user_text_is_shown_literally():
    text = user_markdown(f"{EVIL} **not bold** [link](javascript:x)")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*\\*not bold\\*\\*" in text and "\\[link\\]" in text


def test_agent_markdown_keeps_bold_titles_but_not_html():
    text = assistant_markdown(f"1. **{EVIL}** (1999) — like **Heat** (1995)")
    assert "**Heat** (1995)" in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_cards_escape_catalog_strings():
    fact = Fact(subject='item:x"1', relation="directed_by", object="person:x",
                subject_label=EVIL_ITEM.display, object_label='<img src=x onerror="alert(2)">')
    html = cards_html([CardView(item=EVIL_ITEM, explanation=f"Directed by **{EVIL}**.", evidence=[fact],
                                mark="disliked")])
    for raw in ("<script>", "<img", "<b>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Night" in html
    assert 'data-item="x&quot;1"' in html          # attribute values cannot break out either
    assert "<strong>&lt;script&gt;" in html          # the agent's bold survives, its content escaped
    assert "A &amp; B" in html
    assert "Evidence · 1 fact" in html and "Not for me" in html


def test_empty_cards_invite_a_request():
    assert "Your picks will appear here" in cards_html([])


def test_profile_chips_escape_and_only_removable_ones_have_a_button():
    html = profile_html("New user", [ProfileSection("Liked", [Chip(EVIL, "item:1"), Chip("the 1990s", None)])])
    assert "<script>" not in html and html.count('data-action="remove"') == 1
    assert 'data-value="item:1"' in html
    assert "Nothing yet" in profile_html("New user", [ProfileSection("Liked", [])])


def test_chat_messages_from_turns():
    turns = [SimpleNamespace(role="user", text=EVIL), SimpleNamespace(role="assistant", text="**Heat** (1995)"),
             SimpleNamespace(role="user", text="[feedback] disliked: Heat (1995)")]
    messages = chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "<script>" not in messages[0]["content"]
    assert messages[2]["content"].startswith("👎 Not for me: Heat \\(1995\\)")


def test_history_trace_and_header_escape():
    assert "<script>" not in history_html("MovieLens user 1", [(EVIL_ITEM, 5.0)], 10)
    trace = Trace(timings_ms={"understand": 2.0, "retrieve": 6.0, "total": 10.0}, decision="recommend",
                  candidates=[{"item_id": "1", "title": EVIL, "score": 0.5, "sources": {"kg": 0.5}}],
                  guard={"passed": False, "violations": [EVIL], "fallback": True, "claims": 3})
    html = trace_html(trace, "No LLM")
    assert "<script>" not in html and "template fallback" in html and "60.0%" in html
    assert "No turn yet" in trace_html(None, "")
    assert "<script>" not in header_html(EVIL, EVIL, False, "failed", EVIL)
