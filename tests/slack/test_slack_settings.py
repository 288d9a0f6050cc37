"""Settings, limits, manifest, log redaction and the CLI: the parts that need no agent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from slack_support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from typer.testing import CliRunner

from chatrec.errors import ConfigError
from chatrec.slack.config import SlackSettings
from chatrec.slack.limits import Deduper, RateLimiter
from chatrec.slack.manifest import manifest, manifest_text, manifest_yaml
from chatrec.slack.redact import REDACTED, RedactSecrets
from chatrec.slack.threads import Conversation
from chatrec.testing.slack import dm_event, mention_event

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_then_refuses_politely_once():
    clock = Clock()
    limiter = RateLimiter(burst=2, per_minute=60, clock=clock)
    assert [limiter.check("u").allowed for _ in range(2)] == [True, True]
    refused = limiter.check("u")
    assert not refused.allowed and refused.notify and 0 < refused.retry_after <= 1.0
    again = limiter.check("u")
    assert not again.allowed and not again.notify  # one notice per flood
    assert limiter.check("other").allowed  # per user
    clock.now += 1.0
    assert limiter.check("u").allowed
    clock.now += 0.1
    assert limiter.check("u").notify  # a new flood gets a new notice


def test_deduper_remembers_every_key_for_its_ttl():
    clock = Clock()
    dedupe = Deduper(ttl=60, clock=clock)
    assert dedupe.first("Ev1", "msg:C:1")
    assert not dedupe.first("Ev1")  # a retry of the same event
    assert not dedupe.first("Ev2", "msg:C:1")  # the same message under another event
    assert dedupe.first("Ev3", None)
    clock.now += 61
    assert dedupe.first("Ev1")


def test_conversations_key_sessions_by_thread():
    top = Conversation.from_event(*_parts(mention_event("hi", ts="1.1")))
    reply = Conversation.from_event(*_parts(mention_event("hi", ts="1.5", thread_ts="1.1")))
    assert top.session_id == reply.session_id == "slack:T0CHATREC:C0MOVIES:1.1"
    assert top.reply_thread_ts == "1.1" and top.user_id == "slack:T0CHATREC:U0ALICE"
    dm = Conversation.from_event(*_parts(dm_event("hi", ts="2.1")))
    assert dm.session_id == "slack:T0CHATREC:D0ALICE:dm" and dm.reply_thread_ts is None
    dm_thread = Conversation.from_event(*_parts(dm_event("hi", ts="2.9", thread_ts="2.1")))
    assert (
        dm_thread.session_id == "slack:T0CHATREC:D0ALICE:2.1" and dm_thread.reply_thread_ts == "2.1"
    )


def _parts(body: dict) -> tuple[dict, dict]:
    return body, body["event"]


def test_settings_read_slacks_variable_names(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("CHATREC_SLACK_RATE_BURST", "7")
    settings = SlackSettings(_env_file=None)
    assert settings.api_url == "http://127.0.0.1:9/api/" and settings.rate_burst == 7
    settings.check("socket")
    settings.check("http")
    shown = repr(settings) + str(settings.model_dump())
    assert BOT_TOKEN not in shown and APP_TOKEN not in shown and SIGNING_SECRET not in shown
    assert set(settings.secrets()) == {BOT_TOKEN, APP_TOKEN, SIGNING_SECRET}


@pytest.mark.parametrize(
    "mode, values, expected",
    [
        ("socket", {}, "SLACK_BOT_TOKEN"),
        ("socket", {"bot_token": BOT_TOKEN}, "SLACK_APP_TOKEN"),
        ("http", {"bot_token": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ("socket", {"bot_token": APP_TOKEN, "app_token": BOT_TOKEN}, "should be a bot token"),
        (
            "socket",
            {"bot_token": BOT_TOKEN, "app_token": BOT_TOKEN},
            "should be an app-level token",
        ),
    ],
)
def test_missing_or_swapped_credentials_are_named_never_shown(monkeypatch, mode, values, expected):
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        SlackSettings(_env_file=None, **values).check(mode)
    assert expected in str(caught.value)
    assert BOT_TOKEN not in str(caught.value) and APP_TOKEN not in str(caught.value)


def test_manifest_has_what_the_bot_uses():
    data = manifest()
    assert data["settings"]["socket_mode_enabled"] is True
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
    }
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} == set(
        data["oauth_config"]["scopes"]["bot"]
    )
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/chatrec"]
    assert data["features"]["app_home"]["messages_tab_enabled"] is True
    # The packaged copy is the repository's file.
    assert manifest_text() == (REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8")


def test_http_manifest_points_everything_at_the_request_url():
    url = "https://chatrec.example.com/slack/events"
    data = yaml.safe_load(manifest_yaml(url))
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert data["features"]["slash_commands"][0]["url"] == url
    with pytest.raises(ConfigError, match="https"):
        manifest("http://localhost:3000/slack/events")


def test_cli_prints_the_manifest():
    from chatrec.cli import app

    result = CliRunner().invoke(app, ["slack", "manifest"])
    assert result.exit_code == 0, result.output
    assert result.output == manifest_text()
    result = CliRunner().invoke(
        app, ["slack", "manifest", "--request-url", "https://x.example/slack/events"]
    )
    assert result.exit_code == 0 and "request_url: https://x.example/slack/events" in result.output


def test_cli_refuses_to_start_without_credentials(monkeypatch):
    from chatrec.cli import app

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO / "tests")  # no .env here
    result = CliRunner().invoke(app, ["slack", "--http"])
    assert isinstance(result.exception, ConfigError)
    assert "SLACK_BOT_TOKEN" in str(result.exception) and "SLACK_SIGNING_SECRET" in str(
        result.exception
    )


def test_cli_reports_a_rejected_token_in_one_line(monkeypatch, slack_api):
    from chatrec.cli import app

    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack_api.url)
    slack_api.fail("auth.test", "invalid_auth")
    result = CliRunner().invoke(app, ["slack"])
    assert isinstance(result.exception, ConfigError)
    assert "invalid_auth" in str(result.exception) and BOT_TOKEN not in str(result.exception)
    assert slack_api.of("auth.test")[0].authorization == f"Bearer {BOT_TOKEN}"


def test_redaction_filter_hides_tokens_in_messages_arguments_and_tracebacks():
    flt = RedactSecrets([SIGNING_SECRET])
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "token %s and %s", (BOT_TOKEN, SIGNING_SECRET), None
    )
    try:
        raise RuntimeError(f"failed with {APP_TOKEN}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert flt.filter(record)
    text = record.getMessage() + record.exc_text
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text and APP_TOKEN not in text
    assert text.count(REDACTED) == 3
    assert (
        flt.redact("xoxp-12345678-abc and xoxe.not-a-token") == f"{REDACTED} and xoxe.not-a-token"
    )
