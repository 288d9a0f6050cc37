"""HTML and chat messages for the page, from the agent's data. Pure functions, no Gradio.

Every string that comes from a user or from the catalog goes through ``html.escape`` here (or
``user_markdown``/``assistant_markdown`` for the chat), so a title or message containing
``<script>`` is shown as text. The agent's own markup is markdown bold for titles
(``**Title** (Year)``), which is kept.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chatrec.catalog.models import Item
from kg.models import Fact

MARKS = {"liked": "👍 Liked", "disliked": "👎 Not for me", "seen": "✓ Seen"}
FEEDBACK_TURN = re.compile(r"^\[feedback\] (liked|disliked|seen): (.*)$", re.DOTALL)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_RELATION_TEXT = {
    "directed_by": "directed by", "stars": "stars", "written_by": "written by",
    "made_by": "made by", "has_genre": "genre", "has_keyword": "tagged",
    "released_in": "released in",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# ------------------------------------------------------------------------------------ chat
def user_markdown(text: str) -> str:
    """What the user typed, shown literally: HTML escaped and markdown syntax neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def assistant_markdown(text: str) -> str:
    """The agent's markdown reply with any HTML in it (from catalog strings) shown as text."""
    return html.escape(text, quote=False)


def inline_markdown(text: str) -> str:
    """The agent's one-line markdown (``**Title** (Year)``) as safe inline HTML."""
    return _BOLD.sub(r"<strong>\1</strong>", esc(text))


def feedback_note(kind: str, label: str) -> str:
    return f"{MARKS.get(kind, kind)}: {label}"


def chat_messages(turns: Iterable) -> list[dict]:
    """Chatbot messages (``{"role", "content"}``) for the stored turns of a session."""
    messages = []
    for turn in turns:
        if turn.role in ("user", "seeker"):
            match = FEEDBACK_TURN.match(turn.text)
            text = feedback_note(*match.groups()) if match else turn.text
            messages.append({"role": "user", "content": user_markdown(text)})
        else:
            messages.append({"role": "assistant", "content": assistant_markdown(turn.text)})
    return messages


# ------------------------------------------------------------------------------------ cards
@dataclass
class CardView:
    """One recommendation card.

    Attributes:
        item: the recommended item.
        explanation: the one-line why (markdown, from the agent).
        evidence: the KG facts behind it.
        mark: the user's feedback on it ("liked", "disliked", "seen") or None.
        why_uri: the "Why this?" picture as a data URI, when the user opened it.
        why_caption: the text under the picture.
    """

    item: Item
    explanation: str = ""
    evidence: list[Fact] = field(default_factory=list)
    mark: str | None = None
    why_uri: str | None = None
    why_caption: str = ""


def fact_text(fact: Fact) -> str:
    relation = _RELATION_TEXT.get(fact.relation, fact.relation.replace("_", " "))
    return (f'<span class="fact-s">{esc(fact.subject_label)}</span> '
            f'<span class="fact-r">{esc(relation)}</span> '
            f'<span class="fact-o">{esc(fact.object_label)}</span>')


def _people_line(item: Item) -> str:
    parts = []
    if item.directors:
        parts.append('<span class="lbl">Directed by</span> ' + esc(", ".join(item.directors[:2])))
    elif item.creators:
        parts.append('<span class="lbl">By</span> ' + esc(", ".join(item.creators[:2])))
    if item.cast:
        parts.append('<span class="lbl">With</span> ' + esc(", ".join(item.cast[:3])))
    return " · ".join(parts)


def _button(action: str, item_id: str, text: str, title: str, active: bool = False) -> str:
    pressed = "true" if active else "false"
    cls = "act act-" + action + (" on" if active else "")
    return (f'<button type="button" class="{cls}" data-action="{esc(action)}" data-item="{esc(item_id)}" '
            f'aria-pressed="{pressed}" title="{esc(title)}">{text}</button>')


