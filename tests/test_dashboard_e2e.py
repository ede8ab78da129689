"""End to end: the campaign dashboard (bot/web/static/dashboard.*) in headless Chromium on the real app.

A facilitator creates a campaign through the REST webhook and opens the dashboard link from the
reply; participants join and answer through the webhook while the page is open, and the page must
follow without a reload. The browser is Debian's `chromium` driven by Playwright, as in
`test_webchat_e2e.py` (whose fixtures these tests share); without it the tests skip, unless
CXBOT_REQUIRE_BROWSER is set.

With CXBOT_SCREENSHOTS=1 the report with data is also photographed for the docs
(docs/images/dashboard-desktop.png and dashboard-phone.png); normal runs write no files.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.test_webchat_e2e import HAVE_PLAYWRIGHT, STATIC, new_page
from tests.test_webchat_e2e import browser as browser  # a fixture: pytest finds it here by its name
from tests.webhook_support import running_app, say, settings_for, texts

if HAVE_PLAYWRIGHT or TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Locator, Page, Response, Route, expect

pytestmark = pytest.mark.browser

Client = TestClient[web.Request, web.Application]
CODE = re.compile(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})")
DASHBOARD_LINK = re.compile(r"https?://[^\s()\[\]]+/dashboard/[A-Za-z0-9_-]+")
SCORE = re.compile(r"\b\d\.\d\b")
"""A score as the page writes one (3.2); no other number on the page has a decimal point."""
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
UPDATE_TIMEOUT = 15_000
DIMENSION = "Citizen insights"
"""One of the CX pulse check's dimensions."""


@dataclass(frozen=True)
class Campaign:
    code: str
    url: str
    """The dashboard's absolute address, as the bot's reply gives it."""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Client]:
    """The whole app on 127.0.0.1 over SQLite, as a client of its webhook."""
    async with running_app(settings_for(tmp_path)) as (client, _engine):
        yield client


async def new_campaign(client: Client, title: str = "Team check") -> Campaign:
    """`/campaign new` from the owner; the join code and dashboard link read out of the reply."""
    reply = texts(await say(client, "owner", f"/campaign new cx-pulse {title}"))
    code, link = CODE.search(reply), DASHBOARD_LINK.search(reply)
    assert code, reply
    assert link, reply
    return Campaign(code.group(1), link.group(0))


async def take_part(
    client: Client, sender: str, code: str, answers: Sequence[int], command: str = "/join"
) -> None:
    """Join (or start the next round with `/start`) and give `answers`: all 5 finishes the check."""
    await say(client, sender, f"{command} {code}")
    for value in answers:
        await say(client, sender, str(value))


class Watch:
    """What the page does: script errors, CSP refusals, report.json answers, full page loads."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.report_statuses: list[int] = []
        self.loads = 0
        self.answered = asyncio.Event()
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("load", self._loaded)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every failed request as "Failed to load resource"; the tests abort some on
        # purpose and check the page's own handling instead. Anything else (a CSP refusal) counts.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        if urlsplit(response.url).path.endswith("/report.json"):
            self.report_statuses.append(response.status)
            self.answered.set()

    def _loaded(self, page: Page) -> None:
        self.loads += 1

    async def checks(self, status: int, at_least: int) -> None:
        """Wait until report.json has answered `status` `at_least` times (the page keeps polling)."""
        async with asyncio.timeout(UPDATE_TIMEOUT / 1000):
            while self.report_statuses.count(status) < at_least:
                self.answered.clear()
                await self.answered.wait()


def stat(page: Page, name: str) -> Locator:
    """A progress figure (Joined, Started, Finished, Left)."""
    return page.locator(".dash-stat", has=page.locator("dt", has_text=re.compile(f"^{name}$"))).locator("dd")


async def focus_ring(page: Page) -> dict[str, Any]:
    """The focused element and whether it shows a focus ring of at least 2 px."""
    found = await page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(), text: el.textContent.trim(), id: el.id,
            ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          };
        }"""
    )
    assert isinstance(found, dict)
    return found


