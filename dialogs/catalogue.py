"""The message catalogues: every word the bot says that is not framework text, one file per locale.

`locales/en.yaml` has every key; a translation (`locales/pt-BR.yaml`, ...) may leave keys out, and
each missing one falls back to English on its own. A catalogue is read once per process.
"""

from __future__ import annotations

import string
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from frameworks import yaml_parsing

LOCALES = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "en"
NAME_KEY = "language_name"
"""The key holding a language's name in its own words ("Português (Brasil)"), shown by /language."""
DECIMAL_MARK_KEY = "decimal_mark"
ALIASES_KEY = "language_aliases"
"""Other names a person may type for the language after /language ("portugues, portuguese")."""


class Catalogue:
    """Messages by key for one locale, falling back to English key by key."""

    def __init__(
        self, messages: dict[str, str], fallback: dict[str, str] | None = None, locale: str = DEFAULT_LOCALE
    ) -> None:
        self.locale = locale
        self._messages = {**(fallback or {}), **messages}
        self._fallback = fallback or {}
        self._words: dict[str, frozenset[str]] = {}

    def text(self, key: str, **values: Any) -> str:
        """The message for `key` with its placeholders filled in."""
        return self._messages[key].format(**values) if values else self._messages[key]

    def score(self, value: Decimal | float) -> str:
        """A score to one decimal, written with this language's decimal mark ("3.1", "3,1")."""
        shown = f"{value:.1f}"
        mark = self._messages.get(DECIMAL_MARK_KEY, ".")
        return shown if mark == "." else shown.replace(".", mark)

    def words(self, key: str) -> frozenset[str]:
        """A comma-separated list message as a set of lower-case words, with the English ones too
        (someone chatting in Portuguese who types "yes" still means yes)."""
        found = self._words.get(key)
        if found is None:
            found = self._words[key] = _words(self._messages[key]) | _words(self._fallback.get(key, ""))
        return found

    def own(self, key: str) -> str | None:
        """The message as this locale's file has it, without English standing in (for what names the
        language itself)."""
        found = self._messages.get(key)
        return None if self.locale != DEFAULT_LOCALE and found == self._fallback.get(key) else found

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """The messages whose keys start with `prefix`, keyed without it (English standing in for any
        this locale leaves out): the web chat's own words are the `web_` ones."""
        return {
            key.removeprefix(prefix): text for key, text in self._messages.items() if key.startswith(prefix)
        }

    @property
    def name(self) -> str:
        """The language's name in its own words."""
        return self.own(NAME_KEY) or self.locale


def _words(listed: str) -> frozenset[str]:
    return frozenset(word.strip().lower() for word in listed.split(",") if word.strip())


def locale_path(locale: str) -> Path:
    return LOCALES / f"{locale}.yaml"


def available_locales() -> tuple[str, ...]:
    """The locales with a catalogue file, English first."""
    found = sorted(path.stem for path in LOCALES.glob("*.yaml") if path.stem != DEFAULT_LOCALE)
    return (DEFAULT_LOCALE, *found)


def _read(locale: str) -> dict[str, str]:
    path = locale_path(locale)
    data = yaml_parsing.data(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(key): str(value) for key, value in (data or {}).items()}


@cache
def catalogue(locale: str = DEFAULT_LOCALE) -> Catalogue:
    """The catalogue for a locale (read once per process); an unknown locale reads as English."""
    english = _read(DEFAULT_LOCALE)
    return Catalogue(_read(locale) if locale != DEFAULT_LOCALE else {}, english, locale)


def placeholders(message: str) -> frozenset[str]:
    """The names in a message's {braces}."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


def problems(locale: str) -> list[str]:
    """What is wrong with a translation's file, each with its line: keys English does not have (a
    typo, or a key English has since renamed) and placeholders English does not fill in (they would
    fail when the message is said). Missing keys are not problems: they fall back to English."""
    path = locale_path(locale)
    english = _read(DEFAULT_LOCALE)
    root = yaml_parsing.node(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for key_node, value_node in root.value if isinstance(root, yaml.MappingNode) else ():
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key not in english:
            found.append(f"{path}:{line}: {key!r} is not a key of {DEFAULT_LOCALE}.yaml (renamed there?)")
            continue
        extra = placeholders(str(value_node.value)) - placeholders(english[key])
        if extra:
            names = ", ".join("{" + name + "}" for name in sorted(extra))
            found.append(f"{path}:{line}: {key!r} uses {names}, which the English message does not have")
    return found
