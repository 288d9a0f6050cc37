"""Who is talking where: Slack events → chatrec session ids and user ids.

One chatrec session per Slack thread, keyed by workspace, channel and thread: a mention in a
channel starts a thread under the message and every later mention in that thread continues it.
A direct message outside a thread continues the DM's running conversation (a DM reads like a
chat, not a list of threads); a thread inside the DM is a session of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

DM_THREAD = "dm"


def user_id_for(team: str, user: str) -> str:
    """The profile owner for a Slack user: likes carry across threads and channels."""
    return f"slack:{team}:{user}"


def session_id_for(team: str, channel: str, thread: str) -> str:
    return f"slack:{team}:{channel}:{thread}"


def channel_prefix(team: str, channel: str) -> str:
    """The start of every session id in one channel (``/chatrec reset`` looks them up)."""
    return f"slack:{team}:{channel}:"


@dataclass(frozen=True)
class Conversation:
    """Where a message was said and where the answer goes.

    Attributes:
        team: the workspace that received the event.
        channel: channel or DM id.
        user: the Slack user who wrote.
        user_team: the user's own workspace (differs in shared channels).
        thread: the session's thread key (a thread ts, or ``"dm"``).
        reply_thread_ts: ``thread_ts`` for the reply (None: a top-level DM reply).
        ts: the message's own ts.
        is_dm: a direct message.
    """

    team: str
    channel: str
    user: str
    user_team: str
    thread: str
    reply_thread_ts: str | None
    ts: str
    is_dm: bool

    @property
    def session_id(self) -> str:
        return session_id_for(self.team, self.channel, self.thread)

    @property
    def user_id(self) -> str:
        return user_id_for(self.user_team, self.user)

    @classmethod
    def from_event(cls, body: dict, event: dict) -> Conversation:
        """From an ``app_mention`` or ``message`` event callback (``body`` is the envelope)."""
        team = str(body.get("team_id") or event.get("team") or "")
        user_team = str(event.get("user_team") or event.get("team") or team)
        ts = str(event.get("ts") or "")
        thread_ts = event.get("thread_ts")
        is_dm = event.get("channel_type") == "im"
        if is_dm and not thread_ts:
            thread, reply_thread = DM_THREAD, None
        else:
            thread = str(thread_ts or ts)
            reply_thread = thread
        return cls(
            team=team,
            channel=str(event.get("channel") or ""),
            user=str(event.get("user") or ""),
            user_team=user_team,
            thread=thread,
            reply_thread_ts=reply_thread,
            ts=ts,
            is_dm=is_dm,
        )
