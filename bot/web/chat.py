"""The web chat page: `GET /` serves `bot/web/static/index.html`, and `bot/web/static/` is under `/static/`.

The page is a client of the webhook like any other widget; nothing here knows what it does. Its
words, and the widget's (`GET /chat/strings`), are in the visitor's language (`bot.web.chat_words`).
The static files are the ones in that folder when the app is built, served by name (no
sub-folders, no listing); any other name is a JSON 404 like every other error (aiohttp's
`add_static` answers its own, plain 404 and 403).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from aiohttp import web

from bot.http_errors import json_error
from bot.settings import Settings
from bot.web.chat_words import STRINGS_PATH, ChatWords
from dialogs.engine import Engine

STATIC = Path(__file__).resolve().parent / "static"


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Add the page, the widget's words and the static files."""
    page = STATIC / "index.html"
    words = ChatWords(engine.languages, page.read_text(encoding="utf-8") if page.is_file() else None)
    app.router.add_get("/", partial(index, words=words))
    app.router.add_get(STRINGS_PATH, words.strings)
    if STATIC.is_dir():
        files = frozenset(path.name for path in STATIC.iterdir() if path.is_file())
        app.router.add_get("/static/{name}", partial(static_file, files=files))


async def index(request: web.Request, words: ChatWords) -> web.StreamResponse:
    """The chat page in the language the browser asks for, or a 404 saying it is not installed."""
    locale, _ = words.locale_of(request)
    page = words.page(locale)
    if page is None:
        return json_error(404, "the web chat page is not installed (bot/web/static/index.html is missing)")
    headers = {
        "Cache-Control": "no-cache",
        "Content-Language": locale,
        "ETag": page.etag,
        "Vary": "Accept-Language",
    }
    if request.headers.get("If-None-Match") == page.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=page.body, content_type="text/html", charset="utf-8", headers=headers)


async def static_file(request: web.Request, files: frozenset[str]) -> web.StreamResponse:
    """One of the page's files (conditional requests and ranges are aiohttp's), or a JSON 404."""
    name = request.match_info["name"]
    if name not in files:
        return json_error(404, f"there is nothing at {request.path}")
    return web.FileResponse(STATIC / name)
