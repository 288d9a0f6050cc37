"""The Slack app's settings: Slack's own variable names for credentials, ``CHATREC_SLACK_*`` for
chatrec's knobs. Credentials are ``SecretStr`` so they never print in a repr, a log or a trace."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatrec.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class SlackSettings(BaseSettings):
    """Where the Slack app's credentials and limits come from (environment or ``.env``).

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN`` (``xoxb-…``), the bot's Web API token.
        app_token: ``SLACK_APP_TOKEN`` (``xapp-…``, scope ``connections:write``), Socket Mode.
        signing_secret: ``SLACK_SIGNING_SECRET``, verifies HTTP-mode requests.
        api_url: ``SLACK_API_URL``, the Web API base URL (proxies, Enterprise set-ups, tests).
        rate_burst: messages a user may send at once before the rate limit answers.
        rate_per_minute: sustained messages per user and minute.
        workers: threads that run agent turns (acks never wait for them).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_BOT_TOKEN", "bot_token")
    )
    app_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_APP_TOKEN", "app_token")
    )
    signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_alias("SLACK_SIGNING_SECRET", "signing_secret")
    )
    api_url: str = Field(
        default=DEFAULT_API_URL, validation_alias=_alias("SLACK_API_URL", "api_url")
    )
    rate_burst: int = Field(
        default=5, ge=1, validation_alias=_alias("CHATREC_SLACK_RATE_BURST", "rate_burst")
    )
    rate_per_minute: float = Field(
        default=20.0,
        gt=0,
        validation_alias=_alias("CHATREC_SLACK_RATE_PER_MINUTE", "rate_per_minute"),
    )
    workers: int = Field(
        default=4, ge=1, le=64, validation_alias=_alias("CHATREC_SLACK_WORKERS", "workers")
    )

    @field_validator("api_url", mode="after")
    @classmethod
    def _slash(cls, value: str) -> str:
        # slack_sdk joins base_url and the method name by concatenation.
        value = (value or DEFAULT_API_URL).strip()
        return value if value.endswith("/") else value + "/"

    def secrets(self) -> list[str]:
        """The credential values (for the log redaction filter)."""
        return [
            s.get_secret_value()
            for s in (self.bot_token, self.app_token, self.signing_secret)
            if s is not None and s.get_secret_value()
        ]

    def check(self, mode: str) -> None:
        """Fail with a message the user can act on when ``mode`` ("socket" or "http") lacks a
        credential or a token is of the wrong kind. Never echoes a credential."""
        missing = []
        if not _value(self.bot_token):
            missing.append(
                "SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-…, under OAuth & Permissions)"
            )
        if mode == "socket" and not _value(self.app_token):
            missing.append(
                "SLACK_APP_TOKEN (an App-Level Token with connections:write, xapp-…, "
                "under Basic Information)"
            )
        if mode == "http" and not _value(self.signing_secret):
            missing.append("SLACK_SIGNING_SECRET (under Basic Information → App Credentials)")
        if missing:
            how = "chatrec slack" if mode == "socket" else "chatrec slack --http"
            raise ConfigError(f"`{how}` needs " + " and ".join(missing) + "; see docs/slack.md.")
        if not _value(self.bot_token).startswith("xoxb-"):
            raise ConfigError(
                "SLACK_BOT_TOKEN should be a bot token starting with xoxb- "
                "(OAuth & Permissions → Bot User OAuth Token)."
            )
        if mode == "socket" and not _value(self.app_token).startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN should be an app-level token starting with xapp- "
                "(Basic Information → App-Level Tokens, scope connections:write)."
            )


def _value(secret: SecretStr | None) -> str:
    return secret.get_secret_value().strip() if secret is not None else ""
