"""Wiring: settings to frameworks, store and engine, opened and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from bot.settings import Settings
from dialogs.catalogue import catalogue
from dialogs.engine import Engine
from dialogs.pinning import record_offered
from frameworks.registry import FrameworkRegistry
from frameworks.translations import Translations
from storage.repository import REMEMBER_REPLIES_FOR, forget_replies_before
from storage.store import open_store


@asynccontextmanager
async def running_engine(settings: Settings, kind: type[Engine] = Engine) -> AsyncIterator[Engine]:
    """An engine (of `kind`: `cxbot serve` counts what it does) on a migrated store; the store is
    closed (and flushed) on exit."""
    frameworks = FrameworkRegistry.from_directories(settings.framework_dirs())
    translations = Translations.from_directories(settings.framework_dirs())
    translations.check(frameworks.all())  # a translation that cannot be used stops the start, with its line
    store = await open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    await store.run(partial(forget_replies_before, before=datetime.now(UTC) - REMEMBER_REPLIES_FOR))
    await record_offered(store, frameworks)  # before anyone is served: every run's version is stored
    try:
        yield kind(frameworks, store, catalogue(settings.locale), translations)
    finally:
        await store.close()
