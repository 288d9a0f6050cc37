"""Block Kit for chatrec's messages: a ``Reply`` as text plus one section per recommendation
(title, year, genres, the one-line why, evidence on a context line, 👍 / 👎 / seen buttons), the
message after a button press, and the slash command's answers.

Every user or catalog string goes through ``text.escape`` (or ``markdown_to_mrkdwn``, which
escapes first); Slack ids are checked before they become ``<@…>`` mentions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from chatrec.slack.text import clip, escape, is_slack_id, markdown_to_mrkdwn, plain

# Slack's limits (https://api.slack.com/reference/block-kit/blocks): a message has at most 50
# blocks; section text 3000 characters; a button value 2000; a block_id 255.
MAX_BLOCKS = 50
SECTION_CHARS = 3000
FALLBACK_CHARS = 3000
BLOCKS_PER_REC = 4  # divider, section, context, actions

FEEDBACK_ACTION_PREFIX = "chatrec_feedback_"
FEEDBACK_KINDS = ("liked", "disliked", "seen")
REC_BLOCK = "chatrec_rec:"
FEEDBACK_BLOCK = "chatrec_fb:"

_BUTTONS = {
    "liked": ("👍", "primary", "Like"),
    "disliked": ("👎", None, "Dislike"),
    "seen": ("Seen it", None, "Seen"),
}
_DONE = {
    "liked": "👍 {who} liked this: I'll look for more like it.",
    "disliked": "👎 {who} didn't like this: I'll steer away from it.",
    "seen": "✓ {who} has seen this: I won't suggest it again.",
}
_RELATIONS = {
    "directed_by": "directed by",
    "stars": "stars",
    "written_by": "written by",
    "made_by": "made by",
    "has_genre": "is",
    "has_keyword": "tagged",
    "released_in": "from the",
}
_LIST_LINE = re.compile(r"^\s*\d+[.)]\s+")

HELP = (
    "*chatrec* recommends films in Slack. Mention me in a channel (I answer in a thread; each "
    "thread is one conversation) or send me a direct message. Try:\n"
    "• _something like Inception but from the 90s_\n"
    "• _a comedy with Tom Hanks, no romance_\n"
    "• _who directed the second one?_ · _why did you suggest it?_\n"
    "Press 👍 / 👎 / *Seen it* under a suggestion and I'll remember it, in this thread and for "
    "you everywhere.\n\n"
    "*Commands*\n"
    "• `/chatrec reset`: start this conversation over (your likes are kept); in a thread you "
    "can also just say _start over_\n"
    "• `/chatrec profile`: what chatrec keeps about you (`/chatrec profile json` for all of it)\n"
    "• `/chatrec forget`: delete everything chatrec keeps about you\n"
    "• `/chatrec help`: this message"
)
RATE_LIMITED = (
    "You're sending messages faster than I can keep up with. Give me about "
    "{seconds} seconds, then ask again; I'll answer everything after that."
)
APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't answer that. "
    "Please try again in a moment."
)
FEEDBACK_FAILED = "Sorry, I couldn't record that. Please try again in a moment."


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_CHARS)}}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def text_message(mrkdwn: str) -> dict:
    """A one-section message (``text`` is the notification fallback)."""
    return {"text": clip(mrkdwn, FALLBACK_CHARS), "blocks": [section(mrkdwn)]}


def mention(user: str) -> str:
    return f"<@{user}>" if is_slack_id(user) else "someone"


# ---------------------------------------------------------------- replies
def intro_text(reply) -> str:
    """The reply's text without the numbered list the recommendation sections repeat."""
    if not reply.recommendations:
        return reply.text
    lines = [line for line in reply.text.splitlines() if not _LIST_LINE.match(line)]
    return "\n".join(lines).strip()


def fact_text(fact) -> str:
    relation = _RELATIONS.get(fact.relation, fact.relation.replace("_", " "))
    return f"{escape(fact.subject_label)} {relation} {escape(fact.object_label)}"


