"""What a translated run must show and must not show: the English texts a translation replaces,
and a check that none of them (nor an English message the catalogue translates) is left."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from dialogs.catalogue import DEFAULT_LOCALE, _read, placeholders
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework
from frameworks.translations import TEXT_FIELDS, Translations

MIN_CHECKED = 12
"""Shorter English strings ("Trust", "Back") could be part of a title kept as published."""


@dataclass(frozen=True)
class Translated:
    """A framework and the same framework in another language."""

    english: Framework
    translated: Framework

    def pairs(self) -> list[tuple[str, str]]:
        """(English, translated) of every text the translation changes."""
        return list(_pairs(self.english.model_dump(), self.translated.model_dump()))

    def kept(self) -> list[str]:
        """Texts the translation leaves as they are (titles kept as published, names)."""
        return list(_same(self.english.model_dump(), self.translated.model_dump()))


@cache
def translated(framework_id: str, locale: str) -> Translated:
    """A built-in framework and its built-in translation."""
    english = FrameworkRegistry.from_directories([]).get(framework_id)
    assert english is not None, framework_id
    return Translated(english, Translations.from_directories().localize(english, locale))


def english_messages(locale: str) -> list[str]:
    """English catalogue messages without placeholders that the locale's catalogue translates."""
    english, other = _read(DEFAULT_LOCALE), _read(locale)
    return [
        text
        for key, text in english.items()
        if key in other and other[key] != text and not placeholders(text) and len(text) >= MIN_CHECKED
    ]


def english_left(shown: str, framework_id: str, locale: str) -> list[str]:
    """The English texts of the framework and catalogue that `shown` still contains, where a
    translation exists (texts kept as published are taken out of `shown` first)."""
    both = translated(framework_id, locale)
    for kept in sorted(both.kept(), key=len, reverse=True):
        shown = shown.replace(kept, "")
    shown = " ".join(shown.split())
    english = [" ".join(text.split()) for text, _ in both.pairs()] + english_messages(locale)
    return sorted({text for text in english if len(text) >= MIN_CHECKED and text in shown})


def _pairs(english: Any, other: Any) -> Iterator[tuple[str, str]]:
    if isinstance(english, str) and isinstance(other, str):
        if english != other:
            yield english, other
    elif isinstance(english, dict) and isinstance(other, dict):
        for key, value in english.items():
            yield from _pairs(value, other.get(key))
    elif isinstance(english, list | tuple) and isinstance(other, list | tuple):
        for first, second in zip(english, other, strict=True):
            yield from _pairs(first, second)


def _same(english: Any, other: Any, key: str = "") -> Iterator[str]:
    """Texts (not ids or addresses) that are the same in both."""
    if isinstance(english, str) and english == other and key in TEXT_FIELDS:
        yield english
    elif isinstance(english, dict) and isinstance(other, dict):
        for name, value in english.items():
            yield from _same(value, other.get(name), name)
    elif isinstance(english, list | tuple) and isinstance(other, list | tuple):
        for first, second in zip(english, other, strict=True):
            yield from _same(first, second, key)
