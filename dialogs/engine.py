"""The engine: `Inbound` in, a list of `Reply` out, each message in one storage transaction.

Per message: lock and load the participant's row and open runs, step the shared machine on a
fresh `Conversation` (pure, synchronous), apply its changes, remember the replies for
deduplication, commit. The reply is returned only after the commit.

Someone not stored (new, or erased) is created only when a step has something to store: reading
(`/mydata`, `/help`), the menu, an unknown command or an old button leave no row behind, and their
replies are not remembered (a repeat of a message that changed nothing is answered afresh, alike).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import partial

from dialogs.calculator_view import CalculationExport, stored_csv
from dialogs.campaign_queries import answer_query, is_query
from dialogs.catalogue import DEFAULT_LOCALE, Catalogue
from dialogs.commands import needs, parse
from dialogs.conversation import Conversation
from dialogs.dialogue import Dialogue
from dialogs.languages import Languages
from dialogs.machine import IDLE
from dialogs.pinning import load_versions, referenced
from dialogs.result_view import stored_chart
from dialogs.types import Chart, Inbound, Replies, Reply
from frameworks.registry import FrameworkRegistry
from frameworks.translations import Translations
from storage.executor import Executor
from storage.records import EraseParticipant, FinishRun, MissingData, OpenRun
from storage.repository import Repository, forget_delivered_replies, mark_inactive, result_by_token
from storage.store import Store

MAX_TEXT = 4000
"""Longer messages are cut before parsing: nobody types an answer that long."""
MAX_SENDER = 128
MAX_NAME = 128
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stepped:
    """What one message's step gave: its replies, and whether it erased the person (the store then
    scrubs the erased rows from its files)."""

    replies: list[Reply]
    erased: bool = False
    runs_opened: int = 0
    runs_finished: int = 0


def delivery_key(inbound: Inbound) -> str | None:
    """The deduplication key of a delivery: the channel's message id, scoped to its sender (two
    senders may use the same ids), in a fixed 64 characters."""
    if inbound.message_id is None:
        return None
    return hashlib.sha256(f"{inbound.sender}\x00{inbound.message_id}".encode()).hexdigest()


def _replay(repo: Repository, channel: str, key: str | None) -> list[Reply] | None:
    """The replies already given to this delivery, if it was handled before."""
    seen = repo.remembered_replies(channel, key) if key is not None else None
    return None if seen is None else Replies(Reply.from_dict(item) for item in seen)


def _stores_something(conv: Conversation) -> bool:
    """Whether a step changed anything that has to be stored: a change, or a position other than a
    new person's (idle, no run)."""
    return bool(conv.changes) or conv.state != IDLE or conv.run is not None


def _clean(text: str) -> str:
    return text[:MAX_TEXT].replace("\x00", "")


def _name(display_name: str | None) -> str | None:
    """A display name as stored: printable, at most MAX_NAME characters."""
    if display_name is None:
        return None
    cleaned = "".join(char for char in display_name if char.isprintable())[:MAX_NAME]
    return cleaned or None


