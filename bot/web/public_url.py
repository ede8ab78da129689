"""Absolute URLs of the server's own pages, for links that leave it (chart images in widgets).

`CXBOT_PUBLIC_URL` wins when set. Otherwise the URL is built from the request's scheme and `Host`
header as the server sees them: `X-Forwarded-Proto`/`X-Forwarded-Host` are deliberately not trusted
(anyone can send them), so behind a reverse proxy or TLS terminator set `CXBOT_PUBLIC_URL`.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.settings import Settings
from dialogs.types import RESULT, AnyChart

_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def base_url(request: web.Request, settings: Settings) -> str:
    """The server's address as visitors reach it, without a trailing slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = request.host
    if not _HOST.fullmatch(host):  # a made-up Host header must not produce a broken URL
        host = f"{settings.host}:{settings.port}"
    return f"{request.scheme}://{host}"


def chart_path(chart: AnyChart) -> str:
    """The path of a chart's picture: a person's result, or one of a campaign dashboard's charts."""
    if chart.of == RESULT:
        return f"/charts/{chart.token}.png"
    query = f"?round={chart.round}" if chart.round is not None else ""
    return f"/dashboard/{chart.token}/{chart.of}.png{query}"
