"""A framework as a readable outline (`cxbot frameworks show`): what its author wrote, in the order
people meet it, with the levels, stages and bands spelled out, so a reviewer need not read YAML."""

from __future__ import annotations

from frameworks.loader import counted
from frameworks.schema import Dimension, Framework, Question

INDENT = "  "


def outline(framework: Framework) -> str:
    """The whole framework as plain text, one fact a line."""
    return "\n".join([*_head(framework), *_scale_and_stages(framework), *_dimensions(framework)])


def _head(framework: Framework) -> list[str]:
    questions = counted(len(framework.questions), "question")
    dimensions = counted(len(framework.dimensions), "dimension")
    review = (
        "reviewed before submitting" if framework.review_before_submit else "submitted at the last answer"
    )
    return [
        f"{framework.title} ({framework.id}, version {framework.version})",
        f"{questions} in {dimensions}; language {framework.language}; answers {review}",
        f"Source: {framework.source}",
        f"Intro: {framework.intro}",
    ]


def _scale_and_stages(framework: Framework) -> list[str]:
    lines = ["", "Scale (the answer levels, lowest first):"]
    lines += [f"{INDENT}{point.value} {point.label}" for point in framework.scale]
    lines += ["", "Stages (read against the mean score, rounded half up to one decimal):"]
    for stage in sorted(framework.stages, key=lambda s: s.min_score):
        band = f"{stage.min_score}-{stage.max_score}"
        lines.append(f"{INDENT}{band} {stage.name} ({stage.id}): {stage.description}")
    return lines


def _dimensions(framework: Framework) -> list[str]:
    lines: list[str] = []
    number = 0
    for index, dimension in enumerate(framework.dimensions, start=1):
        lines += ["", f"{index}. {dimension.name} ({dimension.id}): {dimension.summary}"]
        lines += _sub_dimensions(framework, dimension)
        for question in dimension.questions:
            number += 1
            lines += _question(framework, question, number)
        lines += _case_and_resources(dimension)
    return lines


def _sub_dimensions(framework: Framework, dimension: Dimension) -> list[str]:
    names = {stage.id: stage.name for stage in framework.stages}
    lines = []
    for sub in dimension.sub_dimensions:
        lines.append(f"{INDENT}Sub-dimension {sub.name} ({sub.id}): {sub.description}")
        inferred = set(sub.inferred_recommendations)
        for stage_id, advice in sub.recommendations.items():
            mark = " [inferred]" if stage_id in inferred else ""
            lines.append(f"{INDENT * 2}Advice at {names.get(stage_id, stage_id)}{mark}: {advice}")
    return lines


def _question(framework: Framework, question: Question, number: int) -> list[str]:
    labels = {point.value: point.label for point in framework.scale}
    lines = [
        f"{INDENT}Q{number} {question.short} ({question.id}, sub-dimension {question.sub_dimension})",
        f"{INDENT * 2}{question.text}",
    ]
    for level in question.levels:
        mark = " [inferred]" if level.inferred else ""
        label = level.label or labels.get(level.value, "")
        lines.append(f"{INDENT * 3}{level.value} {label}{mark}: {level.description}")
    return lines


def _case_and_resources(dimension: Dimension) -> list[str]:
    lines = []
    if dimension.case is not None:
        where = f" <{dimension.case.url}>" if dimension.case.url else ""
        lines.append(f"{INDENT}Case: {dimension.case.title}{where}")
    for resource in dimension.resources:
        where = f" <{resource.address}>" if resource.address else ""
        lines.append(f"{INDENT}Resource: {resource.title} ({resource.topic}){where}")
    return lines
