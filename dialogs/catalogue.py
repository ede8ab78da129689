"""The one message catalogue: every word the bot says that is not framework text."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "en"


class Catalogue:
    """Messages by key for one locale, falling back to English key by key."""

    def __init__(self, messages: dict[str, str], fallback: dict[str, str] | None = None) -> None:
        self._messages = {**(fallback or {}), **messages}

    def text(self, key: str, **values: Any) -> str:
        """The message for `key` with its placeholders filled in."""
        return self._messages[key].format(**values) if values else self._messages[key]

    def words(self, key: str) -> frozenset[str]:
        """A comma-separated list message as a set of lower-case words."""
        return frozenset(word.strip().lower() for word in self._messages[key].split(","))


def _read(locale: str) -> dict[str, str]:
    path = LOCALES / f"{locale}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(key): str(value) for key, value in (data or {}).items()}


@cache
def catalogue(locale: str = DEFAULT_LOCALE) -> Catalogue:
    """The catalogue for a locale (read once per process)."""
    english = _read(DEFAULT_LOCALE)
    return Catalogue(_read(locale) if locale != DEFAULT_LOCALE else {}, english)