def recommendation_blocks(index: int, rec, session_id: str) -> list[dict]:
    item = rec.item
    head = f"*{index}. {escape(item.title)}*" + (f" ({item.year})" if item.year else "")
    if item.genres:
        head += " · _" + escape(", ".join(item.genres)) + "_"
    body = head + ("\n" + markdown_to_mrkdwn(rec.explanation) if rec.explanation else "")
    blocks = [{"type": "divider"}, section(body, REC_BLOCK + item.id)]
    if rec.evidence:
        facts = " · ".join(dict.fromkeys(fact_text(f) for f in rec.evidence))
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip("Evidence: " + facts, SECTION_CHARS)}],
            }
        )
    value = json.dumps({"s": session_id, "i": item.id}, separators=(",", ":"))
    buttons = []
    for kind in FEEDBACK_KINDS:
        label, style, verb = _BUTTONS[kind]
        button = {
            "type": "button",
            "action_id": FEEDBACK_ACTION_PREFIX + kind,
            "value": value,
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "accessibility_label": f"{verb}: {clip(item.display, 60)}",
        }
        if style:
            button["style"] = style
        buttons.append(button)
    blocks.append(
        {"type": "actions", "block_id": (FEEDBACK_BLOCK + item.id)[:255], "elements": buttons}
    )
    return blocks


def reply_message(reply, session_id: str) -> dict:
    """``{"text", "blocks"}`` for ``chat.postMessage``: the reply's text, then one section per
    recommendation with its evidence and feedback buttons."""
    intro = intro_text(reply) or ("Here's what I found:" if reply.recommendations else "…")
    blocks = [section(markdown_to_mrkdwn(intro))]
    room = (MAX_BLOCKS - 1) // BLOCKS_PER_REC
    for i, rec in enumerate(reply.recommendations[:room], 1):
        blocks.extend(recommendation_blocks(i, rec, session_id))
    fallback = plain(reply.text)
    return {"text": clip(escape(fallback), FALLBACK_CHARS), "blocks": blocks}


def parse_feedback_value(value: str) -> tuple[str, str]:
    """(session_id, item_id) from a feedback button's value."""
    data = json.loads(value)
    return str(data["s"]), str(data["i"])


def after_feedback(blocks: list[dict], item_id: str, kind: str, user: str) -> list[dict]:
    """The message's blocks with that item's buttons replaced by who pressed what."""
    done = {
        "type": "context",
        "block_id": (FEEDBACK_BLOCK + item_id)[:255],
        "elements": [{"type": "mrkdwn", "text": _DONE[kind].format(who=mention(user))}],
    }
    return [done if b.get("block_id") == done["block_id"] else b for b in blocks]


# ---------------------------------------------------------------- /chatrec profile
def _titles(ids: list[str], labels: dict[str, str], limit: int = 15) -> str:
    names = [escape(labels.get(i, i)) for i in ids]
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def profile_text(exported: dict, label: Callable[[str], str]) -> str:
    """A person-readable summary of ``Agent.profile``'s export. ``label`` spells a KG node."""
    profile = exported.get("profile") or {}
    labels = exported.get("labels") or {}
    lines = ["*What chatrec keeps about you*"]
    for key, name in (
        ("liked_items", "Liked"),
        ("disliked_items", "Didn't like"),
        ("seen_items", "Seen"),
    ):
        if profile.get(key):
            lines.append(f"• {name}: {_titles(profile[key], labels)}")
    for key, name in (("liked_attributes", "Into"), ("disliked_attributes", "Not into")):
        if profile.get(key):
            lines.append(f"• {name}: " + ", ".join(escape(label(a)) for a in profile[key][:20]))
    sessions = exported.get("sessions") or []
    if sessions:
        lines.append(f"• Conversations: {len(sessions)} (what was said and suggested in each)")
    if exported.get("history"):
        lines.append(f"• Rating history: {exported['history'].get('ratings', 0)} ratings")
    if len(lines) == 1:
        lines.append("Nothing yet: no likes, dislikes or conversations are stored for you.")
    lines.append("\n`/chatrec profile json` shows all of it · `/chatrec forget` deletes all of it.")
    return "\n".join(lines)


def profile_json(exported: dict, limit: int = 35_000) -> str:
    """The full export as a JSON code block, clipped to what a Slack message holds."""
    text = json.dumps(exported, indent=1, ensure_ascii=False, default=str)
    note = ""
    if len(text) > limit:
        text, note = text[:limit], "\n(cut: the export is longer than a Slack message can hold)"
    return "```" + escape(text).replace("```", "'''") + "```" + note


def forgot_text(deleted: dict) -> str:
    sessions = len(deleted.get("sessions_deleted") or [])
    what = "your profile" if deleted.get("profile_deleted") else "no profile (none was stored)"
    return (
        f"Done: I deleted {what} and {sessions} conversation{'s' if sessions != 1 else ''}. "
        "chatrec keeps nothing else about you."
    )