def card_html(rank: int, card: CardView) -> str:
    item = card.item
    genres = "".join(f'<span class="tag">{esc(g.title())}</span>' for g in item.genres[:4])
    year = f'<span class="year">{esc(item.year)}</span>' if item.year else ""
    people = _people_line(item)
    mark = card.mark or ""
    badge = f'<span class="badge badge-{esc(mark)}">{esc(MARKS[mark])}</span>' if mark in MARKS else ""
    facts = "".join(f"<li>{fact_text(f)}</li>" for f in card.evidence)
    evidence = (f'<details class="evidence"><summary>Evidence · {len(card.evidence)} '
                f'fact{"s" if len(card.evidence) != 1 else ""} from the knowledge graph</summary>'
                f"<ul>{facts}</ul></details>") if card.evidence else ""
    iid = item.id
    actions = "".join([
        _button("liked", iid, "👍", "I liked it", mark == "liked"),
        _button("disliked", iid, "👎", "Not for me", mark == "disliked"),
        _button("seen", iid, "✓", "I've seen it", mark == "seen"),
        _button("why", iid, "Why this?", "Show how it connects to what you like", bool(card.why_uri)),
    ])
    return (f'<article class="card {esc(mark)}" data-item="{esc(iid)}">'
            f'<div class="card-head"><span class="rank">{rank}</span>'
            f'<h3 class="title">{esc(item.title)}</h3>{year}{badge}</div>'
            f'<div class="tags">{genres}</div>'
            f'<div class="people">{people}</div>'
            f'<p class="why-line">{inline_markdown(card.explanation)}</p>'
            f"{evidence}"
            f'<div class="actions">{actions}</div></article>')


def cards_html(cards: Sequence[CardView]) -> str:
    if not cards:
        return ('<div class="cards empty"><div class="empty-icon">🎬</div>'
                "<p>Your picks will appear here.</p><p class=\"hint\">Tell me a film you loved, a "
                "mood, a decade or an actor — then rate the picks with 👍 👎 ✓ and I'll adjust.</p></div>")
    body = "".join(card_html(i, c) for i, c in enumerate(cards, 1))
    modal = next((why_modal_html(c) for c in cards if c.why_uri), "")
    return f'<div class="cards">{body}</div>{modal}'


def why_modal_html(card: CardView) -> str:
    """The "Why this?" dialog: the card's KG paths as a picture, over the page (the picture needs
    more width than a card has). The backdrop and × close it (they press "Why this?" again)."""
    from kg.render import KIND_COLOURS  # the picture's own colours (loaded once a picture exists)

    item = card.item
    legend = "".join(f'<span><i style="background:{esc(colour)}"></i>{"film" if kind == "item" else esc(kind)}'
                     "</span>" for kind, colour in KIND_COLOURS.items())
    close = f'data-action="why" data-item="{esc(item.id)}"'
    return (f'<div class="why-modal" role="dialog" aria-modal="true" aria-label="Why {esc(item.display)}">'
            f'<button type="button" class="why-backdrop" {close} aria-label="Close"></button>'
            f'<div class="why-panel"><div class="why-head"><h3>Why <em>{esc(item.display)}</em>?</h3>'
            f'<button type="button" class="why-close" {close} title="Close">×</button></div>'
            f'<p class="why-line">{inline_markdown(card.explanation)}</p>'
            f'<img src="{esc(card.why_uri)}" alt="Knowledge-graph paths from what you like to {esc(item.display)}">'
            f'<p class="why-caption">{esc(card.why_caption)}</p><div class="legend">{legend}</div></div></div>')


# ------------------------------------------------------------------------------------ profile
@dataclass
class Chip:
    """One preference in the profile. ``value`` is what ``agent.remove_preference`` takes
    (None: shown but not removable here)."""

    label: str
    value: str | None = None


@dataclass
class ProfileSection:
    title: str
    chips: list[Chip]
    kind: str = ""


def profile_html(who: str, sections: Sequence[ProfileSection]) -> str:
    parts = [f'<div class="profile"><div class="who">{esc(who)}</div>']
    shown = [s for s in sections if s.chips]
    if not shown:
        parts.append('<p class="hint">Nothing yet. Likes, dislikes and what you ask for show up '
                     "here, and you can remove any of them.</p>")
    for section in shown:
        chips = []
        for chip in section.chips:
            remove = ""
            if chip.value is not None:
                remove = (f'<button type="button" class="chip-x" data-action="remove" '
                          f'data-value="{esc(chip.value)}" title="Forget this" '
                          f'aria-label="Remove {esc(chip.label)}">×</button>')
            chips.append(f'<span class="chip {esc(section.kind)}">{esc(chip.label)}{remove}</span>')
        parts.append(f'<div class="psec"><div class="ptitle">{esc(section.title)}</div>'
                     f'<div class="chips">{"".join(chips)}</div></div>')
    parts.append("</div>")
    return "".join(parts)


