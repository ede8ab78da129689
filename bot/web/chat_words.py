"""The web chat's own words (placeholder, buttons, status and error lines, the page's heading) in
the visitor's language, from the message catalogue's `web_*` keys, English standing in key by key.

- `GET /chat/strings?lang=pt-BR,pt,en` answers `{"locale", "matched", "strings"}` for chat.js: the
  first language of the list the bot speaks (the browser's `navigator.languages`; without `lang`,
  the Accept-Language header), else the default one with `matched` false. Its answer is cacheable,
  so the words cost a visitor one small request, and the webhook nothing.
- `GET /` (bot.web.chat) is the page with the text of each element marked `data-cxbot-text="key"`
  written in the language Accept-Language (or `?lang=`) asks for, and `<html lang>` set to it.

Everything is made once, when the app is built: a request is a lookup. The webhook's answers say the
language their replies are in with a `Content-Language` header (a header any page may read), so
after `/language` the widget fetches its words in the new one.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

from aiohttp import web

from bot.json_codec import dumps
from dialogs.catalogue import Catalogue
from dialogs.languages import Languages

PREFIX = "web_"
STRINGS_PATH = "/chat/strings"
MAX_TAGS = 12
"""Browsers list a few languages; a longer list is cut rather than matched tag by tag."""
STRINGS_MAX_AGE = 3600
"""Seconds a browser may keep the words: they change only when cxbot is upgraded."""
_MARKED = re.compile(
    r'(?P<open><(?P<tag>[a-z][a-z0-9]*)\b[^>]*\bdata-cxbot-text="(?P<key>[a-z_]+)"[^>]*>)'
    r"(?P<text>[^<]*)(?P<close></(?P=tag)>)"
)
_HTML_LANG = re.compile(r'(<html\b[^>]*\blang=")[^"]*(")')


def wanted(listed: str | None) -> list[str]:
    """The language tags of `pt-BR,pt;q=0.9,en` (a `lang` list or an Accept-Language header), in the
    order given (browsers send their preferences in order; the weights say the same)."""
    tags = (part.split(";", 1)[0].strip() for part in (listed or "").split(",")[:MAX_TAGS])
    return [tag for tag in tags if tag and tag != "*"]


@dataclass(frozen=True, slots=True)
class Page:
    """The chat page in one language."""

    body: bytes
    etag: str


class ChatWords:
    """The widget's words and the page, made once for every language on offer."""

    def __init__(self, languages: Languages, page: str | None) -> None:
        self.languages = languages
        contexts = languages.contexts
        self._strings = {
            (locale, matched): _strings_body(context.cat, locale, matched)
            for locale, context in contexts.items()
            for matched in (True, False)
        }
        self._pages = (
            {locale: _page(page, context.cat, locale) for locale, context in contexts.items()} if page else {}
        )

    def choose(self, tags: list[str]) -> tuple[str, bool]:
        """The first of the tags the bot speaks, and True; or the default language, and False."""
        for tag in tags:
            found = self.languages.match(tag)
            if found is not None:
                return found, True
        return self.languages.default, False

    def locale_of(self, request: web.Request) -> tuple[str, bool]:
        """The language a request asks for: its `lang` list, else its Accept-Language header."""
        listed = request.query.get("lang") or request.headers.get("Accept-Language")
        return self.choose(wanted(listed))

    def page(self, locale: str) -> Page | None:
        return self._pages.get(locale)

    async def strings(self, request: web.Request) -> web.Response:
        """`GET /chat/strings?lang=...`: the widget's words in the first language the bot speaks."""
        locale, matched = self.locale_of(request)
        headers = {
            "Cache-Control": f"public, max-age={STRINGS_MAX_AGE}",
            "Content-Language": locale,
            "Vary": "Accept-Language",
        }
        body = self._strings[(locale, matched)]
        return web.Response(body=body, content_type="application/json", headers=headers)


def _strings_body(cat: Catalogue, locale: str, matched: bool) -> bytes:
    return dumps({"locale": locale, "matched": matched, "strings": cat.with_prefix(PREFIX)})


def _page(page: str, cat: Catalogue, locale: str) -> Page:
    """The page with each marked element's text in the catalogue's words (kept where it has none)."""
    words = cat.with_prefix(PREFIX)

    def one(match: re.Match[str]) -> str:
        text = words.get(match["key"])
        shown = html.escape(text, quote=False) if text is not None else match["text"]
        return f"{match['open']}{shown}{match['close']}"

    text = _HTML_LANG.sub(lambda found: f"{found[1]}{locale}{found[2]}", page, count=1)
    body = _MARKED.sub(one, text).encode()
    return Page(body, f'"{hashlib.sha256(body).hexdigest()[:16]}"')
