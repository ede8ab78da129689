"""End to end: the web chat page (bot/web/static) in headless Chromium against a running cxbot server.

The page is served by a second web server on another port, a different origin, as a site embedding
the chat would serve it, with `data-server` on its script tag pointing at cxbot: the browser's CORS
checks run for real. The browser is Debian's `chromium` driven by Playwright (`.ci/install-browser`);
Playwright's own browser downloads are not used.

Without the browser or Playwright the tests skip, unless CXBOT_REQUIRE_BROWSER is set (CI), when
they fail. Screenshots go to CXBOT_SCREENSHOT_DIR when set, else to the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from aiohttp import web

from bot.app import running_engine
from bot.server import build_app
from bot.settings import Settings

HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
if HAVE_PLAYWRIGHT or TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Route, expect

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC = Path(__file__).resolve().parent.parent / "bot" / "web" / "static"
QUESTIONS = 11
ANSWERS = (3, 4, 2, 3, 5, 3, 4, 2, 3, 4, 3)
"""One value per CX question, so the result has a mix of stages."""
ISSUED_ID = re.compile(r"^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$")
"""A visitor id as the server issues it (`bot.web.visitors`)."""


# ---------- fixtures: the browser, the embedding site, the bot ----------


def _missing_browser() -> str | None:
    if not HAVE_PLAYWRIGHT:
        return "Playwright is not installed (pip install playwright; no browser download needed)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (run .ci/install-browser)"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    missing = _missing_browser()
    if missing:
        if os.environ.get("CXBOT_REQUIRE_BROWSER"):
            pytest.fail(f"the browser tests are required (CXBOT_REQUIRE_BROWSER is set), but {missing}")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run `app` on an ephemeral port of 127.0.0.1; returns the runner and the origin."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


EMBEDDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Our council</title><link rel="icon" href="data:,"></head>
<body><article><h1>Rate our citizen experience</h1>
<script src="{bot}/static/chat.js" data-server="{bot}" data-framework="cx-maturity"></script>
</article></body></html>
"""
"""A site's own page with cxbot's script tag in it, as the comment at the top of chat.js shows."""


