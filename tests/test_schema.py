"""Framework files: the built-in workbook is complete, and broken files are refused clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from frameworks.loader import BUILT_IN_DIR, FrameworkError, load_framework, load_frameworks

CX = BUILT_IN_DIR / "cx-maturity.yaml"


def test_cx_workbook_is_complete() -> None:
    framework = load_framework(CX)
    assert framework.id == "cx-maturity"
    assert [d.name for d in framework.dimensions] == [
        "Organizational self-awareness",
        "Citizen insights",
        "Citizen engagement and communication",
        "Citizen context and trust",
    ]
    assert [len(d.questions) for d in framework.dimensions] == [3, 3, 2, 3]
    assert [s.id for s in framework.stages] == [
        "passive",
        "impersonal",
        "targeted",
        "personalized",
        "empathetic",
    ]
    assert all(len(q.levels) == 5 for q in framework.questions)
    for dimension in framework.dimensions:
        assert len(dimension.sub_dimensions) == len(dimension.questions)
        assert all(len(sub.recommendations) == 5 for sub in dimension.sub_dimensions)
        assert dimension.case is not None
        assert dimension.resources
    assert {d.case.title.split()[-1] for d in framework.dimensions if d.case} >= {"Madrid", "Milan"}


def test_version_is_derived_from_content(tmp_path: Path) -> None:
    data = yaml.safe_load(CX.read_text())
    original = load_framework(CX).version
    data["intro"] = data["intro"] + " Changed."
    changed = _write(tmp_path, data)
    assert load_framework(changed).version != original
    assert load_framework(CX).version == original


def _write(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def _cx() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CX.read_text())
    return data


def _break_gap(data: dict[str, Any]) -> None:
    data["stages"][1]["min_score"] = 2.0


def _break_overlap(data: dict[str, Any]) -> None:
    data["stages"][4]["min_score"] = 4.2


def _break_sub_dimension(data: dict[str, Any]) -> None:
    data["dimensions"][1]["questions"][0]["sub_dimension"] = "nowhere"


def _break_levels(data: dict[str, Any]) -> None:
    data["dimensions"][0]["questions"][1]["levels"].pop()


def _break_recommendations(data: dict[str, Any]) -> None:
    del data["dimensions"][2]["sub_dimensions"][0]["recommendations"]["targeted"]


def _break_duplicate(data: dict[str, Any]) -> None:
    data["dimensions"][3]["questions"][2]["id"] = data["dimensions"][0]["questions"][0]["id"]


def _break_long_description(data: dict[str, Any]) -> None:
    data["dimensions"][0]["questions"][0]["levels"][0]["description"] = "One. Two. Three. Four."


def _break_unknown_key(data: dict[str, Any]) -> None:
    data["dimensions"][0]["colour"] = "blue"


def _break_missing_title(data: dict[str, Any]) -> None:
    del data["title"]


def _break_scale_order(data: dict[str, Any]) -> None:
    data["scale"].reverse()
    for question in (q for d in data["dimensions"] for q in d["questions"]):
        question["levels"].reverse()


def _break_url(data: dict[str, Any]) -> None:
    data["dimensions"][0]["resources"][0]["url"] = "not a url"


@pytest.mark.parametrize(
    ("breaker", "place", "problem"),
    [
        (_break_gap, "at stages[1].min_score", "bands must not overlap or leave gaps"),
        (_break_overlap, "at stages[4].min_score", "bands must not overlap or leave gaps"),
        (
            _break_sub_dimension,
            "at dimensions[1].questions[0].sub_dimension",
            "names sub-dimension 'nowhere'",
        ),
        (_break_levels, "at dimensions[0].questions[1].levels", "has levels [1, 2, 3, 4]"),
        (
            _break_recommendations,
            "at dimensions[2].sub_dimensions[0].recommendations",
            "missing stages ['targeted']",
        ),
        (_break_duplicate, "at dimensions[3].questions[2].id", "is used twice"),
        (
            _break_long_description,
            "dimensions[0].questions[0].levels[0].description",
            "one to three sentences",
        ),
        (_break_unknown_key, "dimensions[0].colour", "unknown key 'colour' (a typo?): the keys here are id,"),
        (_break_missing_title, "at title", "is required: add it"),
        (_break_url, "dimensions[0].resources[0].url", "URL"),
        (_break_scale_order, "at scale:", "from the lowest level to the highest"),
    ],
)
def test_broken_framework_is_refused_naming_file_place_and_problem(
    tmp_path: Path, breaker: Any, place: str, problem: str
) -> None:
    data = _cx()
    breaker(data)
    path = _write(tmp_path, data)
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    message = str(caught.value)
    assert str(path) in message
    assert place in message
    assert problem in message


def test_error_gives_the_line(tmp_path: Path) -> None:
    data = _cx()
    _break_long_description(data)
    path = _write(tmp_path, data)
    with pytest.raises(FrameworkError, match=r"line \d+, at dimensions\[0\]\.questions\[0\]\.levels\[0\]"):
        load_framework(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id: [unclosed", "is not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("", "must be a mapping"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(FrameworkError, match=problem):
        load_framework(_write(tmp_path, text))


def test_version_key_is_refused(tmp_path: Path) -> None:
    data = _cx()
    data["version"] = "1"
    with pytest.raises(FrameworkError, match="derived from the content"):
        load_framework(_write(tmp_path, data))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="cannot be read"):
        load_framework(tmp_path / "absent.yaml")


def test_duplicate_framework_ids_across_directories_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, _cx(), "copy.yaml")
    with pytest.raises(FrameworkError, match="already used"):
        load_frameworks([BUILT_IN_DIR, tmp_path])


def test_the_pulse_check_asks_one_question_per_cx_dimension_and_one_metric() -> None:
    pulse = load_framework(BUILT_IN_DIR / "cx-pulse.yaml")
    cx = load_framework(CX)
    assert pulse.review_before_submit is False
    assert len(pulse.questions) == 5
    assert [len(d.questions) for d in pulse.dimensions] == [1, 1, 1, 1, 1]
    assert [d.id for d in pulse.dimensions][:4] == [d.id for d in cx.dimensions]
    assert [(s.id, s.min_score, s.max_score) for s in pulse.stages] == [
        (s.id, s.min_score, s.max_score) for s in cx.stages
    ]
