"""YAML parsed with libyaml where PyYAML has it: the pure-Python parser took most of a second of
every start-up for the built-in framework, translation and message files. A file libyaml refuses is
parsed again in Python, whose error messages (quoted in docs/frameworks.md) are kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml

FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T")


def parsed(text: str, read: Callable[[yaml.SafeLoader], T]) -> T:
    """`read(loader)` on a safe loader over `text`: libyaml's, or Python's when libyaml refuses."""
    try:
        return _with(FAST_LOADER, text, read)
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
    return _with(yaml.SafeLoader, text, read)


def _with(kind: type[yaml.SafeLoader], text: str, read: Callable[[yaml.SafeLoader], T]) -> T:
    loader = kind(text)
    try:
        return read(loader)
    finally:
        loader.dispose()


def data(text: str) -> Any:
    """The document's data, as `yaml.safe_load` gives it."""
    return parsed(text, lambda loader: loader.get_single_data())


def node(text: str) -> yaml.Node | None:
    """The document's node tree (which knows each value's line), as `yaml.compose` gives it."""
    return parsed(text, lambda loader: loader.get_single_node())