@pytest.fixture
async def embedder() -> AsyncIterator[str]:
    """Another site: serves bot/web/static (the page at /, its files under /static/) and a page of its own
    (/embed.html?bot=<cxbot's address>) that embeds the chat from cxbot with a script tag."""

    async def index(request: web.Request) -> web.Response:
        """cxbot's own page, as a site would copy it, its script tag pointed at the bot (`?bot=`)."""
        bot = html.escape(request.query.get("bot", ""), quote=True)
        tag = f'<script data-server="{bot}" src='
        page = (STATIC / "index.html").read_text().replace("<script src=", tag)
        return web.Response(text=page, content_type="text/html")

    async def embedding(request: web.Request) -> web.Response:
        bot = html.escape(request.query.get("bot", ""), quote=True)
        return web.Response(text=EMBEDDING_PAGE.format(bot=bot), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/embed.html", embedding)
    app.router.add_static("/static", STATIC)
    runner, origin = await _serve(app)
    try:
        yield origin
    finally:
        await runner.cleanup()


@pytest.fixture
async def bot(tmp_path: Path, embedder: str) -> AsyncIterator[str]:
    """cxbot's HTTP server on a temporary SQLite database, allowing only the embedder's origin, with
    bridges' secret set (the chat must work beside them) and taking only visitor ids it issued (so
    the page must ask for one rather than make it up)."""
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'cxbot.db'}",
        cors_origins=embedder,
        public_url=None,
        webhook_secret="bridges-sign-with-this",
        web_visitors="issued",
        callback_url=None,
        telegram_token=None,
        telegram_webhook_url=None,
    )
    async with running_engine(settings) as engine:
        runner, origin = await _serve(build_app(settings, engine))
        try:
            yield origin
        finally:
            await runner.cleanup()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CXBOT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Console:
    """Collects the page's script errors and console errors, which should stay empty."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


# ---------- helpers that read the chat like a person would ----------


async def settled(page: Page, state: str = "idle") -> None:
    """Wait until no message is on its way (the widget's data-state leaves "busy")."""
    await expect(page.locator(".cxbot")).to_have_attribute("data-state", state)


def last_options(page: Page) -> Locator:
    """The newest message's answer buttons (locators re-resolve: this follows the conversation)."""
    return page.locator(".cxbot-msg--bot .cxbot-buttons").last


async def pinned_options(page: Page) -> Locator:
    """The newest message's answer buttons, staying on that message as new ones arrive."""
    groups = page.locator(".cxbot-msg--bot .cxbot-buttons")
    return groups.nth(await groups.count() - 1)


def option(group: Locator, value: int) -> Locator:
    return group.locator(".cxbot-option", has_text=re.compile(rf"^{value} - "))


async def stored_sender(page: Page) -> str:
    """The visitor id the page keeps in localStorage (one key per bot server)."""
    found = await page.evaluate(
        "Object.entries(localStorage).filter(([key]) => key.startsWith('cxbot.visitor:')).map(([, v]) => v)"
    )
    assert isinstance(found, list)
    assert len(found) == 1, found
    return str(found[0])


async def new_page(
    browser: Browser, width: int = 1024, height: int = 768, phone: bool = False, locale: str = "en-US"
) -> tuple[BrowserContext, Page, Console]:
    """A page in a fresh browser profile; `locale` is the browser's language (navigator.languages
    and Accept-Language)."""
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        locale=locale,
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return context, page, Console(page)


async def answer_by_click(page: Page, number: int, value: int) -> None:
    """Answer question `number` (which must be the one on screen) by clicking the `value` button."""
    await expect(last_options(page)).to_have_attribute(
        "aria-label", re.compile(rf"Question {number} of {QUESTIONS}\b")
    )
    group = await pinned_options(page)
    chosen = option(group, value)
    await chosen.click()
    await settled(page)
    # The answered message's buttons are spent; the pressed one stays marked.
    for button in await group.locator("button").all():
        await expect(button).to_be_disabled()
    await expect(chosen).to_have_class(re.compile(r"\bis-chosen\b"))


# ---------- the tests ----------


async def test_whole_assessment_from_another_origin_then_resume(
    browser: Browser, embedder: str, bot: str, shots: Path
) -> None:
    """The issue's scenario: all 11 questions by buttons, Submit, result and chart; a reload resumes."""
    page_url = f"{embedder}/?{urlencode({'bot': bot})}"
    assert embedder != bot, "the page and the webhook must be different origins"
    context, page, console = await new_page(browser)
    try:
        await page.goto(page_url)
        await settled(page)
        log = page.get_by_role("log")
        await expect(log).to_have_attribute("aria-live", "polite")
        sender = await stored_sender(page)
        assert ISSUED_ID.match(sender), sender

        # No run yet: /start offers the assessments; pick the CX one by its button.
        await last_options(page).get_by_role("button", name=re.compile(r"CX\) maturity")).click()
        await settled(page)
        # Answer buttons are a group named after their question, for screen readers.
        await expect(page.get_by_role("group", name=re.compile(r"Question 1 of 11"))).to_be_visible()

        for number, value in enumerate(ANSWERS, start=1):
            if number == 2:
                # Keyboard: after a click, focus moved on to the new question's first option;
                # Tab reaches the others and Enter presses one.
                await expect(last_options(page)).to_have_attribute("aria-label", re.compile("Question 2 of"))
                group = await pinned_options(page)
                await expect(option(group, 1)).to_be_focused()
                for _ in range(value - 1):
                    await page.keyboard.press("Tab")
                await expect(option(group, value)).to_be_focused()
                await page.keyboard.press("Enter")
                await settled(page)
                await expect(option(group, value)).to_be_disabled()
                continue
            await answer_by_click(page, number, value)

        review = last_options(page)
        await expect(review).to_have_attribute("aria-label", re.compile("Your answers to"))
        await review.get_by_role("button", name="Submit", exact=True).click()
        await settled(page)

        await expect(log.get_by_text("Your CX maturity stage:")).to_be_visible()
        chart = log.locator("img.cxbot-image").last
        await expect(chart).to_have_attribute("alt", re.compile(r"Your CX maturity stage: \w"))
        await chart.scroll_into_view_if_needed()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
        )
        assert await chart.evaluate("img => new URL(img.src).origin") == bot
        links = log.locator("a.cxbot-link[href^='http']")
        assert await links.count() > 0
        for link in await links.all():
            await expect(link).to_have_attribute("target", "_blank")
            await expect(link).to_have_attribute("rel", "noopener noreferrer")
        await page.screenshot(path=shots / "desktop-result.png")

        # A reload after finishing shows the result again (the page's log starts empty), not the menu alone.
        await page.reload()
        await settled(page)
        await expect(log.get_by_text("Your CX maturity stage:")).to_be_visible()
        await expect(log.locator("img.cxbot-image")).to_have_count(1)
        await expect(log.get_by_text(re.compile(r"/results shows all of it"))).to_be_visible()
        assert await stored_sender(page) == sender, "the reload must keep the sender id"

        # A second run: typed answers (Enter sends), then a reload resumes it at question 4.
        box = page.get_by_role("textbox", name="Your message")
        await box.fill("/start cx-maturity")
        await box.press("Enter")
        await settled(page)
        await expect(box).to_have_value("")
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 1 of"))
        await box.fill("4")
        await box.press("Enter")
        await settled(page)
        await answer_by_click(page, 2, 2)
        await answer_by_click(page, 3, 5)

        await page.reload()
        await settled(page)
        await expect(log.get_by_text(re.compile(r"Welcome back: you're on question 4 of 11"))).to_be_visible()
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 4 of 11"))
        assert await stored_sender(page) == sender, "the reload must keep the sender id"
        await page.screenshot(path=shots / "desktop-resumed.png")
        assert console.errors == []
    finally:
        await context.close()


