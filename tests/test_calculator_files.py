"""Calculator files and their formula language (`frameworks.expressions`): formulas are parsed into
a small tree and evaluated exactly, never by Python's `eval`; anything outside the language, hostile
or mistaken, is refused when the file is validated, with the file, the line and what to change."""

from __future__ import annotations

import ast
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from frameworks import expressions as x

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = ROOT / "frameworks" / "failure-demand.yaml"
PAYBACK_FORMULA = "    formula: one_off / ((saving - running) / 12)\n"


def validate(*paths: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`cxbot frameworks validate PATH...` as an author runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "frameworks", "validate", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def calculator_with(folder: Path, name: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the failure-demand calculator (under the id `name`) with one line changed, and the
    number of that line."""
    text = BUILT_IN.read_text(encoding="utf-8").replace("id: failure-demand", f"id: {name}", 1)
    assert text.count(old) == 1, old
    path = folder / f"{name}.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text[: text.index(old)].count("\n") + 1


def reports(paths: list[Path], cwd: Path) -> dict[Path, str]:
    """Each file's report from one `cxbot frameworks validate` of them all (exit status 1)."""
    done = validate(*paths, cwd=cwd)
    assert done.returncode == 1, done.stdout + done.stderr
    starts = sorted((done.stdout.index(f"{path}: "), path) for path in paths)
    ends = [start for start, _ in starts[1:]] + [len(done.stdout)]
    return {path: done.stdout[start:end] for (start, path), end in zip(starts, ends, strict=True)}


HOSTILE = [
    # (formula, what the refusal says)
    ("__import__('os').system('touch hacked')", "cannot read \"'os').system\" at character 12"),
    ("eval('1 + 1')", "cannot read \"'1 + 1')\""),
    ('open("/etc/passwd")', "cannot read '\"/etc/passwd' at character 6"),
    ("exec(one_off)", "'exec' is not a function here; the functions are: min(a, b, ...)"),
    ("one_off.__class__", "names cannot have parts (a.b)"),
    ("saving ** 1000000", "powers (**) are not allowed"),
    ("9 ** 9 ** 9", "powers (**) are not allowed"),
    ("one_off[0]", "indexing ([...]) is not allowed"),
    ("lambda: one_off", "cannot read ': one_off' at character 7"),
    ("one_off if saving else 0", "unexpected 'if' at character 9"),
    ("one_off; import os", "cannot read '; import os' at character 8"),
    ("one_off  # a comment", "cannot read '# a comment'"),
    ("__builtins__ * 2", "'__builtins__' is not an input or figure defined before this one"),
    ("globals()", "'globals' is not a function here"),
    ("one_off // 12", "// is not allowed: use /"),
    ("one_off % 12", "% is not an operator here"),
    ("one_off = 1", "write == to compare, in only_if"),
    ("1e400", "unexpected 'e400' at character 2"),
    ("round(saving, 100)", "round's places must be a whole number from 0 to 6"),
    ("round(saving, running)", "round's places must be a whole number from 0 to 6"),
    ("min()", "expected a number, a name or ( at character 5"),
    ("(" * 30 + "one_off" + ")" * 30, "nests more than 24 levels deep; split it into figures"),
    ("-" * 30 + "one_off", "nests more than 24 levels deep"),
    (" + ".join(["one_off"] * 60), "characters long; a formula may have at most 400"),
    ("one_off / (saving", "expected ')' at the end"),
    ("one_off +", "ends too early"),
    ("\u0430 + 1", "cannot read '\u0430 + 1' at character 1"),  # a Cyrillic a, not the Latin one
    ("'", "cannot read"),
    ("''", "cannot read"),
]


def test_a_formula_outside_the_language_is_refused_with_file_and_line(tmp_path: Path) -> None:
    files = []
    for number, (formula, why) in enumerate(HOSTILE):
        quoted = formula.replace("'", "''")
        path, line = calculator_with(
            tmp_path, f"hostile-{number}", PAYBACK_FORMULA, f"    formula: '{quoted}'\n"
        )
        files.append((path, line, why))
    found = reports([path for path, _, _ in files], tmp_path)
    for path, line, why in files:
        report = found[path]
        assert report.startswith(f"{path}: 1 problem\n  line {line}, at figures[9].formula: "), report
        assert why in report, report
        assert report.count("\n") == 2, report  # the file's line and one problem
    assert not (tmp_path / "hacked").exists()


MISTAKES = [
    # (the line as the file has it, the line instead, where the problem is, what it says)
    (
        "    only_if: saving > running\n",
        "    only_if: \"__import__('os')\"\n",
        "figures[9].only_if",
        "cannot read",
    ),
    (
        "    only_if: saving > running\n",
        "    only_if: saving\n",
        "figures[9].only_if",
        "a condition compares two formulas with < <= > >= == or !=",
    ),
    (
        "        max: 1 - phone_share\n",
        "        max: phone_share.real\n",
        "refinements[0].inputs[2].max",
        "names cannot have parts",
    ),
    (
        "        max: 1 - phone_share\n",
        "        max: 1 - face_cost\n",
        "refinements[0].inputs[2].max",
        "'face_cost' is not an input or figure defined before this one",
    ),
    (
        "    formula: failure_cost * reduction\n",
        "    formula: failure_cost * phone_share\n",
        "figures[2].formula",
        "'phone_share' is not an input or figure defined before this one",
    ),
    (
        "    formula: 3 * saving - cost_3\n",
        "    formula: 3 * saving - cost_5\n",
        "figures[4].formula",
        "'cost_5' is not an input or figure defined before this one",
    ),
    ("  - id: one_off\n", "  - id: one-off\n", "inputs[4].id", "no hyphens: one-off reads as one"),
    (
        "figures:\n",
        "  - id: results\n    title: Again\n    intro: Twice.\n    inputs:\n"
        "      - {id: again, kind: count, short: Again, text: Count them.}\nfigures:\n",
        "refinements[1].id",
        "'results' is already a command",
    ),
    ("    format: months\n", "    format: weeks\n", "figures[9].format", "Input should be 'count'"),
    ("    formula: one_off + 5 * running\n", "    formula: true\n", "figures[6].formula", "valid string"),
]


def test_other_mistakes_in_a_calculator_are_refused_where_they_are(tmp_path: Path) -> None:
    files = []
    for number, (old, new, place, why) in enumerate(MISTAKES):
        path, line = calculator_with(tmp_path, f"mistake-{number}", old, new)
        files.append((path, line, place, why))
    found = reports([path for path, *_ in files], tmp_path)
    for path, line, place, why in files:
        report = found[path]
        assert report.startswith(f"{path}: 1 problem\n  line {line}, at {place}: "), report
        assert why in report, report


def test_the_built_in_calculator_validates(tmp_path: Path) -> None:
    done = validate(BUILT_IN, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "failure-demand.yaml: OK (failure-demand, version " in done.stdout
    assert ", a calculator: 6 inputs, 10 figures)" in done.stdout


def test_no_module_evaluates_text_as_python() -> None:
    """No call of Python's `eval`, `exec`, `compile` or `__import__` anywhere in the code the bot runs
    (a method of that name, such as a SQL statement's `.compile()`, runs no Python)."""
    builtins = {"eval", "exec", "compile", "__import__"}
    calls = []
    for package in ("bot", "dialogs", "frameworks", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and _builtin_name(node.func) in builtins:
                    calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert calls == []


def _builtin_name(func: ast.expr) -> str:
    """`eval` for `eval(...)` and `builtins.eval(...)`; "" for anything else."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "builtins":
        return func.attr
    return ""


# --- the language on its own ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("1 + 2 * 3", Fraction(7)),
        ("(1 + 2) * 3", Fraction(9)),
        ("10 - 4 - 3", Fraction(3)),  # left to right
        ("12 / 4 / 3", Fraction(1)),
        ("-(1 - 3)", Fraction(2)),
        ("- -2", Fraction(2)),
        ("+2", Fraction(2)),
        ("10 / 4", Fraction(5, 2)),  # exact, not 2.5 in binary
        ("0.1 + 0.2", Fraction(3, 10)),  # exactly three tenths
        ("min(3, a, 2)", Fraction(1)),
        ("max(3, a, 2)", Fraction(3)),
        ("sum(a, a, 0.5)", Fraction(5, 2)),
        ("round(2.5)", Fraction(3)),
        ("round(-2.5)", Fraction(-3)),  # half-up: away from zero
        ("round(1 / 3, 2)", Fraction(33, 100)),
        ("a * (b - 1)", Fraction(2)),
    ],
)
def test_formulas_are_worked_out_exactly(formula: str, value: Fraction) -> None:
    assert x.evaluate(x.parse_formula(formula), {"a": Fraction(1), "b": Fraction(3)}) == value


def test_the_rounding_rule_decides_ties() -> None:
    half = x.parse_formula("round(a, 1)")
    assert x.evaluate(half, {"a": Fraction("12.25")}, x.HALF_UP) == Fraction("12.3")
    assert x.evaluate(half, {"a": Fraction("12.25")}, x.HALF_EVEN) == Fraction("12.2")
    assert x.round_to(Fraction("-0.05"), 1) == Fraction("-0.1")


def test_a_division_by_zero_or_a_missing_value_is_undefined() -> None:
    with pytest.raises(x.Undefined):
        x.evaluate(x.parse_formula("a / (b - 3)"), {"a": Fraction(1), "b": Fraction(3)})
    with pytest.raises(x.Undefined):
        x.evaluate(x.parse_formula("a + c"), {"a": Fraction(1)})


def test_conditions_compare_two_formulas() -> None:
    values = {"saving": Fraction(9000), "running": Fraction(1500)}
    assert x.holds(x.parse_condition("saving > running"), values)
    assert not x.holds(x.parse_condition("saving - running * 6 > 0"), values)
    assert x.holds(x.parse_condition("saving - running * 6 == 0"), values)
    with pytest.raises(x.ExpressionError, match="compares two formulas"):
        x.parse_condition("saving")
    with pytest.raises(x.ExpressionError, match="unexpected '>'"):
        x.parse_condition("saving > running > 0")


def test_names_are_read_in_order() -> None:
    node = x.parse_formula("max(a, b * -c) / (d + a)")
    assert list(x.names_in(node)) == ["a", "b", "c", "d", "a"]


def test_the_largest_formula_allowed_is_worked_out_quickly() -> None:
    """400 characters of products of 15-digit numbers: exact, and a few thousand digits at most."""
    formula = " * ".join(["a"] * 99)
    assert len(formula) <= x.MAX_LENGTH
    value = x.evaluate(x.parse_formula(formula), {"a": Fraction(10**15 - 1)})
    assert value == Fraction((10**15 - 1) ** 99)
