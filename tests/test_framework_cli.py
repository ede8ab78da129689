"""`cxbot frameworks ...` as an author runs it, from a shell: list, show, validate (and the older
`cxbot frameworks FILE...`), and the JSON Schema editors check files against."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from tests.cli_support import run_cxbot

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = ROOT / "frameworks"
BUILT_IN_IDS = ["channel-7c", "cx-maturity", "cx-pulse", "failure-demand"]

ONE_QUESTION = """\
id: one-question
title: One question
intro: A single question, to check the smallest framework there is.
source: Written for cxbot's tests.
scale:
  - {value: 1, label: Low}
  - {value: 2, label: High}
stages:
  - {id: low, name: Low, description: Just starting., min_score: 1.0, max_score: 1.4}
  - {id: high, name: High, description: Well on the way., min_score: 1.5, max_score: 2.0}
dimensions:
  - id: people
    name: People
    summary: How the team works together.
    sub_dimensions:
      - id: morale
        name: Morale
        description: How the team feels.
        recommendations: {low: Talk more., high: Keep it up.}
    questions:
      - id: morale
        sub_dimension: morale
        text: How is morale?
        short: Morale
        levels:
          - {value: 1, description: Low.}
          - {value: 2, description: High.}
"""


def cxbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`cxbot ARGS...` in a shell, with `env` added to the environment."""
    return run_cxbot(*args, cwd=cwd, env=env)