async def tab_until(page: Page, wanted: str, presses: int = 12) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until an element whose text (or id) is `wanted` has focus."""
    await page.get_by_role("heading", level=1).click()  # Tab goes on from here
    seen = []
    for _ in range(presses):
        await page.keyboard.press("Tab")
        focused = await focus_ring(page)
        seen.append(focused)
        if wanted in (focused["text"], focused["id"]):
            return seen
    raise AssertionError(f"Tab never reached {wanted!r}; it went through {seen}")


async def no_page_scroll(page: Page) -> None:
    """Nothing wider than the screen: only table boxes may scroll sideways, never the page."""
    widths = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


async def chart_loaded(page: Page, chart: Locator) -> None:
    await chart.scroll_into_view_if_needed()
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
    )


async def all_charts_loaded(page: Page) -> None:
    await page.wait_for_function(
        "() => [...document.querySelectorAll('img')].every(img => img.complete && img.naturalWidth > 0)"
    )


# ---------- the tests ----------


async def test_withheld_then_live_update_downloads_keyboard_and_phone_width(
    browser: Browser, app: Client
) -> None:
    """(a) withheld, (b) updates in place as people finish, (c) the chart, (g) the CSV, (d) keyboard,
    a lost connection, and (e) a phone-sized screen: one campaign, one page, polled every second."""
    campaign = await new_campaign(app)
    senders = [f"webchat-4f1c9a-person{n}" for n in range(6)]
    answers = [(3, 4, 2, 3, 4), (2, 3, 3, 4, 5), (4, 4, 3, 2, 3), (1, 2, 2, 3, 3), (5, 4, 4, 3, 2)]
    for sender, values in zip(senders[:2], answers, strict=False):
        await take_part(app, sender, campaign.code, values)
    await take_part(app, senders[5], campaign.code, (3, 3))  # started, not finished

    context, page, _ = await new_page(browser)
    watch = Watch(page)
    try:
        await page.goto(campaign.url + "?poll=1")

        # (a) Too few have finished: a panel says how many more, and there is no score anywhere.
        panel = page.locator(".dash-card--withheld")
        await expect(panel).to_contain_text("3 more people need to finish")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Team check")
        await expect(page.locator(".dash-meta")).to_contain_text(f"Join code {campaign.code}")
        for name, value in (("Joined", "3"), ("Started", "1"), ("Finished", "2"), ("Left", "0")):
            await expect(stat(page, name)).to_have_text(value)
        shown = await page.locator("body").inner_text()
        assert not SCORE.search(shown), shown
        assert "Group stage" not in shown
        assert await page.locator("img, table").count() == 0
        assert await page.locator("a[href*='responses.csv']").count() == 0, "no CSV while withheld"
        await expect(page.locator(".dash-unavailable")).to_contain_text("once 5 people have finished")
        csv_status = await app.get(campaign.path + "/responses.csv")
        assert csv_status.status == 409

        # Unchanged reports cost a 304 and announce nothing; a changed number is announced once.
        await page.evaluate(
            """() => {
              window.sameDocument = true;
              window.announced = [];
              const region = document.querySelector('[role=status][aria-live=polite]');
              new MutationObserver(() => window.announced.push(region.textContent))
                .observe(region, { childList: true, characterData: true, subtree: true });
            }"""
        )
        await watch.checks(304, at_least=2)
        assert await page.evaluate("window.announced") == []
        await take_part(app, senders[2], campaign.code, answers[2])
        await expect(panel).to_contain_text("2 more people need to finish")
        announcer = page.get_by_role("status").filter(has_text="Report updated")
        await expect(announcer).to_contain_text("2 more people need to finish")

        # (b) Two more finish while the page is open: it shows the group result without a reload.
        for sender, values in zip(senders[3:5], answers[3:5], strict=True):
            await take_part(app, sender, campaign.code, values)
        stage = page.locator(".dash-headline")
        await expect(stage).to_contain_text("Group stage", timeout=UPDATE_TIMEOUT)
        await expect(stage).to_contain_text(re.compile(r"Group stage \w+ \d\.\d of 5"))
        await expect(announcer).to_contain_text(re.compile(r"Group stage: \w+, \d\.\d of 5, from 5 people"))
        assert await page.evaluate("window.sameDocument") is True
        assert watch.loads == 1, "the page must update in place, not reload"
        await expect(stat(page, "Finished")).to_have_text("5")
        await expect(panel).to_have_count(0)
        table = page.get_by_role("table", name=re.compile("^Group score per dimension"))
        await expect(table.get_by_role("rowheader", name=DIMENSION)).to_be_visible()
        await expect(
            page.get_by_role("table", name=re.compile("^People who gave each answer"))
        ).to_be_visible()
        await expect(page.get_by_role("heading", name="Road map: quick wins first")).to_be_visible()

        # (c) The profile chart loads, and its text alternative gives the scores in words.
        profile = page.get_by_role("img", name=re.compile(rf"^Group profile: .*{DIMENSION} \d\.\d \w+"))
        await chart_loaded(page, profile)
        assert "profile.png?round=1&v=" in (await profile.get_attribute("src") or "")
        levels = page.get_by_role(
            "img", name=re.compile(r"^Answers per question, .*Room to act for citizens: ")
        )
        await expect(levels).to_have_count(1)

        # (g) The CSV the page links to: one row per person who finished, nobody's sender id.
        csv_link = page.get_by_role("link", name="Download the answers (CSV)")
        href = await csv_link.get_attribute("href")
        assert href is not None
        download = await app.get(urlsplit(href).path + "?" + urlsplit(href).query)
        assert download.status == 200
        body = await download.text()
        rows = list(csv.reader(io.StringIO(body)))
        assert ",".join(rows[0]).startswith("pseudonym,round,framework_version,group")
        assert len(rows) == 1 + 5, body
        for sender in senders:
            assert sender not in body
            assert sender not in await page.locator("body").inner_text()
        await expect(page.get_by_role("link", name="Download the report (PDF)")).to_have_attribute(
            "href", re.compile(r"/report\.pdf\?round=1$")
        )

        # (d) Keyboard: Tab reaches both downloads, each with a visible focus ring (one round: no picker).
        assert not await page.get_by_label("Round", exact=True).is_visible()
        stops = await tab_until(page, "Download the answers (CSV)")
        reached = {stop["text"]: stop["ring"] for stop in stops}
        assert reached.get("Download the report (PDF)") is True, stops
        assert reached.get("Download the answers (CSV)") is True, stops

        # The server can't be reached: the figures stay, with a note that it is retrying.
        await page.route("**/report.json*", lambda route: route.abort())
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("can\u2019t be reached")
        await expect(alert).to_contain_text("Trying again every 1 second")
        await expect(stage).to_contain_text("Group stage")
        await page.unroute("**/report.json*")
        await expect(page.locator(".dash-notice")).to_be_empty()

        # (e) On a phone-sized screen nothing scrolls sideways but the tables in their boxes.
        await page.set_viewport_size({"width": 360, "height": 740})
        await expect(stage).to_be_visible()
        await no_page_scroll(page)
        assert watch.errors == []
    finally:
        await context.close()


async def test_two_rounds_round_picker_and_screenshots(browser: Browser, app: Client) -> None:
    """Seven people answer round 1, six round 2: the trend, the round picker, and the docs' pictures."""
    campaign = await new_campaign(app, "Service team pulse")
    first = [(3, 4, 2, 3, 4), (2, 3, 3, 4, 5), (4, 4, 3, 2, 3), (1, 2, 2, 3, 3), (5, 4, 4, 3, 2),
             (3, 3, 2, 2, 4), (2, 4, 3, 1, 3)]  # fmt: skip
    second = [(4, 4, 3, 4, 4), (3, 4, 3, 4, 5), (4, 5, 4, 3, 3), (2, 3, 3, 3, 4), (5, 5, 4, 4, 3),
              (3, 4, 3, 3, 4)]  # fmt: skip
    people = [f"tg-20931{n}" for n in range(7)]
    for sender, values in zip(people, first, strict=True):
        await take_part(app, sender, campaign.code, values)
    assert "Round 2" in texts(await say(app, "owner", f"/campaign round {campaign.code}"))
    for sender, values in zip(people, second, strict=False):
        await take_part(app, sender, campaign.code, values, command="/start")

    shoot = os.environ.get("CXBOT_SCREENSHOTS") == "1"
    context, page, _ = await new_page(browser, width=1280, height=900)
    watch = Watch(page)
    try:
        await page.goto(campaign.url)
        picker = page.get_by_label("Round", exact=True)
        await expect(picker).to_have_value("2")
        await expect(picker.locator("option")).to_have_text(["Round 1", "Round 2 (current)"])
        trend = page.get_by_role("table", name=re.compile("^Group score in each round"))
        await expect(trend.get_by_role("columnheader")).to_have_text(["Score", "Round 1", "Round 2"])
        await expect(trend.get_by_role("row", name=re.compile("^People who finished"))).to_have_text(
            re.compile(r"People who finished\s*5\s*5")  # in the report: 2 and 1 wait for their batch
        )
        await expect(
            page.get_by_role("img", name=re.compile(r"^Group score by round\. Overall: round 1"))
        ).to_have_count(1)
        await chart_loaded(page, page.get_by_role("img", name=re.compile("^Group profile")))
        await expect(stat(page, "Finished")).to_have_text("6")

        # (d) The round picker is the first stop, with a focus ring; the arrow keys change the round.
        stops = await tab_until(page, "dash-round")
        assert len(stops) == 1, stops
        assert stops[0]["ring"] is True
        await page.keyboard.press("ArrowUp")
        await expect(page.locator(".dash-meta")).to_contain_text("Round 1 of 2")
        await expect(page.get_by_role("status")).to_contain_text("Showing round 1.")
        assert page.url.endswith("?round=1")
        await expect(page.locator(".dash-headline")).to_contain_text("Group stage")
        await expect(page.get_by_text(re.compile(r"^From 5 people who finished round 1\."))).to_be_visible()
        await expect(
            page.get_by_text(re.compile(r"^Not in the report yet: 2 finished answer set"))
        ).to_be_visible()
        profile = page.get_by_role("img", name=re.compile("^Group profile"))
        assert "profile.png?round=1&" in (await profile.get_attribute("src") or "")
        await expect(page.get_by_role("link", name="Download the answers (CSV)")).to_have_attribute(
            "href", re.compile(r"/responses\.csv\?round=1$")
        )
        await page.keyboard.press("ArrowDown")
        await expect(page.locator(".dash-meta")).to_contain_text("Round 2 of 2")
        assert "round=" not in page.url, "the current round is followed without a round in the address"
        await expect(picker).to_be_focused()

        if shoot:
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            await page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
            await all_charts_loaded(page)
            await page.screenshot(path=DOCS_IMAGES / "dashboard-desktop.png", full_page=True)
        assert watch.errors == []
    finally:
        await context.close()

    context, page, _ = await new_page(browser, width=360, height=780, phone=True)
    watch = Watch(page)
    try:
        await page.goto(campaign.url)
        await expect(page.locator(".dash-headline")).to_contain_text("Group stage")
        await expect(page.get_by_label("Round", exact=True)).to_be_visible()
        await no_page_scroll(page)
        # A table wider than the screen scrolls in its own box, which keyboard users can focus.
        boxes = page.locator(".dash-scroll[tabindex='0']")
        assert await boxes.count() > 0
        assert await boxes.first.get_attribute("aria-labelledby")
        if shoot:  # the first screens: title, downloads, progress, group result, dimension table
            await all_charts_loaded(page)
            table = await page.locator(".dash-table-block").first.bounding_box()
            assert table is not None
            end = table["y"] + table["height"] + 16
            await page.screenshot(
                path=DOCS_IMAGES / "dashboard-phone.png",
                full_page=True,
                clip={"x": 0, "y": 0, "width": 360, "height": end},
            )
        assert watch.errors == []
    finally:
        await context.close()


