"""Load framework files: parse YAML, validate against the schema, derive the version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from frameworks.schema import Framework

BUILT_IN_DIR = Path(__file__).resolve().parent


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file, the place and the problem."""


def load_framework(path: Path) -> Framework:
    """Read and validate one framework file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FrameworkError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise FrameworkError(f"{path}: is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise FrameworkError(f"{path}: must be a mapping of keys such as id, title and dimensions")
    if "version" in data:
        raise FrameworkError(f"{path}: 'version' is derived from the content; remove it")
    try:
        framework = Framework.model_validate(data)
    except ValidationError as error:
        raise FrameworkError(_describe(path, text, error)) from error
    return framework.model_copy(update={"version": content_version(framework)})


def content_version(framework: Framework) -> str:
    """A short hash of the validated content: any change to the text or scoring changes it."""
    canonical = json.dumps(framework.model_dump(mode="json", exclude={"version"}), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_frameworks(directories: Iterable[Path]) -> dict[str, Framework]:
    """Load every `*.yaml` in the directories; ids must be unique across them."""
    frameworks: dict[str, Framework] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            framework = load_framework(path)
            if framework.id in frameworks:
                raise FrameworkError(f"{path}: framework id {framework.id!r} is already used by another file")
            frameworks[framework.id] = framework
    return frameworks


def _describe(path: Path, text: str, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} problem(s)"]
    for item in error.errors():
        place = _dotted(item["loc"])
        line = _line_of(text, item["loc"])
        where = f"line {line}, " if line else ""
        lines.append(f"  {where}at {place or 'top level'}: {item['msg']}")
    return "\n".join(lines)


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest YAML node the error path reaches."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1 if node is not None else None


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