def written(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the one place `fragment` is in `text`."""
    assert text.count(fragment) == 1, fragment
    return text[: text.index(fragment)].count("\n") + 1


# --- list and show -------------------------------------------------------------------------


def test_list_names_every_assessment_and_calculator_with_its_version(tmp_path: Path) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    written(extra, "one-question.yaml", ONE_QUESTION)
    for args in (["frameworks"], ["frameworks", "list"]):
        done = cxbot(*args, cwd=tmp_path, CXBOT_FRAMEWORKS_PATH=str(extra))
        assert done.returncode == 0, done.stderr
        rows = [line.split("\t") for line in done.stdout.splitlines()]
        assert [row[0] for row in rows] == [*BUILT_IN_IDS[:3], "one-question", "failure-demand"]
        assert all(len(row) == 3 and len(row[1]) == 12 for row in rows)
        assert ["one-question", rows[3][1], "One question"] == rows[3]


def test_list_says_which_file_is_broken(tmp_path: Path) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    written(extra, "broken.yaml", ONE_QUESTION.replace("title: One question\n", ""))
    done = cxbot("frameworks", cwd=tmp_path, CXBOT_FRAMEWORKS_PATH=str(extra))
    assert done.returncode == 1
    assert f"{extra / 'broken.yaml'}: 1 problem\n  line 1, at title: is required: add it" in done.stderr


def test_show_gives_an_outline_of_an_assessment_a_calculator_or_a_file(tmp_path: Path) -> None:
    pulse = cxbot("frameworks", "show", "cx-pulse", cwd=tmp_path)
    assert pulse.returncode == 0, pulse.stderr
    assert pulse.stdout.startswith("CX pulse check (cx-pulse, version ")
    assert "5 questions in 5 dimensions" in pulse.stdout
    assert "  3.5-4.2 Personalized (personalized): " in pulse.stdout

    calculator = cxbot("frameworks", "show", "failure-demand", cwd=tmp_path)
    assert calculator.returncode == 0, calculator.stderr
    out = calculator.stdout
    assert "A calculator: 6 inputs, 1 refinement, 10 figures" in out
    assert "  1. Contacts a year (total: a whole number, at least 1)" in out
    assert "Refinement /channels: Cost by channel, asked after the summary" in out
    assert "  9. Share face to face (face_share: a share, 0-100%, at most 1 - phone_share)" in out
    assert "  Payback (payback, shown as months, to one decimal) = one_off / ((saving - running) / 12)" in out
    assert "    only if saving > running; otherwise shown as 'never'" in out

    path = written(tmp_path, "one-question.yaml", ONE_QUESTION)
    from_file = cxbot("frameworks", "show", str(path), cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    assert "1 question in 1 dimension; language en" in from_file.stdout
    assert "      2 High: High." in from_file.stdout


def test_show_of_an_id_nobody_offers_lists_the_ids(tmp_path: Path) -> None:
    done = cxbot("frameworks", "show", "cx-maturty", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"no framework 'cx-maturty' is offered (the ids are: {', '.join(BUILT_IN_IDS)})" in done.stderr


# --- validate ------------------------------------------------------------------------------


def test_validate_says_ok_with_what_the_file_holds(tmp_path: Path) -> None:
    path = written(tmp_path, "one-question.yaml", ONE_QUESTION)
    for args in (["frameworks", "validate", str(path)], ["frameworks", str(path)]):  # the older form too
        done = cxbot(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"{path}: OK (one-question, version ")
        assert done.stdout.endswith(", 1 question)\n")  # not "1 questions"


def test_validate_checks_every_file_of_a_folder(tmp_path: Path) -> None:
    done = cxbot("frameworks", "validate", str(BUILT_IN), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for framework_id in BUILT_IN_IDS:
        assert f"{BUILT_IN / framework_id}.yaml: OK ({framework_id}, version " in done.stdout
    assert ", 11 questions)\n" in done.stdout


MISTAKES = [
    # (what the author wrote, instead of what, where the problem is reported, what it says)
    (
        "          - {value: 2, description: High.}\n",
        "          - {value: 2, description: High, most days.}\n",
        "dimensions[0].questions[0].levels[1]",
        "'most days.' looks like the rest of a text cut at a comma: inside { } a comma ends a value",
    ),
    (
        "          - {value: 1, description: Low.}\n",
        "          - {value: 1, description: Low. Very low. Much too low. Worst.}\n",
        "dimensions[0].questions[0].levels[0].description",
        "must be one to three sentences ending in . ! or ? (found 4)",
    ),
    (
        "          - {value: 1, description: Low.}\n",
        "          - {value: 1, description: ''}\n",
        "dimensions[0].questions[0].levels[0].description",
        "String should have at least 1 character",
    ),
    (
        "        short: Morale\n",
        "        shrot: Morale\n        short: Morale\n",
        "dimensions[0].questions[0].shrot",
        "unknown key 'shrot' (a typo?): the keys here are kind, id, sub_dimension, text, short, levels",
    ),
    (
        "        recommendations: {low: Talk more., high: Keep it up.}\n",
        "        recommendations: {low: Talk more.}\n",
        "dimensions[0].sub_dimensions[0].recommendations",
        "missing stages ['high']",
    ),
    (
        "  - {id: high, name: High, description: Well on the way., min_score: 1.5, max_score: 2.0}\n",
        "  - {id: high, name: High, description: Well on the way., min_score: 1.6, max_score: 2.0}\n",
        "stages[1].min_score",
        "stage 'high' starts at 1.6 but the bands need 1.5 next (bands must not overlap or leave gaps)",
    ),
    (
        "id: one-question\n",
        "id: One Question\n",
        "id",
        "must be a short id: lower-case letters, digits and hyphens",
    ),
    (
        "title: One question\n",
        "title: Two questions\ntitle: One question\n",
        "title",
        "is written twice (lines 2 and 3): YAML keeps only the last, so remove one",
    ),
]


@pytest.mark.parametrize(("old", "new", "place", "why"), MISTAKES)
def test_each_real_error_is_reported_once_with_its_line(
    tmp_path: Path, old: str, new: str, place: str, why: str
) -> None:
    """One mistake, one problem: nothing cascades from it (a bad level description in a question's
    only list once also made "Tuple should have at least 1 item" errors for the lists holding it)."""
    text = ONE_QUESTION.replace(old, new)
    path = written(tmp_path, "mine.yaml", text)
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    line = line_of(text, new.splitlines()[0])
    assert done.stdout == f"{path}: 1 problem\n  line {line}, at {place}: {done.stdout.split(': ', 2)[-1]}"
    assert why in done.stdout
    assert "Tuple should have" not in done.stdout


def test_an_id_another_file_has_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path, "mine.yaml", ONE_QUESTION.replace("id: one-question", "id: cx-pulse"))
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == (
        f"{path}: 1 problem\n  at id: 'cx-pulse' is also the id of {BUILT_IN / 'cx-pulse.yaml'}: "
        "give one another id\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://...",
        "https://\u2026",
        "https://example.com/guide",
        "https://www.example.org/guide",
        "https://todo",
        "https://guide.test/",
        "http://localhost/guide",
    ],
)
def test_placeholder_addresses_are_refused(tmp_path: Path, url: str) -> None:
    confirmed = "url_confirmed_by: 'a check of the publisher page'"
    resource = f"      - {{title: A guide, topic: Morale, url: '{url}', {confirmed}}}\n"
    text = f"{ONE_QUESTION}    resources:\n{resource}"
    path = written(tmp_path, "mine.yaml", text)
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    line = line_of(text, "      - {title: A guide")
    assert done.stdout == (
        f"{path}: 1 problem\n  line {line}, at dimensions[0].resources[0].url: looks like a placeholder, "
        "not a confirmed address: give the real address, or leave the url out (a title alone is better "
        "than a guessed link)\n"
    )


def test_an_address_needs_to_say_where_it_was_confirmed(tmp_path: Path) -> None:
    resource = "    resources:\n      - {title: A guide, topic: Morale, url: 'https://www.oecd.org/guide'}\n"
    path = written(tmp_path, "mine.yaml", ONE_QUESTION + resource)
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert "needs url_confirmed_by: the record or page that confirmed this address names this work" in (
        done.stdout
    )
    confirmed = resource.replace("'}", "', url_confirmed_by: 'the OECD library record of this guide'}")
    path.write_text(ONE_QUESTION + confirmed, encoding="utf-8")
    assert cxbot("frameworks", "validate", str(path), cwd=tmp_path).returncode == 0


def test_every_problem_of_a_file_is_listed_in_the_order_of_the_file(tmp_path: Path) -> None:
    text = (
        ONE_QUESTION.replace("title: One question\n", "title: One question\ntitel: typo\n")
        .replace("{value: 2, description: High.}", "{value: 2, description: ''}")
        .replace("short: Morale", "short: " + "M" * 61)
    )
    path = written(tmp_path, "mine.yaml", text)
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"{path}: 3 problems"
    numbers = [int(line.split(",")[0].removeprefix("  line ")) for line in lines[1:]]
    assert numbers == sorted(numbers)
    assert [line.split(": ")[0].split("at ")[1] for line in lines[1:]] == [
        "titel",
        "dimensions[0].questions[0].short",
        "dimensions[0].questions[0].levels[1].description",
    ]


def test_unusable_paths_are_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = cxbot("frameworks", "validate", str(tmp_path / "nope.yaml"), str(empty), cwd=tmp_path)
    assert done.returncode == 2
    assert f"cxbot: {tmp_path / 'nope.yaml'}: no such file or folder" in done.stderr
    assert f"cxbot: {empty}: no framework files (*.yaml) in this folder" in done.stderr
    bad_yaml = written(tmp_path, "bad.yaml", "id: x\ntitle: [unclosed\n")
    done = cxbot("frameworks", "validate", str(bad_yaml), cwd=tmp_path)
    assert done.returncode == 1
    assert f"{bad_yaml}: is not valid YAML: line 3, column 1: " in done.stdout


def test_a_file_not_named_yaml_is_checked_and_the_author_told_to_rename_it(tmp_path: Path) -> None:
    path = written(tmp_path, "one-question.yml", ONE_QUESTION)
    done = cxbot("frameworks", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("; cxbot loads only files named *.yaml: rename it")


# --- the JSON Schema -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    done = cxbot("frameworks", "schema", cwd=tmp_path_factory.mktemp("schema"))
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_the_schema_is_valid_json_schema_draft_7(schema: dict[str, object]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema_rs.meta.validate(schema)
    definitions = schema["definitions"]
    assert isinstance(definitions, dict)
    assert {"Framework", "Calculator", "Question", "Level", "Input", "Figure"} <= definitions.keys()
    assert "version" not in definitions["Framework"]["properties"]  # derived, never written


@pytest.mark.parametrize("name", BUILT_IN_IDS)
def test_every_built_in_file_validates_against_the_schema(schema: dict[str, object], name: str) -> None:
    data = yaml.safe_load((BUILT_IN / f"{name}.yaml").read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft7Validator(schema)
    assert [error.message for error in validator.iter_errors(data)] == []


def test_the_schema_catches_what_an_editor_should_underline(schema: dict[str, object]) -> None:
    validator = jsonschema_rs.Draft7Validator(schema)
    framework = yaml.safe_load(ONE_QUESTION)
    assert validator.is_valid(framework)
    typo = {**framework, "titel": "x"}
    assert "Additional properties are not allowed ('titel' was unexpected)" in [
        e.message for e in validator.iter_errors(typo)
    ]
    assert not validator.is_valid({**framework, "version": "abc"})
    assert not validator.is_valid({**framework, "id": "Not A Slug"})
    calculator = yaml.safe_load((BUILT_IN / "failure-demand.yaml").read_text(encoding="utf-8"))
    wrong_format = json.loads(json.dumps(calculator))
    wrong_format["figures"][0]["format"] = "weeks"
    assert not validator.is_valid(wrong_format)
    assert not validator.is_valid({**calculator, "scale": []})  # a calculator has no scale
