"""Properties of the engine under arbitrary input, on SQLite and PostgreSQL (hypothesis, stateful).

A person (a fresh sender per example, on one store per back end) sends a sequence drawn from: the
commands of the assessment and of campaigns, typed answers and labels, presses of the buttons the
bot just showed and of older ones, button payloads with plausible and random numbers, join codes in
the forms people type them, arbitrary text, overlong text, and resends of the last message with its
id. After every message, read straight from the tables:

- no exception escaped, and the bot said something;
- the stored state is one the machine knows, and consistent: an active run is open, a state that
  needs a run has one, cursors are within their framework's questions, one open attempt per
  framework (alone) and per campaign, a result exactly for each finished run, answers only to
  questions of their run's framework version with values on its scale, a group being chosen exactly
  in `choosing_group`, and the question shown last is the one stored as current;
- no stored answer changed unless this message answered (or skipped) that very question, or
  confirmed the erasure of everything; a restart keeps the old attempt's answers; a press of the live
  answer button or a typed level is stored; a resend with the same id changes nothing and gets the
  same replies;
- at the end of each example, the campaign tallies are the sum of what each published run added.

The number of examples is bounded so the suite stays quick; for a long run, set
`CXBOT_PROPERTIES=cxbot-properties-long` (1,000 examples per back end). CI replays the same examples
every run (`derandomize`), elsewhere each run explores new ones.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, bindparam, select

from dialogs import codes
from dialogs import machine as m
from dialogs.campaign_dialogue import new_campaign
from dialogs.commands import TEXT, Command, parse, parse_answer_payload, parse_position, whole_number
from dialogs.engine import MAX_TEXT, Engine
from dialogs.types import Inbound, Reply, ReplyKind
from frameworks.registry import FrameworkRegistry
from storage import campaign_admin as admin
from storage.store import Store, open_store
from storage.tables import (
    answers,
    campaign_tallies,
    campaigns,
    participants,
    results,
    runs,
    tallied_runs,
)
from storage.time import utc

settings.register_profile(
    "cxbot-properties",
    max_examples=40,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "cxbot-properties-long", parent=settings.get_profile("cxbot-properties"), max_examples=1000
)
PROPERTIES = settings.get_profile(os.environ.get("CXBOT_PROPERTIES", "cxbot-properties"))

FRAMEWORK_IDS = ("cx-maturity", "cx-pulse", "pulse-test")
GROUPS = ("North", "South")
JOIN_CODE = re.compile(r"Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})")
ABSENT = object()
"""An answer not stored (distinct from None, a skipped question)."""

STARTS = ("/start cx-maturity", "/start cx-pulse", "/start pulse-test", "/start")
NAVIGATION = ("/back", "/skip", "/review", "/submit", "/change 1", "/change 3")
CONFIRMABLE = ("/restart", "/deletemydata")
CONFIRMATIONS = ("/yes", "/no", "yes", "y", "no", "Yes!", "/yes delete", "/yes restart", "maybe")
INFORMATION = ("/help", "/mydata", "/results", "/campaigns")
COMMANDS = (
    "/start no-such-framework",
    "/START@SomeBot cx-pulse",
    "/change 99",
    "/change",
    "/answer",
    "/join",
    "/join ZZZZ-ZZZZ",
    "/leave",
    "/campaign",
    "/campaign new",
    "/campaign nonsense",
    "/campaign accept 2345-6789-ABCD",
    "/",
    "",
    "   ",
)
"""Everything else a person may type that looks like a command."""
CAMPAIGN_ACTIONS = (
    "/join {code}",
    "/join {code} North",
    "/join {code} 2",
    "/start {code}",
    "/leave {code}",
    "/campaign close {code}",
    "/campaign round {code}",
    "/campaign remind {code}",
    "/campaign status {code}",
    "/campaign report {code}",
    "/campaign add-facilitator {code}",
    "/campaign schedule {code} remind 3",
    "/campaign schedule {code} round off",
)
POSITION_COMMANDS = ("answer", "change", "skip", "back")
numbers = st.one_of(st.integers(-2, 3), st.integers(-(10**7), 10**7))
"""Offsets near the live question most of the time, anything now and then."""


# --- what the tables hold about one person ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRun:
    framework_id: str
    framework_version: str
    status: str
    cursor: int
    campaign_id: int | None
    campaign_open: bool
    has_result: bool


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    dimension_id: str
    framework_version: str
    value: int | None


@dataclass(frozen=True, slots=True)
class Stored:
    """One person as the tables hold them (no times: those change with every message)."""

    exists: bool = False
    state: str | None = None
    active_run: int | None = None
    joining: int | None = None
    runs: dict[int, StoredRun] = field(default_factory=dict)
    answers: dict[tuple[int, str], StoredAnswer] = field(default_factory=dict)

    def values(self) -> dict[tuple[int, str], int | None]:
        """(run number, question id) to the stored level (None: skipped)."""
        return {key: answer.value for key, answer in self.answers.items()}

    def cursor(self) -> int | None:
        run = self.runs.get(self.active_run) if self.active_run is not None else None
        return run.cursor if run is not None else None


PERSON = (
    select(
        participants.c.state,
        participants.c.active_run,
        participants.c.joining_campaign,
        runs.c.number,
        runs.c.framework_id,
        runs.c.framework_version,
        runs.c.status,
        runs.c.cursor,
        runs.c.campaign_id,
        campaigns.c.closed_at,
        campaigns.c.closes_at,
        results.c.run_id.label("result"),
        answers.c.question_id,
        answers.c.dimension_id,
        answers.c.framework_version.label("answered_version"),
        answers.c.value,
    )
    .select_from(participants)
    .outerjoin(runs, runs.c.participant_id == participants.c.id)
    .outerjoin(results, results.c.run_id == runs.c.id)
    .outerjoin(campaigns, campaigns.c.id == runs.c.campaign_id)
    .outerjoin(answers, answers.c.run_id == runs.c.id)
    .where(participants.c.channel == bindparam("channel"), participants.c.external_id == bindparam("sender"))
)
"""A person with each run and each answer: one row per answer (or run without any), in one query,
since it runs after every message."""


def read_person(conn: Connection, channel: str, sender: str) -> Stored:
    """Everything stored about one person that the properties speak of."""
    rows = conn.execute(PERSON, {"channel": channel, "sender": sender}).all()
    if not rows:
        return Stored()
    now = datetime.now(UTC)
    stored_runs: dict[int, StoredRun] = {}
    stored_answers: dict[tuple[int, str], StoredAnswer] = {}
    for row in rows:
        if row.number is None:
            continue
        campaign_open = row.campaign_id is None or (
            row.closed_at is None and (row.closes_at is None or now < utc(row.closes_at))
        )
        stored_runs[row.number] = StoredRun(
            row.framework_id,
            row.framework_version,
            row.status,
            row.cursor,
            row.campaign_id,
            campaign_open,
            row.result is not None,
        )
        if row.question_id is not None:
            answer = StoredAnswer(row.dimension_id, row.answered_version, row.value)
            stored_answers[(row.number, row.question_id)] = answer
    first = rows[0]
    return Stored(True, first.state, first.active_run, first.joining_campaign, stored_runs, stored_answers)


def tallies_match(conn: Connection, campaign_ids: set[int]) -> bool:
    """Within these campaigns, the tallies are exactly the sum of what each published run added."""
    expected: Counter[tuple[Any, ...]] = Counter()
    published = select(tallied_runs).where(
        tallied_runs.c.campaign_id.in_(campaign_ids), tallied_runs.c.batch.is_not(None)
    )
    for row in conn.execute(published):
        for kind, part, a, b in row.rows:
            expected[(row.campaign_id, row.round, row.framework_version, row.group_id, kind, part, a, b)] += 1
    tallies = select(campaign_tallies).where(
        campaign_tallies.c.campaign_id.in_(campaign_ids), campaign_tallies.c.count != 0
    )
    actual = Counter(
        {
            (r.campaign_id, r.round, r.framework_version, r.group_id, r.kind, r.part, r.a, r.b): r.count
            for r in conn.execute(tallies)
        }
    )
    return expected == actual


def campaign_id_of(conn: Connection, code: str) -> int | None:
    return conn.execute(select(campaigns.c.id).where(campaigns.c.code == code)).scalar()


# --- the properties ----------------------------------------------------------------------------


def check_consistent(person: Stored, frameworks: FrameworkRegistry) -> None:
    """The stored state is one the dialogue can be in."""
    if not person.exists:
        assert not person.runs, "runs without their person"
        assert not person.answers, "answers without their person"
        return
    assert person.state in m.STATES, person.state
    numbers = sorted(person.runs)
    assert numbers == list(range(1, len(numbers) + 1)), f"run numbers {numbers}"
    if person.active_run is not None:
        active = person.runs.get(person.active_run)
        assert active is not None, f"active run {person.active_run} is not stored"
        assert active.status == "open", f"active run {person.active_run}: {active}"
    if person.state in m.NEEDS_RUN:
        assert person.active_run is not None, f"{person.state} without a run"
    assert (person.joining is not None) == (person.state == m.CHOOSING_GROUP), (person.state, person.joining)
    alone = Counter(r.framework_id for r in person.runs.values() if r.status == "open" and not r.campaign_id)
    assert max(alone.values(), default=0) <= 1, f"two open attempts of one framework: {alone}"
    within = Counter(r.campaign_id for r in person.runs.values() if r.status == "open" and r.campaign_id)
    assert max(within.values(), default=0) <= 1, f"two open attempts in one campaign: {within}"
    for number, run in person.runs.items():
        calculator = frameworks.calculator(run.framework_id)
        if calculator is not None:  # its inputs are not answers: `storage.calculator_records`
            assert calculator.version == run.framework_version, run
            assert not any(n == number for n, _ in person.answers), f"run {number}: answers in a calculator"
            assert run.status in ("open", "finished", "abandoned"), run.status
            continue
        framework = frameworks.get(run.framework_id)
        assert framework is not None, run
        assert framework.version == run.framework_version, run
        assert 0 <= run.cursor < len(framework.questions), f"run {number}: cursor {run.cursor}"
        assert run.status in ("open", "finished", "abandoned"), run.status
        assert run.has_result == (run.status == "finished"), f"run {number}: {run}"
    for (number, question_id), answer in person.answers.items():
        run = person.runs[number]
        framework = frameworks.get(run.framework_id)
        assert framework is not None
        assert question_id in framework.dimension_of, f"run {number}: a stranger question {question_id}"
        assert answer.dimension_id == framework.dimension_of[question_id].id, (question_id, answer)
        assert answer.framework_version == run.framework_version, (question_id, answer)
        assert answer.value is None or answer.value in framework.scale_values, (question_id, answer)


def check_replies(replies: list[Reply], after: Stored) -> None:
    """Something is said; the question shown last is the one the next answer goes to."""
    assert replies, "the message got no reply"
    assert all(isinstance(r, Reply) and (r.text or r.title) for r in replies), replies
    shown = [r.question for r in replies if r.kind is ReplyKind.QUESTION and r.question is not None]
    if shown and after.state in (m.ASKING, m.REVISING):
        assert (shown[-1].run, shown[-1].index) == (after.active_run, after.cursor()), (shown[-1], after)


@dataclass(frozen=True, slots=True)
class Allowed:
    """What one message may do to the stored answers, given where the person stood before it."""

    key: tuple[int, str] | None = None
    """The one answer it may set: the question at the cursor of the run in hand."""
    values: frozenset[int | None] = frozenset()
    must: int | None | object = ABSENT
    """The value it must have stored (a live button pressed, a level typed), or ABSENT."""
    may_erase: bool = False
    must_erase: bool = False


def allowed(command: Command, before: Stored, frameworks: FrameworkRegistry, live_yes: bool) -> Allowed:
    """The changes to stored answers this command may (and must) make, from the state before it."""
    may_erase = before.state == m.CONFIRMING_DELETE and command.name in ("yes", TEXT)
    must_erase = may_erase and live_yes and command.args in ((), ("delete",))
    run = before.runs.get(before.active_run) if before.active_run is not None else None
    if before.state not in (m.ASKING, m.REVISING) or run is None or before.active_run is None:
        return Allowed(may_erase=may_erase, must_erase=must_erase)
    framework = frameworks.get(run.framework_id)
    assert framework is not None
    key = (before.active_run, framework.questions[run.cursor].id)
    here = (before.active_run, run.cursor)
    scale = frozenset(framework.scale_values)
    values: frozenset[int | None] = frozenset()
    must: int | None | object = ABSENT
    if command.name == "answer" and (parsed := parse_answer_payload(command)) is not None:
        values = frozenset({parsed[2]}) & scale
        if parsed[:2] == here and values:
            must = parsed[2]
    elif command.name == "skip":
        values = frozenset({None})
        if not command.args or parse_position(command) == here:
            must = None
    elif command.name == TEXT and command.text:
        typed = " ".join(command.text.lower().split())
        number = whole_number(typed[:-1] if typed[-1:] in (".", ")") else typed)
        values = scale if number is None else frozenset({number}) & scale
        if number is not None and number in scale:
            must = number
    if not run.campaign_open:  # the attempt is set aside before anything else
        must = ABSENT
    return Allowed(key, values, must)


def check_answers(
    model: dict[tuple[int, str], int | None], allowed: Allowed, after: Stored
) -> dict[tuple[int, str], int | None]:
    """No stored answer changed but the one this message could change; the model after it."""
    stored = after.values()
    if allowed.may_erase and not after.runs and not after.answers:
        return {}
    assert not allowed.must_erase, "the live Yes of an erasure did not erase"
    for key in model.keys() | stored.keys():
        was, now = model.get(key, ABSENT), stored.get(key, ABSENT)
        if key == allowed.key and now != was:
            assert now in allowed.values, f"{key} became {now}, not one of {set(allowed.values)}"
        else:
            assert now == was, f"the answer to {key} changed from {was} to {now} by an unrelated message"
    if allowed.must is not ABSENT:
        assert allowed.key is not None
        assert stored.get(allowed.key, ABSENT) == allowed.must, f"{allowed.key}: not {allowed.must}"
    return stored


# --- the person, as a state machine -----------------------------------------------------------


@dataclass
class Bench:
    """What every example shares: a loop, one store, an engine, a campaign with groups."""

    runner: asyncio.Runner
    store: Store
    engine: Engine
    frameworks: FrameworkRegistry
    grouped_code: str
    grouped_id: int

    def stored(self, channel: str, sender: str) -> Stored:
        return self.runner.run(self.store.run(partial(read_person, channel=channel, sender=sender)))


class Person(RuleBasedStateMachine):
    """One person writing to the bot; each rule is one message."""

    bench: ClassVar[Bench]
    """Set on a subclass per test (hypothesis makes the machine with no arguments)."""

    def __init__(self) -> None:
        super().__init__()
        self.sender = f"prop-{uuid.uuid4().hex[:12]}"
        self.channel = "prop"
        self.buttons_stay = True
        self.count = 0
        self.stored = Stored()
        self.model: dict[tuple[int, str], int | None] = {}
        self.last: tuple[str, str | None, list[Reply]] | None = None
        self.live_buttons: list[str] = []
        self.old_buttons: list[str] = []
        self.codes: dict[str, int] = {self.bench.grouped_code: self.bench.grouped_id}
        """Join codes this person can name (their own campaigns, and the one with groups)."""

    # --- sending ---

    def send(self, text: str, with_id: bool = True, live_yes: bool = False) -> list[Reply]:
        """One message, and every property checked against the tables after it."""
        self.count += 1
        message_id = f"m{self.count}" if with_id else None
        note(f"{self.stored.state} run {self.stored.active_run} at {self.stored.cursor()}: {text!r}")
        command = parse(text[:MAX_TEXT].replace("\x00", ""))
        may = allowed(command, self.stored, self.bench.frameworks, live_yes)
        replies = self.handle(text, message_id)
        after = self.bench.stored(self.channel, self.sender)
        check_consistent(after, self.bench.frameworks)
        check_replies(replies, after)
        self.model = check_answers(self.model, may, after)
        self.stored = after
        self.last = (text, message_id, replies)
        self.live_buttons = [button.payload for reply in replies for button in reply.buttons]
        self.old_buttons = (self.old_buttons + self.live_buttons)[-200:]
        self.learn_codes(replies)
        return replies

    def handle(self, text: str, message_id: str | None) -> list[Reply]:
        inbound = Inbound(self.channel, self.sender, text, message_id, buttons_stay=self.buttons_stay)
        return self.bench.runner.run(self.bench.engine.handle(inbound))

    def learn_codes(self, replies: list[Reply]) -> None:
        for reply in replies:
            for code in JOIN_CODE.findall(reply.text):
                canonical = codes.canonical(code)
                if canonical is not None and code not in self.codes:
                    found = self.bench.runner.run(
                        self.bench.store.run(partial(campaign_id_of, code=canonical))
                    )
                    assert found is not None, f"a join code shown for no campaign: {code}"
                    self.codes[code] = found

    # --- rules ---

    @initialize(
        buttons_stay=st.booleans(), channel=st.sampled_from(["prop", "telegram", "webhook", "terminal"])
    )
    def choose_channel(self, buttons_stay: bool, channel: str) -> None:
        self.buttons_stay, self.channel = buttons_stay, channel

    @rule(text=st.sampled_from(STARTS))
    def start(self, text: str) -> None:
        self.send(text)

    @rule(text=st.sampled_from(NAVIGATION))
    def navigate(self, text: str) -> None:
        self.send(text)

    @rule(text=st.sampled_from(CONFIRMABLE))
    def ask_to_confirm(self, text: str) -> None:
        self.send(text)

    @rule(text=st.sampled_from(CONFIRMATIONS))
    def confirm(self, text: str) -> None:
        self.send(text)

    @rule(text=st.sampled_from(INFORMATION))
    def ask(self, text: str) -> None:
        self.send(text)

    @rule(text=st.sampled_from(COMMANDS), with_id=st.booleans())
    def command(self, text: str, with_id: bool) -> None:
        self.send(text, with_id)

    @rule(value=st.integers(1, 5))
    def answer(self, value: int) -> None:
        self.send(str(value))

    @rule(value=st.integers(-1, 7), form=st.sampled_from(["{}", " {} ", "{}.", "{})", "{}x", "0{}"]))
    def type_level(self, value: int, form: str) -> None:
        self.send(form.format(value))

    @rule(label=st.sampled_from(["Passive", "targeted", "3 - Targeted", "5 empathetic", "EMPATHETIC"]))
    def type_label(self, label: str) -> None:
        self.send(label)

    @precondition(lambda self: bool(self.live_buttons))
    @rule(index=st.integers(0, 20))
    def press(self, index: int) -> None:
        """Press one of the buttons the bot just showed."""
        payload = self.live_buttons[index % len(self.live_buttons)]
        self.send(payload, live_yes=payload.startswith("/yes"))

    @rule(asking=st.sampled_from(CONFIRMABLE), yes=st.booleans())
    def ask_and_answer(self, asking: str, yes: bool) -> None:
        """Ask to restart or erase, then press Yes or No on the confirmation shown (two messages; the
        irreversible path is rare when each message is drawn alone)."""
        replies = self.send(asking)
        shown = [r.buttons for r in replies if r.kind is ReplyKind.CONFIRM and len(r.buttons) == 2]
        if shown:
            payload = shown[-1][0 if yes else 1].payload
            self.send(payload, live_yes=yes)

    @rule(value=st.integers(1, 5))
    def answer_through(self, value: int) -> None:
        """Answer every question left of the attempt in hand, so attempts finish and results exist."""
        for _ in range(12):
            if self.stored.state not in (m.ASKING, m.REVISING):
                break
            self.send(str(value))

    @precondition(lambda self: bool(self.old_buttons))
    @rule(index=st.integers(0, 200))
    def press_old(self, index: int) -> None:
        """Press a button from an earlier message (Telegram keeps them; a web page may too)."""
        self.send(self.old_buttons[index % len(self.old_buttons)])

    @rule(name=st.sampled_from(POSITION_COMMANDS), run=numbers, question=numbers, value=numbers)
    def payload(self, name: str, run: int, question: int, value: int) -> None:
        """A button's payload near the live question (or anywhere): `/answer R Q V`, `/change R Q`..."""
        number = (self.stored.active_run or 1) + run
        index = (self.stored.cursor() or 0) + 1 + question
        tail = f" {value}" if name == "answer" else ""
        self.send(f"/{name} {number} {index}{tail}")

    @rule(
        name=st.sampled_from([*POSITION_COMMANDS, "yes", "no"]),
        args=st.lists(st.sampled_from(["1", "-1", "x", "1.5", "²", "٣", "999999999", "delete"]), max_size=4),
    )
    def malformed_payload(self, name: str, args: list[str]) -> None:
        self.send(" ".join([f"/{name}", *args]))

    @rule(text=st.text(max_size=60), slash=st.booleans(), with_id=st.booleans())
    def arbitrary(self, text: str, slash: bool, with_id: bool) -> None:
        self.send(f"/{text}" if slash else text, with_id)

    @rule(char=st.sampled_from(["3", "a", "😀", "\x00", " ", "/"]), length=st.integers(3990, 4100))
    def overlong(self, char: str, length: int) -> None:
        self.send(char * length)

    @rule(framework=st.sampled_from(FRAMEWORK_IDS), title=st.sampled_from(["", "Team", "North office"]))
    def new_campaign(self, framework: str, title: str) -> None:
        self.send(f"/campaign new {framework} {title}".rstrip())

    @rule(data=st.data(), action=st.sampled_from(CAMPAIGN_ACTIONS))
    def campaign_action(self, data: st.DataObject, action: str) -> None:
        """A campaign command naming a code this person knows, typed the ways people type codes."""
        code = data.draw(st.sampled_from(list(self.codes)), label="code")  # in the order learnt: codes
        # are random, so sorting them would make one example draw differently each time it is replayed
        typed = data.draw(
            st.sampled_from([code, code.lower(), code.replace("-", ""), code.replace("-", " ")]), label="as"
        )
        self.send(action.format(code=typed))

    @rule(group=st.sampled_from(["1", "2", "3", "North", "south", "East", ""]))
    def group_word(self, group: str) -> None:
        self.send(group)

    @precondition(lambda self: self.last is not None and self.last[1] is not None)
    @rule()
    def resend(self) -> None:
        """The same delivery again (a retry): the same replies, and nothing changes."""
        assert self.last is not None
        text, message_id, replies = self.last
        note(f"resend {message_id}: {text!r}")
        again = self.handle(text, message_id)
        after = self.bench.stored(self.channel, self.sender)
        assert [r.to_dict() for r in again] == [r.to_dict() for r in replies]
        assert after == self.stored, "a resent delivery changed what is stored"

    def teardown(self) -> None:
        ids = set(self.codes.values())
        matched = self.bench.runner.run(self.bench.store.run(partial(tallies_match, campaign_ids=ids)))
        assert matched, "campaign tallies differ from the sum of the finished runs"


# --- the tests ---------------------------------------------------------------------------------


async def _bench(runner: asyncio.Runner, store: Store, frameworks: FrameworkRegistry) -> Bench:
    framework = frameworks.get("pulse-test")
    assert framework is not None
    change = new_campaign(framework.id, framework.version, "Grouped", 3, GROUPS)
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    made = await store.run(partial(admin.create, change=change, owner_channel="prop", owner=owner))
    return Bench(runner, store, Engine(frameworks, store), frameworks, codes.shown(made.code), made.id)


def test_any_sequence_of_messages_keeps_the_state_valid_and_the_answers_given(
    database_url: str, frameworks: FrameworkRegistry
) -> None:
    """The properties above, for many people on one store (per back end)."""
    with asyncio.Runner() as runner:
        store = runner.run(open_store(database_url))
        try:
            bench = runner.run(_bench(runner, store, frameworks))

            class PersonHere(Person):
                """A person writing to this test's store."""

            PersonHere.bench = bench
            run_state_machine_as_test(PersonHere, settings=PROPERTIES)
        finally:
            runner.run(store.close())