async def test_unknown_token_gets_a_friendly_message(browser: Browser, app: Client) -> None:
    """(f) A link that names no campaign: the page says so in words, and stops asking."""
    path = "/dashboard/NoSuchToken_0123456789abcdef"
    page_answer = await app.get(path)
    # The server answers an unknown token's page with a JSON 404, so the browser would never run the
    # page there; serve the page itself at that address (as the server does for a known token) to
    # see what it makes of the 404 its report.json then gets.
    assert page_answer.status == 404
    context, page, _ = await new_page(browser)
    watch = Watch(page)
    url = str(app.make_url(path)) + "?poll=1"
    html = (STATIC / "dashboard.html").read_text()
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )

    async def serve_page(route: Route) -> None:
        await route.fulfill(body=html, content_type="text/html", headers={"Content-Security-Policy": policy})

    try:
        await page.route(url, serve_page)
        await page.goto(url)
        alert = page.get_by_role("alert")
        await expect(
            alert.get_by_role("heading", name="This dashboard link doesn\u2019t work")
        ).to_be_visible()
        await expect(alert).to_contain_text("There is no dashboard at this address")
        await expect(page.get_by_role("link")).to_have_count(0)
        await expect(page.locator(".dash-loading")).to_be_hidden()
        await asyncio.sleep(1.5)
        assert watch.report_statuses == [404], "after a 404 the page stops asking"
        assert watch.errors == []
    finally:
        await context.close()


