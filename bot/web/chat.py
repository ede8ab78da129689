"""The web chat page: `GET /` serves `bot/web/static/index.html`, and `bot/web/static/` is under `/static/`.

The page is a client of the webhook like any other widget; nothing here knows what it does.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.http_errors import json_error
from bot.settings import Settings
from dialogs.engine import Engine

STATIC = Path(__file__).resolve().parent / "static"


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Add the page and its static files."""
    app.router.add_get("/", index)
    if STATIC.is_dir():
        app.router.add_static("/static/", STATIC, append_version=False)


async def index(request: web.Request) -> web.StreamResponse:
    """The chat page, or a 404 saying it is not installed."""
    page = STATIC / "index.html"
    if not page.is_file():
        return json_error(404, "the web chat page is not installed (bot/web/static/index.html is missing)")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})
