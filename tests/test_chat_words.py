"""The web chat's own words in the visitor's language: `GET /chat/strings`, the page at `GET /`,
the webhook's Content-Language, and chat.js's built-in English kept equal to the catalogue's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dialogs.catalogue import catalogue
from tests.webhook_support import REST, running_app, settings_for

STATIC = Path(__file__).resolve().parent.parent / "bot" / "web" / "static"
STRINGS = "/chat/strings"


def _built_in_english() -> dict[str, str]:
    source = (STATIC / "chat.js").read_text(encoding="utf-8")
    block = re.search(r"var ENGLISH = (\{.*?\});", source, re.DOTALL)
    assert block is not None, "chat.js has no ENGLISH words"
    found: dict[str, str] = json.loads(block.group(1))
    return found


def test_chat_js_speaks_the_catalogue_s_english_when_it_has_nothing_else() -> None:
    assert _built_in_english() == catalogue("en").with_prefix("web_")


def test_every_word_the_page_asks_for_is_in_the_catalogue() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    asked = re.findall(r'data-cxbot-text="([a-z_]+)"', page)
    assert set(asked) >= {"page_title", "page_heading", "page_intro", "noscript"}
    assert set(asked) <= catalogue("pt-BR").with_prefix("web_").keys()


async def test_the_widget_s_words_in_the_first_language_the_bot_speaks(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, cors_origins="https://www.example.org")
    async with running_app(settings) as (client, _):
        origin = {"Origin": "https://www.example.org"}
        response = await client.get(STRINGS, params={"lang": "fr-FR,pt-PT,en"}, headers=origin)
        assert response.status == 200
        body = await response.json()
        assert (body["locale"], body["matched"]) == ("pt-BR", True)
        assert body["strings"]["placeholder"] == "Digite sua resposta"
        assert body["strings"].keys() == _built_in_english().keys()
        assert response.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
        assert response.headers["Cache-Control"] == "public, max-age=3600"
        assert response.headers["Content-Language"] == "pt-BR"

        # no list: the Accept-Language header (its weights as the order they come in)
        response = await client.get(STRINGS, headers={"Accept-Language": "pt-br;q=0.9, *;q=0.1"})
        assert (await response.json())["locale"] == "pt-BR"

        # nothing the bot speaks, or nothing usable: English, and the page knows it was no match
        for asked in ("fr,de", "", "not a tag at all!!," * 50):
            response = await client.get(STRINGS, params={"lang": asked})
            body = await response.json()
            assert (response.status, body["locale"], body["matched"]) == (200, "en", False), asked
            assert body["strings"]["send"] == "Send"


async def test_the_page_is_written_in_the_browser_s_language(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        response = await client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.8"})
        page = await response.text()
        assert response.headers["Content-Language"] == "pt-BR"
        assert response.headers["Vary"] == "Accept-Language"
        assert '<html lang="pt-BR" data-cxbot-lang>' in page
        assert (
            '<h1 id="cxbot-page-title" data-cxbot-text="page_heading">Autoavaliação de maturidade</h1>'
            in page
        )
        assert ">Este chat precisa do JavaScript ativado.</p></noscript>" in page
        assert "Maturity self-assessment" not in page
        again = await client.get(
            "/", headers={"Accept-Language": "pt-BR", "If-None-Match": response.headers["ETag"]}
        )
        assert again.status == 304

        english = await client.get("/")
        assert '<html lang="en" data-cxbot-lang>' in await english.text()
        assert english.headers["ETag"] != response.headers["ETag"]
        asked = await client.get("/", params={"lang": "pt"}, headers={"Accept-Language": "en"})
        assert "Autoavaliação de maturidade" in await asked.text()


async def test_the_webhook_says_which_language_its_replies_are_in(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path)) as (client, _):
        hinted = {"sender": "ana", "message": "/start cx-maturity", "metadata": {"language": "pt-BR"}}
        response = await client.post(REST, json=hinted)
        assert response.headers["Content-Language"] == "pt-BR"
        assert "Pergunta 1 de 11" in json.dumps(await response.json(), ensure_ascii=False)

        response = await client.post(REST, json={"sender": "bob", "message": "/start"})
        assert response.headers["Content-Language"] == "en"
        # /language switches at once: this very answer is in the new language, and says so
        response = await client.post(REST, json={"sender": "bob", "message": "/language português"})
        assert response.headers["Content-Language"] == "pt-BR"
        assert "Combinado!" in json.dumps(await response.json(), ensure_ascii=False)
