"""Settings from `CXBOT_*` environment variables and an optional `.env` file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    """When set, webhook requests must be signed with it (see docs/webhook.md)."""
    cors_origins: str = "*"
    """Comma-separated origins allowed to call the webhook from a browser, or `*`."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    callback_url: str | None = None
    """Default URL to POST replies to, for integrations that cannot wait for a reply."""
    callback_allow_private: bool = False
    """Allow callbacks to loopback, private and link-local addresses (for local integrations)."""

    scheduler_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often `cxbot serve` looks for due campaign work (closing dates, reminders to push)."""

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str | None = None
    telegram_rate: float = Field(default=25.0, ge=1, le=30)
    """Messages the bot sends a second, over all chats (Telegram refuses much beyond 30)."""

    def framework_dirs(self) -> list[Path]:
        return [Path(part) for part in self.frameworks_path.split(os.pathsep) if part]
