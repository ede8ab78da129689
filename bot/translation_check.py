"""`cxbot frameworks validate` for translation overlays (`translations/<framework id>.<locale>.yaml`):
each overlay is checked against the framework it translates, as the bot checks it when it starts
(`frameworks.translations.Translations.check`), and says how much of the framework it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from frameworks.loader import counted
from frameworks.schema import Framework
from frameworks.translations import (
    FOLDER,
    LOCALE,
    Overlay,
    TranslationError,
    read_overlay,
    translate,
    untranslated,
)


def is_overlay(path: Path) -> bool:
    """An overlay rather than a framework: in a `translations/` folder, or named `<id>.<locale>.yaml`."""
    locale = Path(path.stem).suffix.removeprefix(".")  # a framework named `x.yml` has no locale
    return path.parent.name == FOLDER or bool(locale and LOCALE.match(locale))


def overlays_in(folder: Path) -> list[Path]:
    """The overlays the bot would read beside the frameworks of a folder."""
    return sorted((folder / FOLDER).glob("*.yaml"))


def check_overlay(path: Path, frameworks: Mapping[str, Framework]) -> tuple[str, bool]:
    """One overlay's report line(s), and whether the bot would take it. `frameworks` are the ones it
    may translate, by id (those being checked, then those the bot loads)."""
    try:
        overlay = read_overlay(path)
    except TranslationError as error:
        return str(error), False
    framework = frameworks.get(overlay.framework_id)
    if framework is None:
        ids = ", ".join(sorted(frameworks))
        reason = f"there is no framework {overlay.framework_id!r} to translate (the ids are: {ids})"
        return f"{path}: 1 problem\n  {reason}: name the file <framework id>.<locale>.yaml", False
    problems = translate(framework, overlay)[1]
    if problems:
        lines = [_line(path, problem) for problem in problems]
        return "\n".join([f"{path}: {counted(len(problems), 'problem')}", *lines]), False
    return f"{path}: OK ({_coverage(framework, overlay)}){_placement_note(path)}", True


def _line(path: Path, problem: str) -> str:
    """`path:12: what` (as the start-up check says it) as `  line 12: what` under the file's name."""
    line, _, what = problem.removeprefix(f"{path}:").partition(": ")
    return f"  line {line}: {what}" if line.isdigit() and line != "0" else f"  {what or problem}"


def _coverage(framework: Framework, overlay: Overlay) -> str:
    total = len(untranslated(framework, Overlay(overlay.framework_id, overlay.locale, overlay.path, None)))
    left = len(untranslated(framework, overlay))
    english = "" if not left else f"; {left} stay English"
    done = f"{total - left} of {counted(total, 'text')} translated"
    return f"{framework.id} in {overlay.locale}: {done}{english}"


def _placement_note(path: Path) -> str:
    if path.parent.name == FOLDER:
        return ""
    return f"; cxbot reads overlays only from a {FOLDER}/ folder beside the frameworks: move it there"
