"""`cxbot frameworks ...`: list the assessments, show one as an outline, check framework files, and
print the JSON Schema editors use to check them as they are typed.

Exit status: 0 all is well, 1 a framework file is not valid, 2 the command was not usable (a file
that does not exist, an id nobody offers, a wrong option).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.translation_check import check_overlay, is_overlay, overlays_in
from frameworks.calculator import Calculator
from frameworks.calculator_outline import calculator_outline
from frameworks.loader import BUILT_IN_DIR, FrameworkError, counted, json_schema, load_file
from frameworks.outline import outline
from frameworks.registry import FrameworkRegistry
from frameworks.schema import Framework

ACTIONS = ("list", "show", "validate", "schema")
VALID, INVALID, USAGE = 0, 1, 2
LOADED = ".yaml"
"""The bot loads the files with this ending in its folders (`frameworks.loader.load_frameworks`)."""


def add_commands(commands: Any) -> None:
    """Add `frameworks` and its actions to the `cxbot` parser."""
    frameworks = commands.add_parser(
        "frameworks",
        help="list, show or check assessment frameworks",
        description="Without an action: list the assessments offered. "
        "`cxbot frameworks FILE...` is short for `cxbot frameworks validate FILE...`.",
    )
    frameworks.set_defaults(func=list_frameworks)
    actions = frameworks.add_subparsers(metavar="ACTION")
    actions.add_parser("list", help="the assessments offered: id, version, title").set_defaults(
        func=list_frameworks
    )
    show = actions.add_parser("show", help="one framework as a readable outline")
    show.add_argument("framework", metavar="ID|FILE", help="an offered framework's id, or a framework file")
    show.set_defaults(func=show_framework)
    validate = actions.add_parser(
        "validate",
        help="check framework files and translation overlays (a folder: its *.yaml and translations/*.yaml)",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    validate.set_defaults(func=validate_paths)
    actions.add_parser("schema", help="print the JSON Schema of framework files, for editors").set_defaults(
        func=print_schema
    )


def with_action(argv: Sequence[str]) -> list[str]:
    """`cxbot frameworks FILE...` (the form from before the actions) as `... frameworks validate FILE...`."""
    args = list(argv)
    if len(args) > 1 and args[0] == "frameworks" and args[1] not in ACTIONS and not args[1].startswith("-"):
        return [args[0], "validate", *args[1:]]
    return args


def list_frameworks(_: argparse.Namespace) -> int:
    """`cxbot frameworks [list]`: id, version and title, a line each (tab-separated, for scripts too)."""
    try:
        registry = FrameworkRegistry.from_directories(Settings().framework_dirs())
    except FrameworkError as error:
        print(error, file=sys.stderr)
        return INVALID
    for framework in registry.offered():  # the assessments, then the calculators
        print(f"{framework.id}\t{framework.version}\t{framework.title}")
    return VALID


def show_framework(args: argparse.Namespace) -> int:
    """`cxbot frameworks show ID|FILE`."""
    wanted: str = args.framework
    try:
        if wanted.endswith((LOADED, ".yml")) or Path(wanted).is_file():
            framework: Framework | Calculator | None = load_file(Path(wanted))
            offered: tuple[Framework | Calculator, ...] = ()
        else:
            registry = FrameworkRegistry.from_directories(Settings().framework_dirs())
            framework = registry.get(wanted) or registry.calculator(wanted)
            offered = registry.offered()
    except FrameworkError as error:
        print(error, file=sys.stderr)
        return INVALID
    if framework is None:
        ids = ", ".join(f.id for f in offered)
        print(
            f"cxbot: no framework {wanted!r} is offered (the ids are: {ids}); or give a file", file=sys.stderr
        )
        return USAGE
    print(calculator_outline(framework) if isinstance(framework, Calculator) else outline(framework))
    return VALID


def validate_paths(args: argparse.Namespace) -> int:
    """`cxbot frameworks validate PATH...`: each file OK or its problems, each problem once; the
    translation overlays after the frameworks, each against the framework it translates."""
    files, unusable = _framework_files(args.paths)
    for problem in unusable:
        print(f"cxbot: {problem}", file=sys.stderr)
    overlays = [path for path in files if is_overlay(path)]
    frameworks = [path for path in files if not is_overlay(path)]
    deployed = _deployed(exclude=frameworks)
    others = {framework_id: path for framework_id, (path, _) in deployed.items()}
    mine: dict[str, Path] = {}
    translatable = {
        key: framework for key, (_, framework) in deployed.items() if isinstance(framework, Framework)
    }
    invalid = False
    for path in frameworks:
        report, framework = _check(path, others, mine)
        print(report)
        invalid = invalid or framework is None
        if isinstance(framework, Framework):
            translatable[framework.id] = framework  # an overlay is checked against the file being checked
    for path in overlays:
        report, ok = check_overlay(path, translatable)
        print(report)
        invalid = invalid or not ok
    return USAGE if unusable else INVALID if invalid else VALID


def print_schema(_: argparse.Namespace) -> int:
    """`cxbot frameworks schema`: the JSON Schema, to save beside the files an editor checks."""
    print(json.dumps(json_schema(), indent=2))
    return VALID


def _check(
    path: Path, others: dict[str, Path], mine: dict[str, Path]
) -> tuple[str, Framework | Calculator | None]:
    """One file's report line(s), and the framework if it is valid; an id another file already uses
    is a problem (the bot would refuse to start with both)."""
    try:
        framework = load_file(path)
    except FrameworkError as error:
        return str(error), None
    clash = mine.get(framework.id) or others.get(framework.id)
    if clash is not None:
        return (
            f"{path}: 1 problem\n  at id: {framework.id!r} is also the id of {clash}: give one another id",
            None,
        )
    mine[framework.id] = path
    note = "" if path.suffix == LOADED else f"; cxbot loads only files named *{LOADED}: rename it"
    return (
        f"{path}: OK ({framework.id}, version {framework.version}, {_contents(framework)}){note}",
        framework,
    )


def _contents(framework: Framework | Calculator) -> str:
    """ "11 questions", or for a calculator "a calculator: 6 inputs, 10 figures"."""
    if isinstance(framework, Framework):
        return counted(len(framework.questions), "question")
    inputs = counted(len(framework.inputs), "input")
    return f"a calculator: {inputs}, {counted(len(framework.figures), 'figure')}"


def _framework_files(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to check (a folder stands for its `*.yaml`), and the paths that give none."""
    files: list[Path] = []
    unusable: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob(f"*{LOADED}")) + overlays_in(path)
            files += found
            unusable += [] if found else [f"{path}: no framework files (*{LOADED}) in this folder"]
        elif path.exists():
            files.append(path)
        else:
            unusable.append(f"{path}: no such file or folder")
    return files, unusable


def _deployed(exclude: Sequence[Path]) -> dict[str, tuple[Path, Framework | Calculator]]:
    """The framework files the bot would load beside the ones being checked, by id (a file that is
    itself broken is that file's problem, not this check's)."""
    skipped = {path.resolve() for path in exclude}
    found: dict[str, tuple[Path, Framework | Calculator]] = {}
    for path in _loaded_files():
        if path.resolve() in skipped:
            continue
        try:
            framework = load_file(path)
        except FrameworkError:
            continue
        found.setdefault(framework.id, (path, framework))
    return found


def _loaded_files() -> Iterator[Path]:
    for directory in [BUILT_IN_DIR, *Settings().framework_dirs()]:
        yield from sorted(directory.glob(f"*{LOADED}"))
