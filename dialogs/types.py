"""The values that cross the engine's boundary: an `Inbound` message in, `Reply` values out.

Channels translate their transport to and from these; the engine never sees a transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person: typed text or a button's payload."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    """The channel's id for this delivery; a repeated id is answered once (deduplication)."""
    display_name: str | None = None
    push_url: str | None = None
    """Where this person's bridge takes messages the bot starts (reminders): a webhook callback URL."""
    buttons_stay: bool = True
    """The channel keeps the live question's buttons on screen (Telegram edits old ones away), so a
    stale press needs only a notice; False where only the latest answer's buttons can be pressed."""
    language: str | None = None
    """The language the channel says the person uses, as a language tag such as `pt-BR` (Telegram's
    `language_code`, the webhook's `metadata.language`): a hint, which a /language choice overrides."""


class ReplyKind(StrEnum):
    INFO = "info"
    QUESTION = "question"
    ANSWERED = "answered"
    REVIEW = "review"
    RESULT = "result"
    CONFIRM = "confirm"
    NOTICE = "notice"


class ButtonRole(StrEnum):
    CHOICE = "choice"
    NAVIGATION = "navigation"


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str
    role: ButtonRole = ButtonRole.CHOICE


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: float
    high: float


RESULT = "result"
PROFILE = "profile"
LEVELS = "levels"
TREND = "trend"


@dataclass(frozen=True, slots=True)
class Chart:
    """Dimension scores against the stage bands; channels draw it (the engine stays I/O free)."""

    token: str
    """Unguessable id of the stored result (or of a campaign's dashboard), so a channel can serve the
    picture by URL."""
    title: str
    labels: tuple[str, ...]
    scores: tuple[float | None, ...]
    bands: tuple[Band, ...]
    scale_min: float
    scale_max: float
    of: str = RESULT
    """What `token` names: a person's result, or (PROFILE) a campaign's dashboard."""
    round: int | None = None
    overall: float | None = None
    """The overall score, marked across the bars (a result's mean of all answers)."""
    decimal_mark: str = "."
    """How the scores drawn on it are written in the reader's language ("3.1", "3,1")."""


@dataclass(frozen=True, slots=True)
class LevelChart:
    """How many people chose each level of each question, as stacked bars (a campaign's report)."""

    token: str
    """The campaign's dashboard token."""
    title: str
    questions: tuple[str, ...]
    levels: tuple[str, ...]
    """Level labels in scale order, then "skipped"."""
    counts: tuple[tuple[int, ...], ...]
    """Per question, people per level (same order as `levels`)."""
    round: int | None = None
    of: str = LEVELS


@dataclass(frozen=True, slots=True)
class TrendChart:
    """Group scores over rounds, one line per dimension, against the stage bands."""

    token: str
    title: str
    rounds: tuple[str, ...]
    """Each round's label ("Round 2"), in order."""
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    """(name, score per round); None where a round was withheld or had no answers."""
    bands: tuple[Band, ...]
    scale_min: float
    scale_max: float
    of: str = TREND
    round: int | None = None
    """The round the report was of (the picture shows every round)."""


AnyChart = Chart | LevelChart | TrendChart


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """Which question a reply shows or acknowledges, so a channel can edit its message in place."""

    run: int
    index: int
    chosen: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing message. `title` is shown emphasised; `text` is plain text."""

    text: str
    title: str | None = None
    buttons: tuple[Button, ...] = ()
    links: tuple[Link, ...] = ()
    chart: AnyChart | None = None
    kind: ReplyKind = ReplyKind.INFO
    question: QuestionRef | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, to remember replies of a processed message (written out, not
        `dataclasses.asdict`, which deep-copies every value: this runs for most messages)."""
        question = self.question
        return {
            "text": self.text,
            "title": self.title,
            "buttons": [{"title": b.title, "payload": b.payload, "role": b.role.value} for b in self.buttons],
            "links": [{"title": link.title, "url": link.url} for link in self.links],
            "chart": None if self.chart is None else asdict(self.chart),
            "kind": self.kind.value,
            "question": None
            if question is None
            else {"run": question.run, "index": question.index, "chosen": question.chosen},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        chart = data.get("chart")
        question = data.get("question")
        return cls(
            text=data["text"],
            title=data.get("title"),
            buttons=tuple(Button(b["title"], b["payload"], ButtonRole(b["role"])) for b in data["buttons"]),
            links=tuple(Link(**link) for link in data["links"]),
            chart=_chart_from_dict(chart) if chart else None,
            kind=ReplyKind(data["kind"]),
            question=QuestionRef(**question) if question else None,
        )


class Replies(list[Reply]):
    """The replies to one message, and the locale they are written in, so that a channel can add
    words of its own in the same language (Telegram's "Your answer: ..."); "" when not known (the
    replies remembered for a repeated delivery)."""

    __slots__ = ("locale",)

    def __init__(self, replies: Iterable[Reply] = (), locale: str = "") -> None:
        super().__init__(replies)
        self.locale = locale


def locale_of(replies: Iterable[Reply]) -> str:
    """The locale replies are written in, "" when not known."""
    return replies.locale if isinstance(replies, Replies) else ""


def _chart_from_dict(data: dict[str, Any]) -> AnyChart:
    kind = data.get("of", RESULT)
    if kind == LEVELS:
        counts = tuple(tuple(row) for row in data["counts"])
        return LevelChart(
            data["token"],
            data["title"],
            tuple(data["questions"]),
            tuple(data["levels"]),
            counts,
            data["round"],
        )
    bands = tuple(Band(**b) for b in data["bands"])
    if kind == TREND:
        series = tuple((name, tuple(values)) for name, values in data["series"])
        return TrendChart(
            data["token"],
            data["title"],
            tuple(data["rounds"]),
            series,
            bands,
            data["scale_min"],
            data["scale_max"],
        )
    return Chart(
        token=data["token"],
        title=data["title"],
        labels=tuple(data["labels"]),
        scores=tuple(data["scores"]),
        bands=bands,
        scale_min=data["scale_min"],
        scale_max=data["scale_max"],
        of=kind,
        round=data.get("round"),
        overall=data.get("overall"),
        decimal_mark=data.get("decimal_mark", "."),
    )
