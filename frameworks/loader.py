"""Load framework files: parse YAML, validate against the schema, derive the version.

A file that cannot be used is refused with every problem found, each once, with its line, its place
and what to fix: the reader is often the person who wrote the file, not a programmer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from frameworks import yaml_parsing
from frameworks.calculator import CALCULATOR, IDENTIFIER, Calculator, calculator_version
from frameworks.schema import SLUG_PATTERN, Framework, Place, Problems

BUILT_IN_DIR = Path(__file__).resolve().parent
Found = tuple[Place, str]
"""A problem: where it is, and what is wrong and how to fix it."""


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file, the place and the problem."""


def counted(count: int, noun: str) -> str:
    """ "1 question", "2 questions"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def load_framework(path: Path) -> Framework:
    """Read and validate one framework file."""
    loaded = load_file(path)
    if isinstance(loaded, Calculator):
        raise FrameworkError(f"{path}: is a calculator (kind: calculator), not an assessment")
    return loaded


def load_file(path: Path) -> Framework | Calculator:
    """Read and validate one framework file: an assessment, or a calculator (`kind: calculator`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise FrameworkError(f"{path}: cannot be read ({reason})") from error
    try:
        root, data = _parsed(text)
    except yaml.YAMLError as error:
        raise FrameworkError(_yaml_problem(path, error)) from error
    if not isinstance(data, dict):
        raise FrameworkError(f"{path}: must be a mapping of keys such as id, title and dimensions")
    if "version" in data:
        raise FrameworkError(f"{path}: 'version' is derived from the content; remove it")
    found = list(_duplicate_keys(root, ()))
    schema: type[Framework | Calculator] = Calculator if data.get("kind") == CALCULATOR else Framework
    try:
        framework = schema.model_validate(data)
    except ValidationError as error:
        found += [problem for item in error.errors() for problem in _problems(item, schema)]
    if found:
        raise FrameworkError(_describe(path, root, _cut_texts(found)))
    if isinstance(framework, Calculator):
        return framework.model_copy(update={"version": calculator_version(framework)})
    return framework.model_copy(update={"version": content_version(framework)})


def content(framework: Framework) -> dict[str, Any]:
    """The content a version is the hash of, as JSON-ready data (what the version table keeps).

    Values left at their defaults are left out, so a new optional key in the schema does not give
    every framework a new version (and set every run in progress apart from the file)."""
    data: dict[str, Any] = framework.model_dump(mode="json", exclude={"version"}, exclude_defaults=True)
    return data


def content_version(framework: Framework) -> str:
    """A short hash of the validated content: any change to the text or scoring changes it."""
    canonical = json.dumps(content(framework), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def framework_of_content(data: dict[str, Any], version: str) -> Framework:
    """A stored version back as a framework, under the version it was stored as."""
    return Framework.model_validate(data).model_copy(update={"version": version})


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a framework file, for editors: JSON Schema draft 7, which YAML editor
    extensions read whatever their version. A file with `kind: calculator` is read as a calculator,
    any other as an assessment (the checks across a file, such as stage bands or the names a formula
    reads, are the loader's: `cxbot frameworks validate`)."""
    definitions: dict[str, Any] = {}
    for model in (Framework, Calculator):
        schema = model.model_json_schema(ref_template="#/definitions/{model}")
        definitions.update(schema.pop("$defs", {}))
        schema["properties"].pop("version", None)  # derived from the content: a file must not set it
        definitions[model.__name__] = schema
    is_calculator = {"properties": {"kind": {"const": CALCULATOR}}, "required": ["kind"]}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cxbot framework file (an assessment, or a calculator with kind: calculator)",
        "type": "object",
        "if": is_calculator,
        "then": {"$ref": "#/definitions/Calculator"},
        "else": {"$ref": "#/definitions/Framework"},
        "definitions": definitions,
    }


def load_frameworks(directories: Iterable[Path]) -> dict[str, Framework]:
    """Load every `*.yaml` in the directories; ids must be unique across them."""
    return {id_: f for id_, f in load_all(directories).items() if isinstance(f, Framework)}


def load_all(directories: Iterable[Path]) -> dict[str, Framework | Calculator]:
    """Every `*.yaml` in the directories, assessments and calculators; ids are unique across both."""
    frameworks: dict[str, Framework | Calculator] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            framework = load_file(path)
            if framework.id in frameworks:
                raise FrameworkError(f"{path}: framework id {framework.id!r} is already used by another file")
            frameworks[framework.id] = framework
    return frameworks


def _parsed(text: str) -> tuple[Any, Any]:
    """The YAML's node tree (which knows each value's line) and the data built from it, parsed once."""

    def both(loader: yaml.SafeLoader) -> tuple[Any, Any]:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None

    return yaml_parsing.parsed(text, both)


# --- telling what is wrong -----------------------------------------------------------------


def _yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return (
        f"{path}: is not valid YAML: {where}{problem} (check the indentation, and put text that "
        'contains ": " or starts with a special character such as [ { * & ! | > \' " % @ in quotes)'
    )


def _describe(path: Path, root: Any, found: list[Found]) -> str:
    located = sorted(((_line_of(root, place), place, message) for place, message in found), key=_by_line)
    lines = [f"{path}: {counted(len(found), 'problem')}"]
    for line, place, message in located:
        where = f"line {line}, " if line else ""
        lines.append(f"  {where}at {_dotted(place) or 'top level'}: {message}")
    return "\n".join(lines)


def _by_line(problem: tuple[int | None, Place, str]) -> int:
    """Problems in the order of the file (a problem with no line first: it is about the whole)."""
    return problem[0] or 0


def _problems(item: ErrorDetails, schema: type[BaseModel]) -> Iterator[Found]:
    """pydantic's error as problems with a place: the checks across the framework report several
    problems in one error, each with its own place."""
    place = tuple(item["loc"])
    error = item.get("ctx", {}).get("error")
    if isinstance(error, Problems):
        for problem in error.problems:
            yield (*place, *problem.at), problem.message
    else:
        yield place, _message(item, schema)


def _cut_texts(found: list[Found]) -> list[Found]:
    """Text with a comma in `{value: 2, description: Now and then, after a change.}` is cut at the
    comma, and its rest read as a key: report that once, as what it is, and not also what follows
    from it in that entry (a description of "Now and then" has no sentence end)."""
    cut = {place[:-1]: place[-1] for place, message in found if _is_cut_text(place, message)}
    if not cut:
        return found
    kept = [(place, message) for place, message in found if not any(_inside(place, at) for at in cut)]
    for at, rest in cut.items():
        message = (
            f"{rest!r} looks like the rest of a text cut at a comma: inside {{ }} a comma ends a value, "
            "so put the whole text in quotes, or write the entry's keys on lines of their own"
        )
        kept.append((at, message))
    return kept


def _is_cut_text(place: Place, message: str) -> bool:
    return bool(place) and message.startswith("unknown key") and " " in str(place[-1])


def _inside(place: Place, mapping: Place) -> bool:
    return len(place) > len(mapping) and place[: len(mapping)] == mapping


def _message(item: ErrorDetails, schema: type[BaseModel]) -> str:
    """What is wrong, said as what to do about it where pydantic's own words are not enough."""
    kind, ctx = item["type"], item.get("ctx", {})
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "missing":
        return "is required: add it"
    if kind == "extra_forbidden":
        key = item["loc"][-1]
        known = _keys_at(tuple(item["loc"][:-1]), schema)
        allowed = f": the keys here are {', '.join(known)}" if known else ""
        return f"unknown key {key!r} (a typo?){allowed}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == IDENTIFIER:
        return (
            "must be a name for formulas: lower-case letters, digits and _, starting with a letter, at "
            "most 32 characters (no hyphens: one-off reads as one minus off, so write one_off)"
        )
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == SLUG_PATTERN:
        return (
            "must be a short id: lower-case letters, digits and hyphens, starting with a letter or "
            "digit, at most 48 characters"
        )
    return item["msg"]


def _keys_at(place: Place, schema: type[BaseModel]) -> list[str]:
    """The keys the part of the schema at this place takes (empty if it is not a mapping of keys)."""
    model: type[BaseModel] | None = schema
    for part in place:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return [name for name in model.model_fields if name != "version"] if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in get_args(annotation) if (m := _model_in(arg)) is not None), None)


def _duplicate_keys(node: Any, place: Place) -> Iterator[Found]:
    """Keys written twice in one mapping: YAML keeps only the last, so the first is silently lost."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in first:
                yield (
                    (*place, key.value),
                    (
                        f"is written twice (lines {first[key.value]} and {line}): YAML keeps only the "
                        "last, so remove one"
                    ),
                )
            first.setdefault(key.value, line)
            yield from _duplicate_keys(value, (*place, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*place, index))


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(root: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest YAML node the error path reaches."""
    node = root
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