def history_html(user_label: str, entries: Sequence[tuple[Item, float]], total: int) -> str:
    """A MovieLens user's top-rated films (``entries``: item, rating)."""
    if not entries:
        return f'<div class="history"><p class="hint">{esc(user_label)}</p></div>'
    rows = "".join(f'<li><span class="stars">★ {rating:.1f}</span> {esc(item.display)}</li>'
                   for item, rating in entries)
    return (f'<div class="history"><div class="hhead">{esc(user_label)} · {total} ratings · '
            f"favourites</div><ol>{rows}</ol></div>")


# ------------------------------------------------------------------------------------ trace
def trace_html(trace, llm_label: str) -> str:
    """The last turn's trace: per-step timings, decision, guard, candidates, LLM calls."""
    if trace is None:
        return '<div class="trace"><p class="hint">No turn yet in this tab.</p></div>'
    timings = dict(trace.timings_ms)
    total = timings.pop("total", None) or sum(timings.values()) or 1.0
    rows = []
    for step, ms in timings.items():
        width = max(1.0, min(100.0, 100.0 * ms / total))
        rows.append(f'<tr><td>{esc(step)}</td><td class="num">{ms:.1f}</td>'
                    f'<td class="bar"><span style="width:{width:.1f}%"></span></td></tr>')
    parts = ['<div class="trace">',
             f'<div class="tline"><b>decision</b> {esc(trace.decision or "—")} · <b>total</b> '
             f"{total:.1f} ms · <b>LLM</b> {esc(llm_label)}</div>",
             f'<table class="timings"><tbody>{"".join(rows)}</tbody></table>']
    guard = trace.guard
    if guard is not None:
        verdict = "passed" if guard.passed else "rejected"
        if guard.fallback:
            verdict += " → template fallback"
        parts.append(f'<div class="tline"><b>guard</b> {esc(verdict)} · {esc(guard.claims)} '
                     f"claims checked</div>")
        for violation in guard.violations:
            parts.append(f'<div class="tline warn">{esc(violation)}</div>')
    if trace.act is not None:
        act = trace.act
        bits = [f"intent={act.intent}"]
        for name in ("liked_items", "disliked_items", "seen_items", "liked_attributes",
                     "disliked_attributes", "refinements"):
            values = getattr(act, name)
            if values:
                bits.append(f"{name}={','.join(values)}")
        parts.append(f'<div class="tline"><b>understood</b> {esc(" ".join(bits))}</div>')
    if trace.candidates:
        cand_rows = "".join(
            f'<tr><td>{esc(c.get("title", c.get("item_id")))}</td><td class="num">{c.get("score", 0):.3f}</td>'
            f'<td>{esc(", ".join(f"{k} {v:.2f}" for k, v in (c.get("sources") or {}).items()))}</td></tr>'
            for c in trace.candidates[:12])
        parts.append('<table class="cands"><thead><tr><th>candidate</th><th>score</th><th>sources</th>'
                     f"</tr></thead><tbody>{cand_rows}</tbody></table>")
    if trace.llm_calls:
        llm_rows = "".join(
            f'<tr><td>{esc(c.purpose)}</td><td>{"ok" if c.ok else esc(c.error or "failed")}</td>'
            f'<td class="num">{c.latency_ms:.0f}</td><td class="num">{c.prompt_tokens}+{c.completion_tokens}</td></tr>'
            for c in trace.llm_calls)
        parts.append('<table class="llm"><thead><tr><th>LLM call</th><th>result</th><th>ms</th>'
                     f"<th>tokens</th></tr></thead><tbody>{llm_rows}</tbody></table>")
    for note in trace.notes:
        parts.append(f'<div class="tline">{esc(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------------------------ header
def header_html(catalog_label: str, llm_label: str, llm_on: bool, status_state: str,
                status_message: str, tagline: str = "") -> str:
    llm_cls = "pill on" if llm_on else "pill off"
    status = "" if status_state == "ready" else \
        f'<span class="pill status-{esc(status_state)}">{esc(status_message)}</span>'
    return ('<div class="hdr"><div class="brand"><div class="logo">chat<span>rec</span></div>'
            f'<div class="tagline">{esc(tagline)}</div></div>'
            f'<div class="pills"><span class="pill">{esc(catalog_label)}</span>'
            f'<span class="{llm_cls}" title="Language model">{esc(llm_label)}</span>{status}</div></div>')