async def test_phone_screen_same_origin_and_unreachable_server(
    browser: Browser, bot: str, shots: Path
) -> None:
    """At 320 px wide, served by cxbot itself at GET /, with ?framework= starting the assessment."""
    context, page, console = await new_page(browser, width=320, height=640, phone=True)
    try:
        await page.goto(f"{bot}/?framework=cx-maturity")
        await settled(page)
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 1 of 11"))
        # Nothing wider than the screen; the text box and Send fit on it.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 320
        box = page.get_by_role("textbox", name="Your message")
        send = page.get_by_role("button", name="Send")
        for control in (box, send):
            bounds = await control.bounding_box()
            assert bounds is not None
            assert bounds["x"] >= 0
            assert bounds["x"] + bounds["width"] <= 320
            assert bounds["y"] + bounds["height"] <= 640
        await page.screenshot(path=shots / "phone-question.png")

        # A slow answer shows "typing" (only a slow one: quick answers would make it flicker).
        async def slow(route: Route) -> None:
            await asyncio.sleep(0.8)
            await route.continue_()

        await page.route("**/webhooks/rest/webhook", slow)
        await option(last_options(page), 3).tap()
        await expect(page.get_by_role("status")).to_contain_text("cxbot is typing")
        await settled(page)
        await expect(page.get_by_role("status")).to_be_hidden()
        await page.unroute("**/webhooks/rest/webhook")
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 2 of 11"))

        # The server can't be reached: a friendly error, and the typed answer is kept.
        await page.route("**/webhooks/rest/webhook", lambda route: route.abort())
        await box.fill("2")
        await box.press("Enter")
        await settled(page, "error")
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("can\u2019t be reached")
        await expect(box).to_have_value("2")
        await page.screenshot(path=shots / "phone-error.png")

        await page.unroute("**/webhooks/rest/webhook")
        await alert.get_by_role("button", name="Try again").click()
        await settled(page)
        await expect(page.locator(".cxbot-error")).to_be_empty()
        await expect(box).to_have_value("")
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 3 of 11"))
        assert await page.evaluate("document.documentElement.scrollWidth") <= 320
        # The aborted request is the only console error (Chromium logs failed fetches).
        assert [e for e in console.errors if "ERR_FAILED" not in e] == []
    finally:
        await context.close()


HOSTILE_REPLY = [
    {
        "recipient_id": "x",
        "text": (
            "**Title &amp; \\*more\\***\n"
            "A <b>raw tag</b> and an &lt;i&gt;escaped&lt;/i&gt; one  \n"
            "[safe](https://example.org/a?b=1&amp;c=2) [evil](javascript:alert(1)) see https://example.org/bare.\n"
            "\\*\\*not bold\\*\\*, \\[not a link\\](/x), snake\\_case, a \\\\ backslash\n"
            "\n"
            "- item one\n"
            "- **item** two"
        ),
        "buttons": [{"title": "&lt;img src=x onerror=alert(1)&gt;", "payload": "/yes"}],
    },
    {"recipient_id": "x", "image": "javascript:alert(1)"},
]
"""What a careless or hostile server might send, and cxbot's own Markdown escapes (`\\*`, `\\[`, ...)."""
VISITOR = {"sender": "v1.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB"}
HOSTILE_WORDS = {
    "locale": "en",
    "matched": True,
    "strings": {"send": "<b>Go</b>", "placeholder": "<img src=x onerror=alert(1)>", "typing": 7},
}
"""The widget's own words from such a server: text, never markup; a word that is not text is not used."""


