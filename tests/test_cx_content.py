"""The CX maturity framework's text against the workbook it comes from (seed 000).

Each answer level leads to one recommendation (level n, stage n): the advice must start from what
that level says is already in place. Where the workbook's text is cut off, the framework says no
more than the surrounding text supports, and marks what it completed. Addresses of resources say
where they were confirmed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from frameworks.loader import load_framework
from frameworks.schema import Framework, Question, Resource, SubDimension

FRAMEWORKS = Path(__file__).resolve().parent.parent / "frameworks"


@pytest.fixture(scope="module")
def cx() -> Framework:
    return load_framework(FRAMEWORKS / "cx-maturity.yaml")


def question(framework: Framework, question_id: str) -> Question:
    return next(q for q in framework.questions if q.id == question_id)


def sub_dimension(framework: Framework, sub_id: str) -> SubDimension:
    return next(s for d in framework.dimensions for s in d.sub_dimensions if s.id == sub_id)


def level_text(framework: Framework, question_id: str, value: int) -> str:
    return next(
        level.description for level in question(framework, question_id).levels if level.value == value
    )


def advice_for(framework: Framework, question_id: str, value: int) -> str:
    """The recommendation someone answering `value` gets (each sub-dimension has one question)."""
    stage = framework.stages[framework.scale_values.index(value)]
    return sub_dimension(framework, question(framework, question_id).sub_dimension).recommendations[stage.id]


# (question, lowest level that has it, what that level says is in place, advice that would start it anew)
ALREADY_IN_PLACE = [
    ("trust", 3, "indicators for measuring citizen trust", r"\b(start|begin) measuring\b"),
    ("roadmap-budget", 3, "road map", r"\b(create|develop|write|draw up)\s+an?\s[^.]*\broad map\b"),
    ("trust", 5, "digital account", r"\b(build|create|provide|offer|give)\b[^.]*\bdigital account\b"),
    ("leadership-culture", 4, "single executive program", r"\bcreate a single executive\b"),
    ("collaboration", 3, "Standards for data interoperability", r"\bcommon standards\b"),
    ("analytics-insights", 3, "integrated front-office and back-office", r"\binvest in an integrated\b"),
    ("cx-metrics", 2, "numerical CX measures", r"\bstart measuring\b"),
    ("omnichannel", 3, "standardized", r"\bset common standards\b"),
    ("employee-empowerment", 4, "tools that enable CX are in place", r"\bequip\b"),
    ("social-network", 4, "mapped in detail", r"^[^.]*\bmap\b(?![^.]*\bin more depth\b)"),
]


@pytest.mark.parametrize(("question_id", "from_level", "in_place", "start_anew"), ALREADY_IN_PLACE)
def test_advice_starts_from_where_the_answer_says_they_are(
    cx: Framework, question_id: str, from_level: int, in_place: str, start_anew: str
) -> None:
    assert in_place.lower() in level_text(cx, question_id, from_level).lower()
    for value in (v for v in cx.scale_values if v >= from_level):
        advice = advice_for(cx, question_id, value)
        assert not re.search(start_anew, advice, re.IGNORECASE), (question_id, value, advice)


def test_frame_of_reference_advice_climbs_one_level_at_a_time(cx: Framework) -> None:
    # the Passive advice is to start using census data; a level above it that already said so
    # (the workbook's level 3 does not) made that advice skip level 2
    assert "census" in advice_for(cx, "frame-of-reference", 1)
    assert all("census" not in level.description for level in question(cx, "frame-of-reference").levels)


# Claims the workbook's cut-off text does not support, once added to the framework's wording.
UNSUPPORTED_LEVELS = [
    ("omnichannel", 2, ["structure", "preferences", "not coordinated"]),
    ("frame-of-reference", 3, ["census", "secondary sources"]),
    ("frame-of-reference", 2, ["does not shape"]),
    ("frame-of-reference", 5, ["staff training"]),
    ("trust", 1, ["owns", "missing"]),
    ("trust", 2, ["explained to citizens"]),
    ("social-network", 2, ["not put to use"]),
    ("social-network", 3, ["campaigns"]),
    ("personalization", 2, ["systems or skills"]),
    ("personalization", 4, ["consent", "missing"]),
    ("personalization", 5, ["proactively"]),
    ("roadmap-budget", 2, ["budget", "shared plan"]),
    ("roadmap-budget", 4, ["across the organization"]),
    ("roadmap-budget", 5, ["revised"]),
    ("collaboration", 5, ["consent"]),
    ("collaboration", 3, ["a few services"]),
    ("analytics-insights", 4, ["preferences"]),
    ("cx-metrics", 2, ["compare"]),
]


@pytest.mark.parametrize(("question_id", "value", "claims"), UNSUPPORTED_LEVELS)
def test_cut_off_levels_add_nothing_the_workbook_lacks(
    cx: Framework, question_id: str, value: int, claims: list[str]
) -> None:
    text = level_text(cx, question_id, value).lower()
    assert not [claim for claim in claims if claim in text], text


UNSUPPORTED_ADVICE = [
    ("trust", "targeted", ["tell citizens", "measuring"]),
    ("trust", "empathetic", ["national digital identity programs", "as they develop"]),
    ("personalization", "targeted", ["consent"]),
    ("personalization", "personalized", ["correct it"]),
    ("personalization", "empathetic", ["social networks"]),
    ("personalization", "impersonal", ["highest-volume"]),
    ("collaboration", "passive", ["listing"]),
    ("collaboration", "empathetic", ["consent"]),
    ("leadership-culture", "impersonal", ["mandate"]),
    ("leadership-culture", "empathetic", ["lawful"]),
    ("roadmap-budget", "passive", ["the statement should"]),
    ("roadmap-budget", "impersonal", ["owners and milestones"]),
    ("employee-empowerment", "passive", ["champion"]),
    ("employee-empowerment", "impersonal", ["track who"]),
    ("frame-of-reference", "passive", ["gaps"]),
    ("frame-of-reference", "targeted", ["tone"]),
    ("social-network", "personalized", ["messengers"]),
    ("social-network", "empathetic", ["before they launch"]),
    ("omnichannel", "targeted", ["programs and agencies"]),
]


@pytest.mark.parametrize(("sub_id", "stage", "claims"), UNSUPPORTED_ADVICE)
def test_cut_off_advice_adds_nothing_the_workbook_lacks(
    cx: Framework, sub_id: str, stage: str, claims: list[str]
) -> None:
    text = sub_dimension(cx, sub_id).recommendations[stage].lower()
    assert not [claim for claim in claims if claim in text], text


@pytest.mark.parametrize(
    ("question_id", "value"),
    [
        ("trust", 4),
        ("trust", 5),
        ("leadership-culture", 4),
        ("cx-metrics", 5),
        ("omnichannel", 3),
        # the workbook's sentence stops short and the level finishes it: "personalized [cut]",
        # "in compliance with [cut]", "citizen personal [cut]", "context (social, [cut]",
        # "established across [cut]"
        ("leadership-culture", 5),
        ("roadmap-budget", 1),
        ("collaboration", 5),
        ("frame-of-reference", 1),
        ("trust", 3),
    ],
)
def test_completed_levels_are_marked_inferred(cx: Framework, question_id: str, value: int) -> None:
    level = next(level for level in question(cx, question_id).levels if level.value == value)
    assert level.inferred


@pytest.mark.parametrize(
    ("sub_id", "stage"),
    [
        ("trust", "personalized"),
        ("cx-metrics", "targeted"),
        ("omnichannel", "personalized"),
        # "a holistic view of [cut]", "The [cut] or data exchanges", "such as contact [cut]",
        # "identify emerging and [cut]", "compliance [cut]"
        ("collaboration", "targeted"),
        ("collaboration", "empathetic"),
        ("analytics-insights", "passive"),
        ("analytics-insights", "empathetic"),
        ("trust", "passive"),
    ],
)
def test_completed_advice_is_marked_inferred(cx: Framework, sub_id: str, stage: str) -> None:
    assert stage in sub_dimension(cx, sub_id).inferred_recommendations


def test_inferred_marks_name_real_stages(cx: Framework) -> None:
    stage_ids = {stage.id for stage in cx.stages}
    for dimension in cx.dimensions:
        for sub in dimension.sub_dimensions:
            assert set(sub.inferred_recommendations) <= stage_ids, sub.id


def test_the_impersonal_stage_joins_up_digital_and_non_digital_channels(cx: Framework) -> None:
    impersonal = next(stage for stage in cx.stages if stage.id == "impersonal")
    assert "non-digital" in impersonal.description
    assert "in-person" not in impersonal.description


def test_advice_never_points_to_advice_the_person_may_not_see(cx: Framework) -> None:
    # a person sees one recommendation per sub-dimension, so "see the road map advice" or "the tools
    # noted above" points at text most people never get
    pointer = re.compile(r"\(see |\bnoted above\b|\brecommendations? (under|for)\b", re.IGNORECASE)
    for dimension in cx.dimensions:
        for sub in dimension.sub_dimensions:
            for stage, text in sub.recommendations.items():
                assert not pointer.search(text), (sub.id, stage, text)


def test_every_address_says_where_it_was_confirmed(cx: Framework) -> None:
    linked = [r for d in cx.dimensions for r in d.resources if r.url is not None]
    assert len(linked) >= 10
    assert all(r.url_confirmed_by for r in linked)
    oecd = next(r for r in linked if "10.1787/9789264273283" in str(r.url))
    assert oecd.title.endswith("Building Capabilities in Chile")  # the work this DOI names


def test_an_address_without_its_confirmation_is_refused() -> None:
    guide = {"title": "A guide", "topic": "Trust"}
    address = {"url": "https://guides.gov.uk/a-guide"}
    confirmation = {"url_confirmed_by": "The publisher's page at this address names this guide."}
    with pytest.raises(ValidationError, match="url_confirmed_by"):
        Resource.model_validate({**guide, **address})
    with pytest.raises(ValidationError, match="without a url"):
        Resource.model_validate({**guide, **confirmation})
    confirmed = Resource.model_validate({**guide, **address, **confirmation})
    assert confirmed.address == "https://guides.gov.uk/a-guide"
