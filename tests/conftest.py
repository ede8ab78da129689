"""Shared fixtures: frameworks, stores on SQLite and PostgreSQL, engines."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dialogs.engine import Engine
from dialogs.types import Inbound, Reply
from frameworks.registry import FrameworkRegistry
from storage.store import Store, open_store
from tests.chat import Chat

DATA = Path(__file__).parent / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "CXBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly on any connection beyond this machine (tests never call a real service)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(str(host)):
            raise RuntimeError(f"test tried to reach {address!r}: tests stay on this machine")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _is_local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


@pytest.fixture(scope="session")
def frameworks() -> FrameworkRegistry:
    """The built-in frameworks plus a small 4-level test framework with review switched off."""
    return FrameworkRegistry.from_directories([DATA / "frameworks"])


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def new_postgres_database(prefix: str = "cxbot_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database with a unique name, dropped at the end (the test
    skips, or fails under CXBOT_REQUIRE_POSTGRES, when PostgreSQL is not running)."""
    if not _postgres_reachable():
        if os.environ.get("CXBOT_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (CXBOT_REQUIRE_POSTGRES is set) but 127.0.0.1:5432 is down")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with new_postgres_database() as url:
        yield url


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on both back ends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cxbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'cxbot.db'}")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def engine(sqlite_store: Store, frameworks: FrameworkRegistry) -> Engine:
    return Engine(frameworks, sqlite_store)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[Inbound]:
    """Every message that reaches any engine in this test."""
    calls: list[Inbound] = []
    real = Engine.handle

    async def spy(self: Engine, inbound: Inbound) -> list[Reply]:
        calls.append(inbound)
        return await real(self, inbound)

    monkeypatch.setattr(Engine, "handle", spy)
    return calls