async def test_replies_are_inserted_safely(browser: Browser, embedder: str) -> None:
    """Texts only ever become text nodes plus the Markdown subset; bad URLs never become live."""
    context, page, console = await new_page(browser)
    try:
        await page.route("**/webhooks/rest/visitors", lambda route: route.fulfill(status=201, json=VISITOR))
        await page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(json=HOSTILE_REPLY))
        await page.route("**/chat/strings?*", lambda route: route.fulfill(json=HOSTILE_WORDS))
        await page.goto(embedder)
        await settled(page)
        await expect(page.get_by_role("button", name="<b>Go</b>", exact=True)).to_be_visible()
        await expect(page.get_by_role("textbox")).to_have_attribute(
            "placeholder", "<img src=x onerror=alert(1)>"
        )
        await expect(page.get_by_role("textbox")).to_have_accessible_name("Your message")  # English stands in
        log = page.get_by_role("log")
        await expect(log.locator(".cxbot-title strong")).to_have_text("Title & *more*")
        await expect(log).to_contain_text("A <b>raw tag</b> and an <i>escaped</i> one")
        await expect(log).to_contain_text("**not bold**, [not a link](/x), snake_case, a \\ backslash")
        assert await log.locator("strong").count() == 2, "only the title and the list item are bold"
        assert await log.locator("b, i, img, script, iframe").count() == 0
        safe = log.get_by_role("link", name=re.compile("^safe"))
        await expect(safe).to_have_attribute("href", "https://example.org/a?b=1&c=2")
        await expect(safe).to_have_attribute("rel", "noopener noreferrer")
        await expect(
            log.get_by_role("link", name=re.compile(r"^https:\/\/example\.org\/bare"))
        ).to_have_attribute("href", "https://example.org/bare")
        assert await log.locator("a[href^='javascript']").count() == 0
        await expect(log).to_contain_text("evil")
        await expect(log.locator("ul li")).to_have_count(2)
        await expect(log.locator("ul li strong")).to_have_text("item")
        await expect(last_options(page).get_by_role("button")).to_have_text("<img src=x onerror=alert(1)>")
        assert await stored_sender(page) == VISITOR["sender"]
        assert console.errors == []
    finally:
        await context.close()


async def test_embedded_by_a_script_tag(browser: Browser, embedder: str, bot: str) -> None:
    """Another site adds cxbot's script tag: the chat mounts itself, loads its CSS, talks to data-server."""
    context, page, console = await new_page(browser)
    try:
        await page.goto(f"{embedder}/embed.html?{urlencode({'bot': bot})}")
        await settled(page)
        widget = page.locator("article > script + section.cxbot")
        await expect(widget).to_have_attribute("aria-label", "Chat")
        await expect(widget).to_have_css("display", "flex")  # chat.css was loaded from next to chat.js
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 1 of 11"))
        await answer_by_click(page, 1, 4)
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 2 of 11"))
        assert console.errors == []
    finally:
        await context.close()


async def test_an_embedded_framework_page_reloaded_after_finishing_shows_the_result(
    browser: Browser, embedder: str, bot: str
) -> None:
    """A page with data-framework starts that assessment once; reloaded after the result, it shows the
    result again rather than beginning a new attempt at question 1."""
    context, page, console = await new_page(browser)
    try:
        await page.goto(f"{embedder}/embed.html?{urlencode({'bot': bot})}")
        await settled(page)
        for number, value in enumerate(ANSWERS, start=1):
            await answer_by_click(page, number, value)
        await last_options(page).get_by_role("button", name="Submit", exact=True).click()
        await settled(page)
        log = page.get_by_role("log")
        await expect(log.get_by_text("Your CX maturity stage:")).to_be_visible()

        await page.reload()
        await settled(page)
        await expect(log.get_by_text("Your CX maturity stage:")).to_be_visible()
        await expect(page.get_by_role("group", name=re.compile(r"Question 1 of 11"))).to_have_count(0)
        assert console.errors == []
    finally:
        await context.close()


async def test_a_join_link_joins_the_campaign(browser: Browser, embedder: str, bot: str) -> None:
    """A campaign's join link (`/?join=CODE`) joins it: the privacy notice, then question 1; a reload
    carries on where the person stopped."""
    from aiohttp import ClientSession

    async with ClientSession() as session:
        issued = await session.post(f"{bot}/webhooks/rest/visitors")
        facilitator = (await issued.json())["sender"]
        made = await session.post(
            f"{bot}/webhooks/rest/webhook",
            json={"sender": facilitator, "message": "/campaign new cx-pulse Desk"},
        )
        created = " ".join(m.get("text", "") for m in await made.json())
    code = re.search(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})", created)
    assert code, created
    context, page, console = await new_page(browser)
    try:
        await page.goto(f"{embedder}/?{urlencode({'bot': bot, 'join': code.group(1)})}")
        await settled(page)
        log = page.get_by_role("log")
        await expect(log).to_contain_text("answers without names")
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 1 of 5\b"))
        await option(await pinned_options(page), 4).click()
        await settled(page)
        await page.reload()
        await settled(page)
        await expect(last_options(page)).to_have_attribute("aria-label", re.compile(r"Question 2 of 5\b"))
        assert console.errors == []
    finally:
        await context.close()


