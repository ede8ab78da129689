"""A calculator's summary as a CSV download: `GET /calculations/{token}.csv[?lang=pt-BR]`.

The token is the result's own (the one `/csv` and the summary link to), so the address is the only
credential: the answer is `no-store` and `no-referrer`, and an unknown token is a 404 that says
nothing more. The rows are those `/csv` shows in the chat (`dialogs.calculator_view.calculation_csv`).
"""

from __future__ import annotations

from aiohttp import web

from bot.app_keys import ENGINE
from bot.http_errors import json_error

ROUTE = r"/calculations/{token:[A-Za-z0-9_-]{1,64}}.csv"
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def install(app: web.Application) -> None:
    """Add the download route."""
    app.router.add_get(ROUTE, calculation_csv)


async def calculation_csv(request: web.Request) -> web.Response:
    """The CSV of the calculation the token names, as an attachment named after its calculator."""
    found = await request.app[ENGINE].calculation_csv(request.match_info["token"], request.query.get("lang"))
    if found is None:
        return json_error(404, "there are no figures at this address (they may have been deleted)")
    disposition = f'attachment; filename="{found.calculator_id}.csv"'
    return web.Response(
        text=found.text,
        content_type="text/csv",
        charset="utf-8",
        headers={**PRIVATE, "Content-Disposition": disposition},
    )
