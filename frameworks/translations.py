"""Framework text in other languages: one overlay file per framework and locale.

`translations/<framework id>.<locale>.yaml` (beside the framework files, in the built-in folder and
in every extra one) has the shape of the framework file, with each list written as a mapping keyed
by what names its entries: `id` (stages, dimensions, sub-dimensions, questions), `value` (scale
points and levels) or, for resources, which have no id, their English `title`. Only text is
translated (`TEXT_FIELDS`, and the recommendations by stage); ids, levels, bands and addresses
cannot be written in an overlay at all, so a translation cannot change how anything is scored.

A translation does not change the framework's version: the version names what people answer and
how it is scored, runs and campaign rounds are compared by it, and a corrected Portuguese word must
not set a campaign's answers apart. The English file is the reference; an overlay says the same in
another language.

Anything an overlay leaves out stays English, one string at a time. An overlay is checked when the
bot starts (`Translations.check`): a key the framework does not have (an id renamed in English, a
typo) or text that breaks the framework's own rules (a short label over 60 characters, a level
description that is not one to three sentences) is an error naming the file and line.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from frameworks import yaml_parsing
from frameworks.loader import BUILT_IN_DIR, FrameworkError
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework

FOLDER = "translations"
TEXT_FIELDS = frozenset(
    {
        "title",
        "short_title",
        "intro",
        "source",
        "name",
        "summary",
        "description",
        "text",
        "short",
        "label",
        "what",
        "how",
        "benefits",
        "topic",
    }
)
"""Keys whose string values are words people read (everything else is how the framework works)."""
TEXT_MAPS = frozenset({"recommendations"})
"""Mappings of ids to text: a sub-dimension's recommendation for each stage."""
ITEM_KEYS = ("id", "value", "title")
"""What names a list's entries in an overlay, the first the entries have."""
SHORTHAND = {"scale": "label", "resources": "title"}
"""Lists whose entries may be translated by a plain string: the field it sets."""
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
log = logging.getLogger(__name__)

Place = tuple[str | int, ...]


class TranslationError(FrameworkError):
    """Overlays that cannot be used; the message names each file, line and problem."""


@dataclass(frozen=True, slots=True)
class Overlay:
    """One overlay file, parsed (its YAML nodes keep their lines)."""

    framework_id: str
    locale: str
    path: Path
    root: Any


@dataclass(slots=True)
class _Walk:
    """What walking an overlay over a framework found."""

    path: Path
    texts: list[tuple[Place, Place, str, int]] = field(default_factory=list)
    """(place in the framework's data, place by ids, text, line) of each translated string."""
    problems: list[str] = field(default_factory=list)

    def problem(self, node: Any, message: str) -> None:
        self.problems.append(f"{self.path}:{node.start_mark.line + 1}: {message}")


