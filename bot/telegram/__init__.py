"""The Telegram channel (aiogram 3): `service` runs the bot in `cxbot serve`; the other modules are
its parts (the router and handlers, polling, delivery, rendering, button data, the per-person gate,
flood control, what is logged).

`install` is the server's channel installer. aiogram takes seconds and a hundred megabytes to import,
so it is imported only when a token is configured: a server without Telegram never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.settings import Settings
    from dialogs.engine import Engine


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Run the Telegram bot with the app, if a token is configured."""
    if settings.telegram_token is None:
        return
    from bot.telegram import service

    service.install(app, settings, engine)
