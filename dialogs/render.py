"""Building `Reply` values from framework data and the catalogue. No state, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dialogs.catalogue import Catalogue
from dialogs.commands import answer_payload, position_payload
from dialogs.types import Button, ButtonRole, QuestionRef, Reply, ReplyKind
from frameworks.calculator import Calculator
from frameworks.schema import Framework, Question

RUNS_CACHED = 16
"""Button sets kept per question page: run numbers are per person, so a few cover nearly everyone."""
MESSAGE_LIMIT = 3500
"""Split longer texts: below every channel's limit (Telegram's is 4096) and quick to read."""


def level_label(framework: Framework, question: Question, value: int) -> str:
    level = next(level for level in question.levels if level.value == value)
    if level.label:
        return level.label
    return next(point.label for point in framework.scale if point.value == value)


def answer_text(cat: Catalogue, framework: Framework, question: Question, value: int | None) -> str:
    if value is None:
        return cat.text("review_skipped")
    return cat.text("choice_title", value=value, label=level_label(framework, question, value))


def dimension_of(framework: Framework, question: Question) -> str:
    return framework.dimension_of[question.id].name


@dataclass(frozen=True, slots=True)
class _QuestionPage:
    """The parts of a question message that are the same for everyone."""

    title: str
    body: str
    choices: tuple[tuple[str, int], ...]
    navigation: tuple[tuple[str, str], ...]
    """(title, command) of Back and Skip."""
    answers: dict[int | None, str]
    """Each answer as shown ("3 - Targeted"; None: skipped)."""
    acknowledgements: dict[int | None, str]
    """The line that acknowledges each answer."""
    buttons: dict[int, tuple[Button, ...]] = field(default_factory=dict)
    """The buttons, by run number (the payloads name the run)."""

    def buttons_of(self, run: int, index: int) -> tuple[Button, ...]:
        found = self.buttons.get(run)
        if found is None:
            found = tuple(Button(title, answer_payload(run, index, value)) for title, value in self.choices)
            found += tuple(
                Button(title, position_payload(name, run, index), ButtonRole.NAVIGATION)
                for title, name in self.navigation
            )
            if len(self.buttons) < RUNS_CACHED:
                self.buttons[run] = found
        return found


_pages: dict[tuple[int, str, str, int], _QuestionPage] = {}


def _question_page(cat: Catalogue, framework: Framework, index: int) -> _QuestionPage:
    key = (id(cat), framework.id, framework.version, index)
    page = _pages.get(key)
    if page is None:
        page = _pages[key] = _build_question_page(cat, framework, index)
    return page


def _build_question_page(cat: Catalogue, framework: Framework, index: int) -> _QuestionPage:
    question = framework.questions[index]
    lines = [question.text, ""]
    lines += [
        cat.text(
            "level_line",
            value=level.value,
            label=level_label(framework, question, level.value),
            description=level.description,
        )
        for level in question.levels
    ]
    lines += ["", cat.text("how_to_answer", low=framework.scale_values[0], high=framework.scale_values[-1])]
    title = cat.text(
        "progress",
        number=index + 1,
        count=len(framework.questions),
        dimension=dimension_of(framework, question),
    )
    choices = tuple(
        (answer_text(cat, framework, question, level.value), level.value) for level in question.levels
    )
    navigation = ((cat.text("button_back"), "back"), (cat.text("button_skip"), "skip"))
    values: list[int | None] = [*framework.scale_values, None]
    answers = {value: answer_text(cat, framework, question, value) for value in values}
    acknowledgements = {
        value: cat.text(
            "skipped" if value is None else "answered", short=question.short, answer=answers[value]
        )
        for value in values
    }
    return _QuestionPage(title, "\n".join(lines), choices, navigation, answers, acknowledgements)


def question_reply(
    cat: Catalogue, framework: Framework, run: int, index: int, answers: Mapping[str, int | None]
) -> Reply:
    """One question: progress, the question, each level described, and a button per level."""
    page = _question_page(cat, framework, index)
    question = framework.questions[index]
    text = page.body
    if question.id in answers:
        value = answers[question.id]
        current = (
            cat.text("current_skipped")
            if value is None
            else cat.text("current_answer", answer=page.answers[value])
        )
        text = f"{text}\n{current}"
    return Reply(
        text=text,
        title=page.title,
        buttons=page.buttons_of(run, index),
        kind=ReplyKind.QUESTION,
        question=QuestionRef(run, index),
    )


def answered_reply(cat: Catalogue, framework: Framework, run: int, index: int, value: int | None) -> Reply:
    """Acknowledges an answer; channels that can edit the question message show it there."""
    page = _question_page(cat, framework, index)
    return Reply(
        text=page.acknowledgements[value],
        kind=ReplyKind.ANSWERED,
        question=QuestionRef(run, index, page.answers[value]),
    )


_UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class _ReviewPage:
    """The parts of a review that are the same for everyone: each question's line for each answer."""

    title: str
    lines: tuple[dict[int | str | None, str], ...]
    """Per question: its line for each level, None (skipped) and `_UNANSWERED`."""
    buttons: dict[tuple[int, bool], tuple[Button, ...]] = field(default_factory=dict)
    """By (run, whether questions are still unanswered)."""


