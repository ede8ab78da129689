"""Settings from `CXBOT_*` environment variables and an optional `.env` file."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

TELEGRAM_TOKEN = re.compile(r"[0-9]+:[^\s:]+")
"""A Telegram bot token's shape: the bot's id, a colon and the secret (no spaces)."""


class Settings(BaseSettings):
    """Every setting has a default that runs locally on SQLite with nothing else set up."""

    model_config = SettingsConfigDict(env_prefix="CXBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///cxbot.db"
    """`sqlite:///path.db` or `postgresql://user@host/db`; cxbot picks the drivers."""
    frameworks_path: str = ""
    """Extra directories of framework files, separated like PATH; the built-in ones always load."""
    sqlite_synchronous: str = Field(default="NORMAL", pattern="^(NORMAL|FULL)$")
    locale: str = "en"

    # HTTP server (`cxbot serve`)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    """The address people reach the server at, for absolute links such as chart images."""
    webhook_secret: SecretStr | None = None
    """Bridges sign their requests with it; a signed request speaks for the bridge's own people
    (see docs/webhook.md). Unsigned requests are web visitors, kept apart."""
    web_visitors: Literal["any", "issued", "none"] = "any"
    """Who may chat without a signature: `any` visitor id (cxbot's web chat, whose ids the server
    issues, and widgets such as Rasa's that make their own), only `issued` ones, or `none`."""
    rate_per_sender: str = "60/minute"
    """Messages one person may send (signed or not), as `N/second|minute|hour`; empty: no limit."""
    rate_per_address: str = "600/minute"
    """Unsigned requests from one network address (web visitors and new visitor ids); empty: no limit."""
    trusted_proxies: str = "127.0.0.1,::1"
    """Addresses or networks of reverse proxies whose X-Forwarded-For names the real client."""
    cors_origins: str = "*"
    """Comma-separated origins allowed to call the webhook from a browser, or `*`."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    callback_url: str | None = None
    """Default URL to POST replies to, for integrations that cannot wait for a reply."""
    callback_allow_private: bool = False
    """Allow callbacks to loopback, private and link-local addresses (for local integrations)."""

    request_timeout: float = Field(default=20.0, gt=0, le=3600)
    """Seconds a client has to send a whole request, headers and body, before its connection is closed."""
    keepalive_timeout: float = Field(default=75.0, gt=0, le=3600)
    """Seconds an idle connection stays open for the client's next request."""
    connections_soft_cap: int | None = Field(default=None, ge=1)
    """Open connections beyond which only /healthz and /metrics are served (503 otherwise); default:
    from the descriptor limit (`bot.connections`)."""
    connections_hard_cap: int | None = Field(default=None, ge=2)
    """Open connections beyond which new ones are closed at once; default: from the descriptor limit
    (nine tenths of it, at most 10,000)."""

    scheduler_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often `cxbot serve` looks for due campaign work (closing dates, reminders to push)."""

    # Operations (`cxbot serve`): shutdown, logs, metrics
    shutdown_timeout: float = Field(default=25.0, gt=0, le=3600)
    """Seconds from SIGTERM for work in flight to finish (requests, Telegram updates and sends,
    callbacks, reminders) before what is left is abandoned and the process exits."""
    log_level: str = Field(default="INFO", pattern="^(?i:DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_format: Literal["auto", "json", "text"] = "auto"
    """JSON lines, or text for people; `auto`: text on a terminal, JSON otherwise."""
    metrics_allow: str = "127.0.0.1,::1"
    """Addresses or networks that may read `/metrics` when they connect directly (not through a
    proxy: a request with X-Forwarded-For is refused); empty: no metrics."""

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str | None = None
    telegram_rate: float = Field(default=25.0, ge=1, le=30)
    """Messages the bot sends a second, over all chats (Telegram refuses much beyond 30)."""

    @field_validator("rate_per_sender", "rate_per_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        if value.strip():
            try:
                limits.parse_many(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a rate like 60/minute or 10 per 2 seconds") from None
        return value.strip()

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network like 10.0.0.0/8") from None
        return value

    @field_validator("telegram_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # set but empty: no Telegram bot, as if unset
        if not TELEGRAM_TOKEN.fullmatch(value.get_secret_value()):  # the token itself is never echoed
            raise PydanticCustomError(
                "telegram_token",
                "not a bot token: use the one @BotFather gave you, such as 4839574812:AAFD39kkdpWt3ywyRZ (the"
                " bot's number, a colon and the secret)",
            )
        return value

    @model_validator(mode="after")
    def _someone_can_chat(self) -> Settings:
        if self.web_visitors == "none" and self.webhook_secret is None:
            raise ValueError(
                "CXBOT_WEB_VISITORS=none refuses every unsigned request: set CXBOT_WEBHOOK_SECRET"
            )
        return self

    def framework_dirs(self) -> list[Path]:
        return [Path(part) for part in self.frameworks_path.split(os.pathsep) if part]