def read_overlay(path: Path) -> Overlay:
    """Parse an overlay file named `<framework id>.<locale>.yaml`."""
    framework_id, _, locale = path.name.removesuffix(".yaml").rpartition(".")
    if not framework_id or not LOCALE.match(locale):
        raise TranslationError(
            f"{path}: name it <framework id>.<locale>.yaml, such as cx-maturity.pt-BR.yaml"
        )
    try:
        root = yaml_parsing.node(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise TranslationError(f"{path}: cannot be read: {error}") from error
    if root is not None and not isinstance(root, yaml.MappingNode):
        raise TranslationError(f"{path}: must be a mapping of keys such as title and dimensions")
    return Overlay(framework_id, locale, path, root)


def translate(framework: Framework, overlay: Overlay) -> tuple[Framework, list[str]]:
    """The framework with the overlay's text, and the overlay's problems. Entries with a problem are
    left out (that text stays English); the version stays the framework's own."""
    walk = _Walk(overlay.path)
    data = framework.model_dump(mode="json", exclude={"version"})
    if overlay.root is not None:
        _merge(walk, data, overlay.root, (), ())
    texts = walk.texts
    while texts:
        try:
            translated = Framework.model_validate(_with_texts(data, texts))
        except ValidationError as error:
            bad = [_owner(texts, tuple(item["loc"])) for item in error.errors()]
            for index, item in zip(bad, error.errors(), strict=True):
                line = texts[index][3] if index is not None else 0
                walk.problems.append(f"{overlay.path}:{line}: {item['msg']}")
            if None in bad:  # not the overlay's doing: give up on it rather than loop
                break
            texts = [text for index, text in enumerate(texts) if index not in bad]
            continue
        update = {"version": framework.version, "language": overlay.locale}
        return translated.model_copy(update=update), walk.problems
    return framework, walk.problems


def untranslated(framework: Framework, overlay: Overlay) -> list[str]:
    """The framework's texts the overlay does not translate, by place (ids, not positions)."""
    walk = _Walk(overlay.path)
    data = framework.model_dump(mode="json", exclude={"version"})
    if overlay.root is not None:
        _merge(walk, data, overlay.root, (), ())
    done = {by_id for _, by_id, _, _ in walk.texts}
    return [_dotted(place) for place in _texts_of(data, ()) if place not in done]


# --- walking an overlay over the framework's data ------------------------------------------------


def _merge(walk: _Walk, english: dict[str, Any], node: Any, at: Place, by_id: Place) -> None:
    """Translate one object of the framework (a dimension, a question...) from its overlay mapping."""
    if not isinstance(node, yaml.MappingNode):
        walk.problem(node, f"{_dotted(by_id) or 'the top'} must be a mapping of keys")
        return
    for key_node, value_node in node.value:
        key = str(key_node.value)
        value = english.get(key)
        here, here_id = (*at, key), (*by_id, key)
        if value is None:
            known = ", ".join(k for k, v in english.items() if _translatable(k, v))
            walk.problem(key_node, f"{_dotted(here_id)}: not in the framework; the keys here are {known}")
        elif key in TEXT_FIELDS and isinstance(value, str):
            _text(walk, value_node, here, here_id)
        elif key in TEXT_MAPS and isinstance(value, dict):
            _text_map(walk, value, value_node, here, here_id)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            _items(walk, key, value, value_node, here, here_id)
        elif isinstance(value, dict):
            _merge(walk, value, value_node, here, here_id)
        else:
            walk.problem(key_node, f"{_dotted(here_id)}: is not text, so it cannot be translated")


def _text(walk: _Walk, node: Any, at: Place, by_id: Place) -> None:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        walk.problem(node, f"{_dotted(by_id)}: give the translated text")
        return
    walk.texts.append((at, by_id, str(node.value), node.start_mark.line + 1))


def _text_map(walk: _Walk, english: dict[str, Any], node: Any, at: Place, by_id: Place) -> None:
    if not isinstance(node, yaml.MappingNode):
        walk.problem(node, f"{_dotted(by_id)} must be a mapping of ids to text")
        return
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key not in english:
            walk.problem(key_node, f"{_dotted((*by_id, key))}: not in the framework ({', '.join(english)})")
        else:
            _text(walk, value_node, (*at, key), (*by_id, key))


def _items(walk: _Walk, key: str, english: list[Any], node: Any, at: Place, by_id: Place) -> None:
    """A list's entries, given in the overlay as a mapping keyed by their ids."""
    if not isinstance(node, yaml.MappingNode):
        walk.problem(node, f"{_dotted(by_id)} must be a mapping keyed by {_item_key(english[0])}")
        return
    named = {str(item.get(_item_key(item))): index for index, item in enumerate(english)}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        index = named.get(name)
        if index is None:
            known = ", ".join(named)
            walk.problem(key_node, f"{_dotted((*by_id, name))}: not in the framework; there are {known}")
        elif isinstance(value_node, yaml.ScalarNode) and key in SHORTHAND:
            field_name = SHORTHAND[key]
            _text(walk, value_node, (*at, index, field_name), (*by_id, name, field_name))
        else:
            _merge(walk, english[index], value_node, (*at, index), (*by_id, name))


def _item_key(item: dict[str, Any]) -> str:
    return next((key for key in ITEM_KEYS if key in item), ITEM_KEYS[0])


def _translatable(key: str, value: Any) -> bool:
    return value is not None and (key in TEXT_FIELDS | TEXT_MAPS or isinstance(value, list | dict))


def _texts_of(data: Any, by_id: Place) -> Iterator[Place]:
    """Every translatable text of the framework's data, by place."""
    for key, value in data.items():
        here = (*by_id, key)
        if key in TEXT_FIELDS and isinstance(value, str) and value:
            yield here
        elif key in TEXT_MAPS and isinstance(value, dict):
            yield from ((*here, stage) for stage in value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                yield from _texts_of(item, (*here, str(item.get(_item_key(item)))))
        elif isinstance(value, dict):
            yield from _texts_of(value, here)


def _with_texts(data: dict[str, Any], texts: list[tuple[Place, Place, str, int]]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for at, _, text, _ in texts:
        target: Any = out
        for part in at[:-1]:
            target = target[part]
        target[at[-1]] = text
    return out


def _owner(texts: list[tuple[Place, Place, str, int]], loc: Place) -> int | None:
    """Which translated text a validation error is about (the longest place that starts its path)."""
    found = [index for index, (at, _, _, _) in enumerate(texts) if loc[: len(at)] == at]
    return max(found, key=lambda index: len(texts[index][0])) if found else None


def _dotted(place: Place) -> str:
    return ".".join(str(part) for part in place)


# --- every overlay, and the translated frameworks ------------------------------------------------


class Translations:
    """Every overlay found, by (framework id, locale); each framework is translated once and kept."""

    def __init__(self, overlays: Iterable[Overlay] = ()) -> None:
        self._overlays = {(o.framework_id, o.locale): o for o in overlays}
        self._done: dict[tuple[int, str], tuple[Framework, Framework]] = {}

    @classmethod
    def from_directories(cls, extra: Iterable[Path] = ()) -> Translations:
        """The overlays in `translations/` beside the built-in frameworks and in each extra folder."""
        folders = [BUILT_IN_DIR / FOLDER, *(Path(folder) / FOLDER for folder in extra)]
        return cls(read_overlay(path) for folder in folders for path in sorted(folder.glob("*.yaml")))

    def overlay(self, framework_id: str, locale: str) -> Overlay | None:
        return self._overlays.get((framework_id, locale))

    @property
    def locales(self) -> frozenset[str]:
        return frozenset(locale for _, locale in self._overlays)

    def localize(self, framework: Framework, locale: str) -> Framework:
        """The framework in a locale (itself when there is no overlay); problems are logged once and
        their text stays English (`check` refuses them when the bot starts)."""
        key = (id(framework), locale)
        done = self._done.get(key)
        if done is not None and done[0] is framework:
            return done[1]
        overlay = self.overlay(framework.id, locale)
        translated = framework
        if overlay is not None:
            translated, problems = translate(framework, overlay)
            for problem in problems:
                log.warning("a translation is left out: %s", problem)
        self._done[key] = (framework, translated)
        return translated

    def check(self, frameworks: Iterable[Framework]) -> None:
        """Refuse overlays with problems (for the frameworks given), listing every one."""
        by_id = {framework.id: framework for framework in frameworks}
        problems: list[str] = []
        for (framework_id, _), overlay in sorted(self._overlays.items()):
            framework = by_id.get(framework_id)
            if framework is None:
                log.warning("%s: there is no framework %r to translate", overlay.path, framework_id)
                continue
            problems += translate(framework, overlay)[1]
        if problems:
            raise TranslationError("\n".join(["translations that cannot be used:", *problems]))


class TranslatedRegistry(FrameworkRegistry):
    """A registry's frameworks in one language: the same frameworks and versions (it shares the
    registry's own tables, so a version loaded later for a run is seen here too), each translated
    when it is looked up (once: `Translations.localize` keeps them)."""

    def __init__(self, base: FrameworkRegistry, translate: Callable[[Framework], Framework]) -> None:
        # no super().__init__(): share the base's tables rather than copy them
        self.__dict__.update(base.__dict__)
        self._translate = translate

    def get(self, framework_id: str) -> Framework | None:
        found = super().get(framework_id)
        return None if found is None else self._translate(found)

    def all(self) -> tuple[Framework, ...]:
        return tuple(self._translate(framework) for framework in super().all())

    def pinned(self, framework_id: str, version: str) -> Framework | None:
        found = super().pinned(framework_id, version)
        return None if found is None else self._translate(found)
