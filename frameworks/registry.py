"""The frameworks a running bot offers, loaded once at start-up."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from frameworks.loader import BUILT_IN_DIR, load_frameworks
from frameworks.schema import Framework


class FrameworkRegistry:
    """Frameworks by id, in a stable order for menus."""

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self._by_id = {f.id: f for f in frameworks}

    @classmethod
    def from_directories(cls, extra: Iterable[Path] = ()) -> FrameworkRegistry:
        """The built-in frameworks plus any in the extra directories."""
        return cls(load_frameworks([BUILT_IN_DIR, *extra]).values())

    def get(self, framework_id: str) -> Framework | None:
        return self._by_id.get(framework_id)

    def all(self) -> tuple[Framework, ...]:
        return tuple(self._by_id.values())
