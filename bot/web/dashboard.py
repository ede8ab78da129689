"""The facilitator's dashboard at a secret link: `/dashboard/{token}` and what the page loads.

- `GET /dashboard/{token}`: the page (`static/dashboard.html`); it polls the report and redraws.
- `GET /dashboard/{token}/report.json[?round=N]`: the report (`dialogs.report_json`), with an ETag
  so an unchanged report costs a 304.
- `GET /dashboard/{token}/{profile|levels|trend}.png[?round=N]`: its charts.
- `GET /dashboard/{token}/report.pdf[?round=N]`: the report with its charts, for leadership.
- `GET /dashboard/{token}/responses.csv[?round=N]`: the answer sets, one row per person who finished,
  without identity; 409 while the report is withheld.

The token is the only credential, so every answer says `no-store`, `no-referrer` (the token must not
leak to other sites through the Referer header) and `noindex`. An unknown token is a 404 that says
nothing more.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from functools import partial
from pathlib import Path

from aiohttp import web

from bot.app_keys import CHARTS, ENGINE
from bot.http_errors import json_error
from bot.settings import Settings
from dialogs.campaign_queries import Dashboard, dashboard
from dialogs.engine import Engine
from dialogs.report_csv import answer_sets_csv
from dialogs.report_json import report_json
from dialogs.report_view import level_chart, profile_chart, trend_chart
from dialogs.types import LEVELS, PROFILE, TREND, AnyChart
from storage.response_rows import answer_sets

PAGE = Path(__file__).resolve().parent / "static" / "dashboard.html"
TOKEN = r"{token:[A-Za-z0-9_-]{1,64}}"
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
CHARTS_BY_NAME = (PROFILE, LEVELS, TREND)


def install(app: web.Application, settings: Settings, engine: Engine) -> None:
    """Add the dashboard's routes."""
    base = f"/dashboard/{TOKEN}"
    app.router.add_get(base, page)
    app.router.add_get(f"{base}/report.json", report)
    app.router.add_get(f"{base}/report.pdf", pdf)
    app.router.add_get(f"{base}/responses.csv", responses)
    app.router.add_get(base + "/{chart:profile|levels|trend}.png", chart)


async def page(request: web.Request) -> web.StreamResponse:
    """The dashboard page; for a token that names no campaign the same page with status 404 (it says
    the link does not work, and reveals nothing)."""
    status = 404 if await _load(request) is None else 200
    headers = {**PRIVATE, "Content-Security-Policy": _PAGE_POLICY}
    return web.FileResponse(PAGE, status=status, headers=headers)


async def report(request: web.Request) -> web.Response:
    found = await _load(request)
    if found is None:
        return _not_found()
    engine = request.app[ENGINE]
    data = report_json(engine.context.cat, found.report)
    data["progress"] = {
        "joined": found.progress.members,
        "started": found.progress.started,
        "completed": found.progress.completed,
        "left": found.progress.left,
    }
    data["campaign"]["rounds"] = found.campaign.round
    data["campaign"]["closed"] = found.campaign.closed_at is not None
    body = json.dumps(data, sort_keys=True).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={**PRIVATE, "ETag": etag})
    return web.Response(body=body, content_type="application/json", headers={**PRIVATE, "ETag": etag})


async def chart(request: web.Request) -> web.Response:
    found = await _load(request)
    if found is None:
        return _not_found()
    picture = _chart(request, found)
    if picture is None:
        return json_error(409, "this chart has nothing to show yet (the report is withheld)", PRIVATE)
    png = await request.app[CHARTS].png(picture)
    return web.Response(body=png, content_type="image/png", headers=PRIVATE)


def _chart(request: web.Request, found: Dashboard) -> AnyChart | None:
    report, token = found.report, found.campaign.dashboard_token
    if report.withheld:
        return None
    name = request.match_info["chart"]
    if name == PROFILE:
        return profile_chart(report.framework, report, token)
    if name == LEVELS:
        return level_chart(request.app[ENGINE].context.cat, report, token)
    return trend_chart(request.app[ENGINE].context.cat, report, token) if report.trend else None


async def pdf(request: web.Request) -> web.Response:
    found = await _load(request)
    if found is None:
        return _not_found()
    from bot.report_pdf import report_pdf  # matplotlib's PDF backend: loaded when first asked for

    cat = request.app[ENGINE].context.cat
    document = await asyncio.to_thread(report_pdf, cat, found.report)
    name = f"cxbot-report-{found.report.code}-round-{found.report.round}.pdf"
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
    return web.Response(body=document, content_type="application/pdf", headers=headers)


async def responses(request: web.Request) -> web.Response:
    found = await _load(request)
    if found is None:
        return _not_found()
    campaign, report = found.campaign, found.report
    job = partial(answer_sets, campaign_id=campaign.id, round_=report.round, min_group=campaign.min_group)
    sets = await request.app[ENGINE].store.read(job)
    if sets is None:
        return json_error(
            409, f"no answers are shown until {campaign.min_group} people have finished", PRIVATE
        )
    name = f"cxbot-answers-{report.code}-round-{report.round}.csv"
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
    text = answer_sets_csv(report.framework, sets)
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers=headers)


async def _load(request: web.Request) -> Dashboard | None:
    engine = request.app[ENGINE]
    round_ = request.query.get("round", "")
    number = int(round_) if round_.isascii() and round_.isdigit() and len(round_) < 6 else None
    token = request.match_info["token"]
    return await engine.store.read(partial(dashboard, context=engine.context, token=token, round_=number))


def _not_found() -> web.Response:
    return json_error(404, "there is no dashboard at this address", PRIVATE)


_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