_reviews: dict[tuple[int, str, str], _ReviewPage] = {}


def _review_page(cat: Catalogue, framework: Framework) -> _ReviewPage:
    key = (id(cat), framework.id, framework.version)
    page = _reviews.get(key)
    if page is None:
        page = _reviews[key] = _build_review_page(cat, framework)
    return page


def _build_review_page(cat: Catalogue, framework: Framework) -> _ReviewPage:
    lines = []
    for number, question in enumerate(framework.questions, start=1):
        shown: dict[int | str | None, str] = {
            value: answer_text(cat, framework, question, value) for value in [*framework.scale_values, None]
        }
        shown[_UNANSWERED] = cat.text("review_unanswered")
        lines.append(
            {
                key: cat.text("review_line", number=number, short=question.short, answer=text)
                for key, text in shown.items()
            }
        )
    return _ReviewPage(cat.text("review_title", title=framework.title), tuple(lines))


def _review_buttons(
    cat: Catalogue, framework: Framework, page: _ReviewPage, run: int, missing: bool
) -> tuple[Button, ...]:
    found = page.buttons.get((run, missing))
    if found is not None:
        return found
    buttons = [
        Button(
            cat.text("button_change", number=n), position_payload("change", run, n - 1), ButtonRole.NAVIGATION
        )
        for n in range(1, len(framework.questions) + 1)
    ]
    if missing:
        buttons.append(Button(cat.text("button_continue"), "/start", ButtonRole.CHOICE))
    buttons.append(Button(cat.text("button_submit"), "/submit", ButtonRole.CHOICE))
    if len(page.buttons) < RUNS_CACHED:
        page.buttons[(run, missing)] = tuple(buttons)
    return tuple(buttons)


def review_reply(cat: Catalogue, framework: Framework, run: int, answers: Mapping[str, int | None]) -> Reply:
    """All answers so far, each with a button to change it."""
    page = _review_page(cat, framework)
    lines = [
        line[answers[question.id]] if question.id in answers else line[_UNANSWERED]
        for question, line in zip(framework.questions, page.lines, strict=True)
    ]
    missing = sum(1 for q in framework.questions if q.id not in answers)
    footer = cat.text("review_footer_incomplete", missing=missing) if missing else cat.text("review_footer")
    return Reply(
        text="\n".join([*lines, "", footer]),
        title=page.title,
        buttons=_review_buttons(cat, framework, page, run, bool(missing)),
        kind=ReplyKind.REVIEW,
    )


def menu_reply(
    cat: Catalogue, frameworks: Iterable[Framework | Calculator], lead: str | None = None
) -> Reply:
    """The frameworks on offer, one button each."""
    items = list(frameworks)
    if not items:
        return Reply(text=cat.text("no_frameworks"))
    lines = [lead] if lead else []
    lines.append(cat.text("choose_framework"))
    lines += [f"- {f.title} (/start {f.id})" for f in items]
    buttons = tuple(Button(cat.text("framework_button", title=f.title), f"/start {f.id}") for f in items)
    return Reply(text="\n".join(lines), buttons=buttons)


def text_bar(score: Decimal, low: int, high: int, width: int = 10) -> str:
    """A small bar of block characters, readable in any chat."""
    filled = round((float(score) - low) / (high - low) * width) if high > low else width
    filled = max(0, min(width, filled))
    return "\u2588" * filled + "\u2591" * (width - filled)


def split_lines(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at line ends so no piece is longer than `limit` (a single long line is cut)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current:
        pieces.append(current)
    return pieces
