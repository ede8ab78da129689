"""The frameworks a running bot offers, loaded once at start-up, and the older versions runs still need.

A run keeps the version of its framework it started on: its questions, levels, stages and advice,
even after the file changes or is removed. The start-up records each offered version's content in
the database (`storage.framework_versions`); when a run, result or campaign round of another version
turns up, the engine reads that version from there once (`load_missing`) and it stays in memory, so
the per-message lookup (`pinned`) is one dictionary access.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from frameworks.calculator import Calculator
from frameworks.loader import BUILT_IN_DIR, framework_of_content, load_all
from frameworks.schema import Framework

VersionKey = tuple[str, str]
"""(framework id, version)."""
StoredContent = Callable[[str, str], dict[str, Any] | None]
"""Reads a version's stored content (None: not stored)."""
log = logging.getLogger(__name__)


class FrameworkRegistry:
    """Frameworks by id, in a stable order for menus; and every version of them by (id, version)."""

    def __init__(self, frameworks: Iterable[Framework], calculators: Iterable[Calculator] = ()) -> None:
        # these tables are only ever added to, never replaced: `frameworks.translations` shares them
        self._by_id = {f.id: f for f in frameworks}
        self._calculators = {c.id: c for c in calculators}
        self._versions: dict[VersionKey, Framework] = {(f.id, f.version): f for f in self._by_id.values()}
        self._not_stored: set[VersionKey] = set()

    @classmethod
    def from_directories(cls, extra: Iterable[Path] = ()) -> FrameworkRegistry:
        """The built-in frameworks plus any in the extra directories."""
        loaded = load_all([BUILT_IN_DIR, *extra]).values()
        frameworks = [f for f in loaded if isinstance(f, Framework)]
        return cls(frameworks, [c for c in loaded if isinstance(c, Calculator)])

    def get(self, framework_id: str) -> Framework | None:
        """The framework offered under this id now (None if its file is gone)."""
        return self._by_id.get(framework_id)

    def all(self) -> tuple[Framework, ...]:
        """The frameworks offered now."""
        return tuple(self._by_id.values())

    def calculator(self, calculator_id: str) -> Calculator | None:
        """The calculator offered under this id (`kind: calculator` files; `dialogs.calculator_dialogue`)."""
        return self._calculators.get(calculator_id)

    def calculators(self) -> tuple[Calculator, ...]:
        return tuple(self._calculators.values())

    def offered(self) -> tuple[Framework | Calculator, ...]:
        """Everything the menu lists: the assessments, then the calculators."""
        return (*self.all(), *self._calculators.values())

    def pinned(self, framework_id: str, version: str) -> Framework | None:
        """The framework a run (result, campaign round) of this version is asked, scored and shown with:
        that version, if it is offered or was loaded; else the one offered now (a version from before
        versions were stored cannot be had); None when neither exists."""
        found = self._versions.get((framework_id, version))
        return found if found is not None else self._by_id.get(framework_id)

    def knows(self, key: VersionKey) -> bool:
        """Whether `pinned` already gives its final answer for this version (no need to read storage)."""
        return key in self._versions or key in self._not_stored

    def load_missing(self, keys: Iterable[VersionKey], stored: StoredContent) -> None:
        """Read the versions not yet in memory from storage, once each. Versions are content hashes,
        so what is kept never goes stale; a version storage does not have (or that no longer
        validates) is remembered as such, and `pinned` gives the framework offered now."""
        for key in keys:
            if self.knows(key):
                continue
            framework = _framework_of(key, stored(*key))
            if framework is None:
                self._not_stored.add(key)
            else:
                self._versions[key] = framework


def _framework_of(key: VersionKey, data: dict[str, Any] | None) -> Framework | None:
    if data is None:
        return None
    try:
        return framework_of_content(data, key[1])
    except ValidationError as error:  # the schema changed incompatibly since this version was stored
        log.warning("stored framework %s version %s no longer validates: %s", *key, error)
        return None
