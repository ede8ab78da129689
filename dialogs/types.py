"""The values that cross the engine's boundary: an `Inbound` message in, `Reply` values out.

Channels translate their transport to and from these; the engine never sees a transport.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Chart:
    """Dimension scores against the stage bands; channels draw it (the engine stays I/O free)."""

    token: str
    """Unguessable id of the stored result, so a channel can serve the picture by URL."""
    title: str
    labels: tuple[str, ...]
    scores: tuple[float | None, ...]
    bands: tuple[Band, ...]
    scale_min: float
    scale_max: float


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
    chart: Chart | None = None
    kind: ReplyKind = ReplyKind.INFO
    question: QuestionRef | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, to remember replies of a processed message."""
        return asdict(self)

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


def _chart_from_dict(data: dict[str, Any]) -> Chart:
    return Chart(
        token=data["token"],
        title=data["title"],
        labels=tuple(data["labels"]),
        scores=tuple(data["scores"]),
        bands=tuple(Band(**b) for b in data["bands"]),
        scale_min=data["scale_min"],
        scale_max=data["scale_max"],
    )
