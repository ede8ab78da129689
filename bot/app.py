"""Wiring: settings to frameworks, store and engine, opened and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from bot.settings import Settings
from dialogs.catalogue import catalogue
from dialogs.engine import Engine
from frameworks.registry import FrameworkRegistry
from storage.repository import REMEMBER_REPLIES_FOR, forget_replies_before
from storage.store import open_store


@asynccontextmanager
async def running_engine(settings: Settings) -> AsyncIterator[Engine]:
    """An engine on a migrated store; the store is closed (and flushed) on exit."""
    frameworks = FrameworkRegistry.from_directories(settings.framework_dirs())
    store = await open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    await store.run(partial(forget_replies_before, before=datetime.now(UTC) - REMEMBER_REPLIES_FOR))
    try:
        yield Engine(frameworks, store, catalogue(settings.locale))
    finally:
        await store.close()
