"""The web chat page: `GET /` serves `bot/web/static/index.html`, and `bot/web/static/` is under `/static/`.

The page is a client of the webhook like any other widget; nothing here knows what it does. The
static files are the ones in that folder when the app is built, served by name (no sub-folders, no
listing); any other name is a JSON 404 like every other error (aiohttp's `add_static` answers its
own, plain 404 and 403).
"""

from __future__ import annotations

from functools import partial
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
        files = frozenset(path.name for path in STATIC.iterdir() if path.is_file())
        app.router.add_get("/static/{name}", partial(static_file, files=files))


async def index(request: web.Request) -> web.StreamResponse:
    """The chat page, or a 404 saying it is not installed."""
    page = STATIC / "index.html"
    if not page.is_file():
        return json_error(404, "the web chat page is not installed (bot/web/static/index.html is missing)")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


async def static_file(request: web.Request, files: frozenset[str]) -> web.StreamResponse:
    """One of the page's files (conditional requests and ranges are aiohttp's), or a JSON 404."""
    name = request.match_info["name"]
    if name not in files:
        return json_error(404, f"there is nothing at {request.path}")
    return web.FileResponse(STATIC / name)
