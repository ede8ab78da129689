"""The dashboard's PDF and chart routes on the real app: while the report is withheld the PDF says only
how many more are needed and the charts are refused (no figure in any body); once shown, a real PDF
with the numbers and real PNG pictures; an unknown dashboard token is a 404 on every route."""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

from aiohttp import ClientResponse
from PIL import Image

from tests.test_campaign_webhook import Client, create, finish, settings_with_test_frameworks
from tests.test_report_charts import page_count, pdf_text, shows
from tests.webhook_support import running_app

CHARTS = ("profile", "levels", "trend")
PNG = b"\x89PNG\r\n\x1a\n"


def private(response: ClientResponse) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def pdf_of(client: Client, dashboard: str) -> tuple[int, str]:
    """The dashboard's PDF: its pages and its text."""
    response = await client.get(f"/{dashboard}/report.pdf")
    assert (response.status, response.content_type) == (200, "application/pdf")
    private(response)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cxbot-report-')
    document = await response.read()
    assert document.startswith(b"%PDF-")
    assert document.rstrip().endswith(b"%%EOF")
    return page_count(document), pdf_text(document)


async def test_the_pdf_and_charts_while_withheld_and_when_shown(tmp_path: Path) -> None:
    async with running_app(settings_with_test_frameworks(tmp_path)) as (client, _):
        code, dashboard = await create(client)
        for n in range(4):
            await finish(client, f"member-{n}", code, "342")

        pages, text = await pdf_of(client, dashboard)
        assert pages == 1
        assert shows(text, "The report appears once at least 5 people have finished")
        for figure in ("Group stage", "People at each stage", "Answers per question", "Road map", "median"):
            assert figure not in text
        assert not re.search(r"\d\.\d", text), text  # no score anywhere
        for chart in CHARTS:
            refused = await client.get(f"/{dashboard}/{chart}.png")
            assert (refused.status, refused.content_type) == (409, "application/json"), chart
            private(refused)
            body = await refused.read()
            assert not body.startswith(PNG)
            assert (await refused.json()) == {
                "error": "this chart has nothing to show yet (the report is withheld)"
            }

        await finish(client, "member-4", code, "342")
        _, text = await pdf_of(client, dashboard)
        assert shows(text, "Group stage: High (3.0 of 4), from 5 people who finished.")
        assert shows(text, "Answers per question")
        sizes = set()
        for chart in CHARTS:
            picture = await client.get(f"/{dashboard}/{chart}.png")
            assert (picture.status, picture.content_type) == (200, "image/png"), chart
            private(picture)
            data = await picture.read()
            assert data.startswith(PNG)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                assert image.format == "PNG"
                assert min(image.size) > 100
                sizes.add((image.size, len(data)))
        assert len(sizes) == 3  # three different pictures


async def test_an_unknown_dashboard_token_is_404_on_every_route(tmp_path: Path) -> None:
    async with running_app(settings_with_test_frameworks(tmp_path)) as (client, _):
        _, dashboard = await create(client)  # a real campaign exists: its token is not guessable
        real = dashboard.split("/")[-1]
        for token in (secrets.token_urlsafe(24), real[:-1], real.upper() if real != real.upper() else "x"):
            for route in ("report.pdf", "report.json", "responses.csv", *(f"{c}.png" for c in CHARTS)):
                response = await client.get(f"/dashboard/{token}/{route}")
                assert response.status == 404, (token, route)
                private(response)
                assert (await response.json()) == {"error": "there is no dashboard at this address"}
        too_long = await client.get(f"/dashboard/{'a' * 65}/report.pdf")
        assert too_long.status == 404
        assert not (await too_long.read()).startswith(b"%PDF")
