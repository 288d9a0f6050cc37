"""Text between Slack and chatrec: mrkdwn escaping, chatrec's markdown → Slack mrkdwn, and
Slack's message markup → the plain text the agent reads.

Slack mrkdwn treats ``&``, ``<`` and ``>`` as control characters (``<@U123>`` is a mention,
``<!channel>`` pings everyone), so every string that comes from a user or the catalog is escaped
before it is put into a message; a title like "<!channel>" then prints as itself.
"""

from __future__ import annotations

import html
import re

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CGD][A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<![^>]*>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")


def escape(text: str) -> str:
    """Escape a user or catalog string for mrkdwn (``&``, ``<``, ``>``; nothing else is
    reserved). Always escape before adding markup of our own."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_mrkdwn(text: str) -> str:
    """chatrec's reply markdown (titles as ``**Title** (Year)``) → escaped Slack mrkdwn
    (``*Title* (Year)``)."""
    return _BOLD.sub(r"*\1*", escape(text))


def plain(text: str) -> str:
    """chatrec's reply markdown → plain text (for notification fallbacks and plain_text fields)."""
    return _BOLD.sub(r"\1", str(text))


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis. Slack rejects a
    whole message when one field is over its limit, so every field is clipped."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    # Never leave half an entity (``&am``) or an unclosed bold span behind.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    if cut.count("*") % 2:
        cut = cut.replace("*", "")
    return cut.rstrip() + "…"


def slack_to_plain(text: str, bot_user_id: str | None = None) -> str:
    """A Slack message as the agent should read it: the bot's own mention removed, other
    mentions, channels and links as words, entities unescaped."""

    def user(match: re.Match) -> str:
        return "" if bot_user_id and match.group(1) == bot_user_id else "someone"

    text = _USER.sub(user, str(text or ""))
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "a channel", text)
    text = _SPECIAL.sub("", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(html.unescape(text).split())


def is_slack_id(value: str | None) -> bool:
    """Whether a value looks like a Slack id (U…, T…, C…): safe to put into ``<@…>`` markup."""
    return bool(value) and bool(_SLACK_ID.match(value))
