"""`cxbot serve` refuses to start with a clear message, not a traceback, when a channel cannot start."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.server import serve
from bot.settings import Settings


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'serve.db'}",
        port=0,
        telegram_token=SecretStr("123456:test-token"),
        **changes,  # type: ignore[arg-type]
    )


def test_unreachable_telegram_api_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    assert serve(settings(tmp_path, telegram_api_url=unreachable)) == 1
    error = capsys.readouterr().err
    assert "cxbot: the Telegram bot cannot start" in error
    assert "check CXBOT_TELEGRAM_* settings" in error
    assert "Traceback" not in error


def test_bad_telegram_webhook_secret_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = settings(
        tmp_path,
        telegram_webhook_url="https://bot.example.org/telegram",
        telegram_webhook_secret=SecretStr("not allowed!"),
    )
    assert serve(bad) == 1
    assert "CXBOT_TELEGRAM_WEBHOOK_SECRET may only use" in capsys.readouterr().err