class Engine:
    """Channel-agnostic dialogue engine over a store."""

    def __init__(
        self,
        frameworks: FrameworkRegistry,
        store: Store,
        cat: Catalogue | None = None,
        translations: Translations | None = None,
    ) -> None:
        """`cat`'s locale is the language of people who say nothing of theirs (English without);
        `translations` are the framework overlays (the built-in ones without)."""
        self.store = store
        self.languages = Languages(frameworks, cat.locale if cat else DEFAULT_LOCALE, translations)
        self.context = self.languages.context(self.languages.default)
        """The default language's context (for what is said to nobody in particular: the CLI)."""
        self.dialogue = Dialogue()

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one message; its changes are committed before this returns."""
        if not 0 < len(inbound.sender) <= MAX_SENDER or "\x00" in inbound.sender:
            raise ValueError(f"a sender id is 1-{MAX_SENDER} characters without NUL (channels check this)")
        command = parse(_clean(inbound.text))
        if is_query(command):  # reads only: off the writer's queue, and nobody is created
            context = self.languages.context(self.languages.match(inbound.language))
            read = partial(answer_query, context=context, inbound=inbound, command=command)
            return Replies(await self.store.read(read), context.locale)
        stepped = await self.store.step(partial(self.step, inbound))
        self.committed(inbound, stepped)
        if stepped.erased:
            await self._scrub()
        return stepped.replies

    def committed(self, inbound: Inbound, stepped: Stepped) -> None:
        """Called once a message's step is committed; does nothing here (a hook for `bot.metrics`,
        which counts runs started and finished)."""

    def step(self, inbound: Inbound, db: Executor) -> Stepped:
        """The synchronous step, run inside the store's transaction."""
        repo = Repository(db)
        key = delivery_key(inbound)
        # looked up before the participant, so a retried /deletemydata does not bring them back
        if (replayed := _replay(repo, inbound.channel, key)) is not None:
            return Stepped(replayed)
        command = parse(_clean(inbound.text))
        wanted = needs(command)
        while True:
            participant_id, snapshot = repo.participant(inbound.channel, inbound.sender)
            # PostgreSQL: a duplicate that waited for the participant's lock (or for their creation)
            # sees the first one's replies
            if repo.dialect == "postgresql" and (replayed := _replay(repo, inbound.channel, key)) is not None:
                return Stepped(replayed)
            repo.load_more(participant_id, snapshot, wanted)
            load_versions(self.context.frameworks, db, referenced(snapshot))
            locale, hinted = self.languages.pick(snapshot.locale, snapshot.locale_chosen, inbound.language)
            conv = Conversation(snapshot, inbound, self.languages.context(locale))
            conv.new_locale = hinted
            try:
                self.dialogue.handle(conv, command)
            except MissingData as missing:  # rare (a run finishing): load it and step again, from scratch
                wanted = wanted.merged(missing.needs)
                repo = Repository(db, repo.now)
                continue
            if participant_id is None and _stores_something(conv):
                name = _name(inbound.display_name)
                participant_id = repo.create_participant(inbound.channel, inbound.sender, name)
                if participant_id is None:  # a concurrent first message stored them: step again on theirs
                    repo = Repository(db, repo.now)
                    continue
            return self._save(repo, participant_id, conv, key)

    def _save(
        self, repo: Repository, participant_id: int | None, conv: Conversation, key: str | None
    ) -> Stepped:
        """Store what the step decided and remember its replies; nothing for someone not stored whose
        step stored nothing."""
        if participant_id is None:
            return Stepped(conv.replies)
        inbound = conv.inbound
        erased = any(isinstance(change, EraseParticipant) for change in conv.changes)
        repo.apply(participant_id, conv.changes, conv.position())
        if inbound.push_url is not None and inbound.push_url != conv.snapshot.callback_url and not erased:
            repo.set_callback_url(participant_id, inbound.push_url)
        if conv.new_locale is not None and not erased:
            repo.set_locale(participant_id, conv.new_locale, chosen=False)
        if key is not None:
            remembered = [reply.to_dict() for reply in conv.replies]
            # an erasure's replies are kept unattached, so its retry is answered alike and creates nobody
            repo.remember_replies(inbound.channel, key, None if erased else participant_id, remembered)
        opened = sum(isinstance(change, OpenRun) for change in conv.changes)
        finished = sum(isinstance(change, FinishRun) for change in conv.changes)
        return Stepped(conv.replies, erased, opened, finished)

    async def _scrub(self) -> None:
        """After an erasure, have the store clear the erased rows out of its files; the erasure itself
        is committed either way, so a failure here is logged, not the person's problem."""
        try:
            await self.store.scrub()
        except Exception as error:  # noqa: BLE001 - the reply must still go out
            log.warning("the database could not be scrubbed after an erasure: %s", type(error).__name__)

    async def delivered(self, inbound: Inbound) -> None:
        """The replies to `inbound` have reached the person (said by a channel that sends them itself,
        such as Telegram): a repeat of the delivery, which the channel may get when its confirmation
        was lost, is still applied once and is now answered with nothing, not the same replies again."""
        key = delivery_key(inbound)
        if key is not None:
            await self.store.run(partial(forget_delivered_replies, channel=inbound.channel, message_id=key))

    async def chart(self, token: str, language: str | None = None) -> Chart | None:
        """The chart of the stored result a token names (its words in `language` if the bot speaks
        it), or None if there is none."""
        if not token or len(token) > 64:
            return None
        record = await self.store.run(partial(result_by_token, token=token))
        if record is None:
            return None
        key = (record.framework_id, record.framework_version)
        if not self.context.frameworks.knows(key):
            await self.store.run(partial(load_versions, self.context.frameworks, keys=[key]))
        context = self.languages.context(self.languages.match(language))
        framework = context.frameworks.pinned(*key)
        mark = context.cat.text("decimal_mark")
        return stored_chart(framework, record, mark) if framework is not None else None

    async def calculation_csv(self, token: str, language: str | None = None) -> CalculationExport | None:
        """The CSV of the stored calculation a token names (its words in `language` if the bot speaks
        it), or None if there is none (an assessment's token, an erased result, a removed file)."""
        if not token or len(token) > 64:
            return None
        record = await self.store.run(partial(result_by_token, token=token))
        if record is None or record.calculation is None:
            return None
        context = self.languages.context(self.languages.match(language))
        calculator = context.frameworks.calculator(record.framework_id)
        if calculator is None:
            return None
        return CalculationExport(calculator.id, stored_csv(context.cat, calculator, record))

    def catalogue_for(self, language: str | None) -> Catalogue:
        """The words of a language on offer (a tag, or `Replies.locale`), else the default language's:
        for what a channel says itself, such as Telegram's "Your answer: ..."."""
        return self.languages.context(self.languages.match(language)).cat

    async def mark_unreachable(self, channel: str, sender: str) -> None:
        """A channel learnt it can no longer reach this person (for example, they blocked the bot)."""
        await self.store.run(partial(mark_inactive, channel=channel, external_id=sender))
