"""``SlackBot``: the Bolt app over an ``Agent``.

Every listener acknowledges at once (``process_before_response=True``: the ack runs in the
request's own thread) and does its work in a lazy listener on the bot's worker pool, so a busy
agent never makes Slack wait past its 3-second limit. The work:

* ``app_mention`` (channels) and ``message`` (DMs): de-duplicate (event id and message ts),
  rate-limit per user, ``agent.respond`` in the thread's session, post the reply as Block Kit.
* feedback buttons: ``agent.feedback``, then ``chat.update`` the message.
* ``/chatrec reset | profile | forget | help``: ephemeral answers through ``response_url``.

Failures become a short apology in the thread; details go to the log, never to Slack.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from chatrec.slack import blocks as B
from chatrec.slack.config import SlackSettings
from chatrec.slack.limits import Deduper, RateLimiter
from chatrec.slack.text import clip, escape, slack_to_plain
from chatrec.slack.threads import (
    DM_THREAD,
    Conversation,
    channel_prefix,
    session_id_for,
    user_id_for,
)

logger = logging.getLogger(__name__)

# Message subtypes that are a person talking (everything else: edits, joins, bots, deletions).
_SPOKEN_SUBTYPES = {None, "file_share", "thread_broadcast"}
_COMMANDS = ("reset", "profile", "forget")
# Slack answers these when a message's blocks are unacceptable; the reply is re-sent as text.
_BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_attachments"}


@dataclass
class Stats:
    """What the bot did since it started (for logs, tests and the benchmark)."""

    replies: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    errors: int = 0
    feedback: int = 0
    commands: int = 0
    # agent turn + render + post, per reply (the latest 1000)
    reply_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


def web_client(settings: SlackSettings) -> WebClient:
    """A Web API client for the bot token, at ``SLACK_API_URL``, retrying Slack's 429s."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    client = WebClient(
        token=token,
        base_url=settings.api_url,
        timeout=30,
        logger=logging.getLogger("chatrec.slack.web"),
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


