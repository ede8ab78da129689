"""Shared by the webhook tests: the real app on 127.0.0.1 over a real SQLite store, and no network.

`OfflineResolver` stands in for DNS: it knows a few test names and fails to resolve any other, so
no name lookup leaves this machine (and conftest's guard fails any connection beyond it).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer

from bot.app import running_engine
from bot.app_keys import RESOLVER
from bot.server import build_app
from bot.settings import Settings
from dialogs.engine import Engine

REST = "/webhooks/rest/webhook"
KNOWN_NAMES = {
    "localhost": "127.0.0.1",
    "receiver.test": "127.0.0.1",
    "intranet.test": "10.1.2.3",
    "rebind.test": "169.254.169.254",
    "public.test": "93.184.215.14",
}


class OfflineResolver(AbstractResolver):
    """Resolves only `KNOWN_NAMES`; counts look-ups so tests can see none happened."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in KNOWN_NAMES:  # as if there were no DNS at all
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not a name the tests know")
        return [resolved(host, KNOWN_NAMES[host], port)]

    async def close(self) -> None:
        pass


def resolved(host: str, address: str, port: int) -> ResolveResult:
    """What a resolver answers for `host`: one numeric IPv4 address."""
    return ResolveResult(
        hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST
    )


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a test: a SQLite file in `tmp_path`, nothing read from the environment."""
    overrides.setdefault("database_url", f"sqlite:///{tmp_path}/t.db")
    return Settings(_env_file=None, **overrides)


@asynccontextmanager
async def running_app(
    settings: Settings, kind: type[Engine] = Engine
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Engine]]:
    """A client of the whole app served on 127.0.0.1, and the engine (of `kind`) behind it."""
    async with running_engine(settings, kind) as engine:
        app = build_app(settings, engine)
        app[RESOLVER] = OfflineResolver()
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield client, engine


async def say(
    client: TestClient[web.Request, web.Application], sender: str, message: str, **extra: Any
) -> Any:
    """POST one message to the REST webhook; the JSON answer (status must be 200)."""
    response = await client.post(REST, json={"sender": sender, "message": message, **extra})
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def texts(messages: list[dict[str, Any]]) -> str:
    """All texts of a list of messages, joined."""
    return "\n".join(message.get("text", "") for message in messages)