HOSTILE = '<img src=x onerror="document.title=1">'


async def test_report_texts_are_shown_as_text_and_hidden_groups_say_why(
    browser: Browser, app: Client
) -> None:
    """Titles and framework texts never become markup; a withheld group shows no numbers; a chart that
    fails to load says the table has its figures."""
    campaign = await new_campaign(app, HOSTILE)
    for n in range(5):
        await take_part(app, f"p{n}", campaign.code, (n % 5 + 1, 3, 4, (n + 2) % 5 + 1, 2))
    context, page, _ = await new_page(browser)
    watch = Watch(page)

    async def with_groups(route: Route) -> None:
        """The real report plus groups (the chat cannot make a campaign with groups yet)."""
        real = await route.fetch()
        data = await real.json()
        assert data["groups"] == []
        data["groups"] = [
            {"name": "Front office", "completed": 5, "withheld": False, "overall": data["overall"],
             "dimensions": data["dimensions"]},
            {"name": HOSTILE, "completed": 2, "withheld": True, "overall": {}, "dimensions": []},
        ]  # fmt: skip
        data["roadmap"][0]["text"] = HOSTILE
        headers = {k: v for k, v in real.headers.items() if k.lower() not in ("content-length", "etag")}
        await route.fulfill(response=real, body=json.dumps(data), headers=headers)

    try:
        await page.route("**/report.json*", with_groups)
        await page.route("**/levels.png*", lambda route: route.fulfill(status=500))
        await page.goto(campaign.url)
        await expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
        groups = page.get_by_role("table", name=re.compile("^Group score and dimension scores per group"))
        hidden = groups.get_by_role("row", name=re.compile("^<img"))
        await expect(hidden).to_contain_text("Not shown, to protect anonymity")
        assert not SCORE.search(await hidden.inner_text())
        assert "2" not in await hidden.inner_text(), "a hidden group's size is not shown either"
        front = groups.get_by_role("row", name=re.compile("^Front office")).get_by_role("cell")
        await expect(front.first).to_have_text("5")
        await expect(front.nth(1)).to_have_text(SCORE)
        await expect(page.locator(".dash-roadmap-text").first).to_have_text(HOSTILE)
        assert await page.locator("img[src='x']").count() == 0
        assert await page.title() == f"{HOSTILE}: campaign dashboard - cxbot"
        answers = page.get_by_role("region", name="Answers per question")
        await expect(answers.get_by_text("This chart could not be loaded")).to_be_visible()
        await expect(answers.get_by_role("img")).to_have_count(0)
        assert watch.errors == []
    finally:
        await context.close()