class SlackBot:
    """chatrec in a Slack workspace.

    Args:
        agent: the ``chatrec.agent.Agent`` every conversation goes to.
        settings: credentials and limits (``SlackSettings()`` reads the environment).
        client: a Web API client (default: ``web_client(settings)``).
        token_verification: call ``auth.test`` now (Bolt learns the bot's user id from it,
            which it needs to ignore the bot's own messages).

    Attributes:
        app: the ``slack_bolt.App``; serve it with ``chatrec.slack.serve``.
        stats: counters of what the bot did.
    """

    def __init__(
        self,
        agent,
        settings: SlackSettings | None = None,
        *,
        client: WebClient | None = None,
        token_verification: bool = True,
    ):
        self.agent = agent
        self.settings = settings or SlackSettings()
        self.client = client or web_client(self.settings)
        self.limiter = RateLimiter(self.settings.rate_burst, self.settings.rate_per_minute)
        self.deduper = Deduper()
        self.stats = Stats()
        self._stats_lock = threading.Lock()
        self.executor = ThreadPoolExecutor(
            self.settings.workers, thread_name_prefix="chatrec-slack"
        )
        secret = (
            self.settings.signing_secret.get_secret_value() if self.settings.signing_secret else ""
        )
        self.app = App(
            client=self.client,
            signing_secret=secret,
            process_before_response=True,
            listener_executor=self.executor,
            token_verification_enabled=token_verification,
            logger=logging.getLogger("chatrec.slack.bolt"),
        )
        self._register()

    # ---------------------------------------------------------------- wiring
    def _register(self) -> None:
        app = self.app
        app.event("app_mention")(ack=_ack, lazy=[self.on_mention])
        app.event("message")(ack=_ack, lazy=[self.on_message])
        app.action(re.compile("^" + B.FEEDBACK_ACTION_PREFIX))(ack=_ack, lazy=[self.on_feedback])
        # Whatever the command is called in the manifest, it is this app's only command.
        app.command(re.compile(r"^/"))(ack=self.ack_command, lazy=[self.on_command])

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish the turns already started."""
        self.executor.shutdown(wait=wait, cancel_futures=not wait)

    def _count(self, name: str, value: float | None = None) -> None:
        with self._stats_lock:
            if value is None:
                setattr(self.stats, name, getattr(self.stats, name) + 1)
            else:
                getattr(self.stats, name).append(value)

    # ---------------------------------------------------------------- messages
    def on_mention(self, body: dict, event: dict, context) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        self.handle_message(body, event, context.bot_user_id)

    def on_message(self, body: dict, event: dict, context) -> None:
        # Channel messages arrive as app_mention; only direct messages are handled here.
        if event.get("channel_type") != "im" or event.get("subtype") not in _SPOKEN_SUBTYPES:
            return
        if event.get("bot_id") or not event.get("user"):
            return
        self.handle_message(body, event, context.bot_user_id)

    def handle_message(self, body: dict, event: dict, bot_user_id: str | None) -> None:
        """Answer one person's message in its thread (once, whatever Slack redelivers)."""
        conv = Conversation.from_event(body, event)
        if not self.deduper.first(
            body.get("event_id"), f"msg:{conv.team}:{conv.channel}:{conv.ts}"
        ):
            self._count("duplicates")
            logger.info("ignored a redelivered event for %s", conv.session_id)
            return
        decision = self.limiter.check(conv.user_id)
        if not decision.allowed:
            self._count("rate_limited")
            if decision.notify:
                self._ephemeral(
                    conv, B.RATE_LIMITED.format(seconds=max(1, round(decision.retry_after)))
                )
            return
        started = time.perf_counter()
        try:
            text = slack_to_plain(event.get("text") or "", bot_user_id)
            reply = self.agent.respond(conv.session_id, text, user_id=conv.user_id)
            message = B.reply_message(reply, conv.session_id)
        except Exception:
            self._count("errors")
            logger.exception("could not answer in %s", conv.session_id)
            self._post(conv, B.text_message(B.APOLOGY))
            return
        if self._post(conv, message):
            self._count("replies")
            ms = (time.perf_counter() - started) * 1000
            self._count("reply_ms", ms)
            logger.info(
                "answered in %s (%d recommendations, %.0f ms)",
                conv.session_id,
                len(reply.recommendations),
                ms,
            )

    def _post(self, conv: Conversation, message: dict) -> bool:
        kwargs = {
            "channel": conv.channel,
            "thread_ts": conv.reply_thread_ts,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        try:
            self.client.chat_postMessage(**kwargs, **message)
            return True
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            logger.warning("chat.postMessage failed in %s: %s", conv.session_id, error)
            if error in _BLOCK_ERRORS and message.get("blocks"):
                # The text alone still answers; the buttons are lost for this message.
                return self._post(conv, {"text": message["text"]})
        except Exception:
            logger.exception("chat.postMessage failed in %s", conv.session_id)
        self._count("errors")
        return False

    def _ephemeral(self, conv: Conversation, text: str) -> None:
        try:
            self.client.chat_postEphemeral(
                channel=conv.channel, user=conv.user, text=text, thread_ts=conv.reply_thread_ts
            )
        except Exception:
            logger.warning("could not send a notice in %s", conv.session_id, exc_info=True)

    # ---------------------------------------------------------------- buttons
    def on_feedback(self, body: dict, action: dict, respond) -> None:
        """👍 / 👎 / seen on a recommendation: into the session and the profile, then the
        message shows who pressed what instead of that item's buttons."""
        kind = action.get("action_id", "")[len(B.FEEDBACK_ACTION_PREFIX) :]
        user = (body.get("user") or {}).get("id", "")
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        try:
            session_id, item_id = B.parse_feedback_value(action.get("value", ""))
            if kind not in B.FEEDBACK_KINDS or not session_id.startswith(
                channel_prefix(team, channel)
            ):
                logger.warning("ignored a feedback action that does not belong to this channel")
                return
            # The presser owns the feedback, even in a thread they never typed in.
            self.agent.feedback(session_id, item_id, kind, user_id=user_id_for(team, user))
            self._count("feedback")
        except Exception:
            self._count("errors")
            logger.exception("feedback failed")
            _safe_respond(respond, B.FEEDBACK_FAILED)
            return
        message = body.get("message") or {}
        ts = message.get("ts") or container.get("message_ts")
        if not message.get("blocks") or not ts:
            return
        try:
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=message.get("text") or "",
                blocks=B.after_feedback(message["blocks"], item_id, kind, user),
            )
        except Exception:
            logger.warning("chat.update failed after feedback in %s", session_id, exc_info=True)

    # ---------------------------------------------------------------- /chatrec
    def ack_command(self, ack, command: dict) -> None:
        """``help`` (and anything unknown) is answered in the ack itself; the others after."""
        words = (command.get("text") or "").strip().split()
        word = words[0].lower() if words else "help"
        if word in _COMMANDS:
            ack()
        elif word in ("help", "?"):
            ack(text=B.HELP, response_type="ephemeral")
        else:
            ack(
                text=f"I don't know `{escape(clip(word, 40))}`.\n\n{B.HELP}",
                response_type="ephemeral",
            )

    def on_command(self, command: dict, respond) -> None:
        words = (command.get("text") or "").strip().split()
        word = words[0].lower() if words else "help"
        if word not in _COMMANDS:
            return
        self._count("commands")
        user_id = user_id_for(command.get("team_id", ""), command.get("user_id", ""))
        try:
            if word == "reset":
                text = self.reset(command)
            elif word == "profile":
                exported = self.agent.profile(user_id)
                wants_json = len(words) > 1 and words[1].lower() in ("json", "export", "all")
                text = (
                    B.profile_json(exported)
                    if wants_json
                    else B.profile_text(exported, self._label)
                )
            else:
                text = B.forgot_text(self.agent.forget(user_id))
        except Exception:
            self._count("errors")
            logger.exception("/chatrec %s failed", word)
            text = B.APOLOGY
        _safe_respond(respond, text)

    def reset(self, command: dict) -> str:
        """Start over the user's latest conversation in this channel (in a DM: the DM's main
        conversation). A slash command carries no thread, so "latest" picks the thread."""
        team, channel = command.get("team_id", ""), command.get("channel_id", "")
        user_id = user_id_for(team, command.get("user_id", ""))
        prefix = channel_prefix(team, channel)
        sessions = [
            s
            for s in self.agent.profile(user_id).get("sessions", [])
            if str(s.get("session_id", "")).startswith(prefix)
        ]
        dm_session = session_id_for(team, channel, DM_THREAD)
        if any(s["session_id"] == dm_session for s in sessions):
            target = dm_session
        elif sessions:
            target = max(sessions, key=lambda s: s.get("updated_at") or 0)["session_id"]
        else:
            return (
                "There's no conversation of yours here to start over yet. Mention me to begin one."
            )
        self.agent.reset(target)
        where = (
            "our conversation here"
            if target == dm_session
            else "your latest thread with me in this channel"
        )
        return (
            f"Done: I started {where} over. What you liked and disliked is kept "
            "(`/chatrec forget` deletes it). Inside a thread you can also just say _start over_."
        )

    def _label(self, node: str) -> str:
        kg = getattr(self.agent, "kg", None)
        return kg.label(node) if kg is not None else node.split(":", 1)[-1]


def _ack(ack) -> None:
    ack()


def _safe_respond(respond, text: str) -> None:
    try:
        respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:
        logger.warning("could not answer through response_url", exc_info=True)