async def test_a_whole_run_in_portuguese(browser: Browser, embedder: str, bot: str, shots: Path) -> None:
    """A browser set to Brazilian Portuguese: cxbot's page, the widget's own words and the whole
    assessment are in Portuguese, English nowhere a translation exists; an error line too. On
    another site's copy of the page the widget's words come from cxbot; /language en switches
    them all, the page's heading included."""
    from tests.test_portuguese import ANSWERS, assert_the_run_was_in_portuguese, portuguese
    from tests.translation_support import english_left

    framework = portuguese()
    context, page, console = await new_page(browser, locale="pt-BR")
    try:
        await page.goto(f"{bot}/?framework=cx-maturity")
        await settled(page)
        await expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
        await expect(page).to_have_title("cxbot: chat de autoavaliação de maturidade")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Autoavaliação de maturidade")
        box = page.get_by_role("textbox", name="Sua mensagem")
        await expect(box).to_have_attribute("placeholder", "Digite sua resposta")
        await expect(page.get_by_role("button", name="Enviar", exact=True)).to_be_visible()
        await expect(page.get_by_role("log", name="Conversa")).to_be_visible()

        for number, value in enumerate(ANSWERS, start=1):
            name = re.compile(rf"^Opções: Pergunta {number} de {QUESTIONS} - ")
            group = page.get_by_role("group", name=name)
            await expect(group).to_be_visible()
            if number == 6:  # the server can't be reached: the error line, in Portuguese
                await page.route("**/webhooks/rest/webhook", lambda route: route.abort())
                await option(group, value).click()
                await settled(page, "error")
                alert = page.get_by_role("alert")
                await expect(alert).to_contain_text("não foi possível falar com o servidor do chat")
                await page.unroute("**/webhooks/rest/webhook")
                await alert.get_by_role("button", name="Tentar de novo").click()
            else:
                await option(group, value).click()
            await settled(page)
            await expect(group.locator(".is-chosen")).to_contain_text(framework.scale[value - 1].label)

        review = last_options(page)
        await expect(review).to_have_attribute("aria-label", re.compile("^Opções: Suas respostas: "))
        await review.get_by_role("button", name="Concluir", exact=True).click()
        await settled(page)
        log = page.get_by_role("log")
        await expect(
            log.get_by_text("Maturidade em CX — seu estágio: Direcionado (3,1 de 5)")
        ).to_be_visible()
        chart = log.locator("img.cxbot-image").last
        await expect(chart).to_have_attribute(
            "alt", re.compile(r"^Gráfico das pontuações acima\. Maturidade em CX")
        )
        assert "lang=pt-BR" in (
            await chart.get_attribute("src") or ""
        )  # the chart's words are Portuguese too
        await chart.scroll_into_view_if_needed()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
        )
        await chart.screenshot(path=shots / "portuguese-chart.png")
        await expect(log.locator("a.cxbot-link").first).to_contain_text("(abre em uma nova aba)")
        shown = await page.locator("body").inner_text()
        assert_the_run_was_in_portuguese(shown)
        await page.screenshot(path=shots / "portuguese-result.png", full_page=True)
        assert [e for e in console.errors if "ERR_FAILED" not in e] == []
    finally:
        await context.close()

    context, page, console = await new_page(browser, locale="pt-BR")
    try:
        await page.goto(
            f"{embedder}/?{urlencode({'bot': bot})}"
        )  # English HTML: the widget's words come from cxbot
        await settled(page)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Autoavaliação de maturidade")
        box = page.get_by_role("textbox", name="Sua mensagem")
        await expect(box).to_have_attribute("placeholder", "Digite sua resposta")
        await expect(page.get_by_role("log")).to_contain_text("Qual avaliação você gostaria de fazer?")
        assert english_left(await page.locator("body").inner_text(), "cx-maturity", "pt-BR") == []
        await box.fill("/language en")
        await box.press("Enter")
        await settled(page)
        await expect(page.get_by_role("log")).to_contain_text("OK: I'll speak English from now on.")
        await expect(page.get_by_role("textbox", name="Your message")).to_have_attribute(
            "placeholder", "Type your answer"
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("Maturity self-assessment")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        assert console.errors == []
    finally:
        await context.close()
