"""The languages the bot speaks, and which one a message is answered in.

A language is offered when it has a message catalogue (`dialogs/locales/<locale>.yaml`); framework
overlays (`frameworks.translations`) add framework text in it. Each has its own `Context` (its
catalogue and its translated frameworks), made once when the engine is made, so choosing one per
message is a dictionary lookup.

Which one: a choice made with `/language` wins; otherwise the channel's hint (Telegram's
`language_code`, the webhook's `metadata.language`, the terminal's locale), which is stored too so
that reminders go out in it; otherwise the one stored; otherwise the service's default. A hint
matches a language by its tag (`pt-BR`), else by its language alone (`pt`, `pt-PT` -> `pt-BR`);
a hint that matches none (`fr`) changes nothing.
"""

from __future__ import annotations

import re
from functools import cached_property, partial

from dialogs.catalogue import ALIASES_KEY, DEFAULT_LOCALE, available_locales, catalogue
from dialogs.conversation import Context
from frameworks.registry import FrameworkRegistry
from frameworks.translations import TranslatedRegistry, Translations

MAX_TAG = 35
"""Longer than any tag a language needs (BCP 47 advises supporting 35 characters)."""
TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")
"""BCP 47-ish: a language, then subtags (script, region, variants) of letters and digits; "_" as
POSIX locales write it (pt_BR) is taken for "-"."""
MATCHES_KEPT = 1024


def normalized(tag: str | None) -> str | None:
    """A language tag in its usual case (`pt-br` -> `pt-BR`, `zh_hant_tw` -> `zh-Hant-TW`); None if
    it is not shaped like one."""
    if tag is None or len(tag) > MAX_TAG or not TAG.fullmatch(tag):
        return None
    language, *subtags = tag.replace("_", "-").split("-")
    return "-".join([language.lower(), *(_subtag(part) for part in subtags)])


def _subtag(part: str) -> str:
    if len(part) == 2 and part.isalpha():
        return part.upper()  # region
    if len(part) == 4 and part.isalpha():
        return part.title()  # script
    return part.lower()


class Languages:
    """Every language on offer, each with its context; the default one's is the engine's own."""

    def __init__(
        self,
        frameworks: FrameworkRegistry,
        default: str = DEFAULT_LOCALE,
        translations: Translations | None = None,
        locales: tuple[str, ...] | None = None,
    ) -> None:
        self.locales = locales or available_locales()
        self.translations = translations or Translations.from_directories()
        self._matched: dict[str, str | None] = {}
        self.contexts = {locale: self._context(frameworks, locale) for locale in self.locales}
        self.default = self.match(default) or DEFAULT_LOCALE

    def _context(self, frameworks: FrameworkRegistry, locale: str) -> Context:
        if locale in self.translations.locales:
            frameworks = TranslatedRegistry(frameworks, partial(self.translations.localize, locale=locale))
        return Context(frameworks, catalogue(locale), locale, self)

    def context(self, locale: str | None) -> Context:
        """The context of a locale on offer; the default one's for anything else."""
        return self.contexts.get(locale or "") or self.contexts[self.default]

    def match(self, tag: str | None) -> str | None:
        """The locale on offer a language tag asks for, or None."""
        if tag is None:
            return None
        if tag in self._matched:
            return self._matched[tag]
        found = self._best(normalized(tag))
        if len(self._matched) >= MATCHES_KEPT:  # tags come from outside: keep the memory bounded
            self._matched.clear()
        self._matched[tag] = found
        return found

    def _best(self, tag: str | None) -> str | None:
        if tag is None:
            return None
        if tag in self.contexts:
            return tag
        language = tag.split("-", 1)[0]
        return next((locale for locale in self.locales if locale.split("-", 1)[0] == language), None)

    def pick(self, stored: str | None, chosen: bool, hint: str | None) -> tuple[str, str | None]:
        """The locale to answer in, and the locale to store as the person's hinted one (None when it
        is stored already, or when a choice made with /language stands)."""
        if chosen and stored in self.contexts:
            return stored, None
        hinted = self.match(hint)
        if hinted is not None:
            return hinted, None if hinted == stored else hinted
        return (stored if stored in self.contexts else self.default), None

    def find(self, typed: str) -> str | None:
        """The locale a person asks for after /language: a tag (`pt-BR`, `pt`) or the language's
        name (`português`, `portuguese`)."""
        return self.match(typed) or self._aliases.get(" ".join(typed.casefold().split()))

    @cached_property
    def _aliases(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for locale, context in self.contexts.items():
            listed = f"{context.cat.name},{context.cat.own(ALIASES_KEY) or ''}"
            found.update((name.strip().casefold(), locale) for name in listed.split(",") if name.strip())
        return found

    def names(self) -> list[tuple[str, str]]:
        """(locale, its name in its own words) of each language on offer."""
        return [(locale, self.contexts[locale].cat.name) for locale in self.locales]
