"""The engine: `Inbound` in, a list of `Reply` out, each message in one storage transaction.

Per message: lock and load the participant's row and open runs, step the shared machine on a
fresh `Conversation` (pure, synchronous), apply its changes, remember the replies for
deduplication, commit. The reply is returned only after the commit.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import Connection

from dialogs.catalogue import Catalogue, catalogue
from dialogs.commands import needs, parse
from dialogs.conversation import Context, Conversation
from dialogs.dialogue import Dialogue
from dialogs.result_view import stored_chart
from dialogs.types import Chart, Inbound, Reply
from frameworks.registry import FrameworkRegistry
from storage.records import EraseParticipant
from storage.repository import Repository, mark_inactive, result_by_token
from storage.store import Store

MAX_TEXT = 4000
"""Longer messages are cut before parsing: nobody types an answer that long."""


class Engine:
    """Channel-agnostic dialogue engine over a store."""

    def __init__(self, frameworks: FrameworkRegistry, store: Store, cat: Catalogue | None = None) -> None:
        self.store = store
        self.context = Context(frameworks, cat or catalogue())
        self.dialogue = Dialogue()

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one message; its changes are committed before this returns."""
        return await self.store.run(partial(self.step, inbound))

    def step(self, inbound: Inbound, conn: Connection) -> list[Reply]:
        """The synchronous step, run inside the store's transaction."""
        repo = Repository(conn)
        participant_id, snapshot = repo.participant(inbound.channel, inbound.sender, inbound.display_name)
        if inbound.message_id is not None:
            seen = repo.remembered_replies(inbound.channel, inbound.message_id)
            if seen is not None:
                return [Reply.from_dict(item) for item in seen]
        command = parse(inbound.text[:MAX_TEXT])
        repo.load_more(participant_id, snapshot, needs(command))
        conv = Conversation(snapshot, inbound, self.context)
        self.dialogue.handle(conv, command)
        repo.apply(participant_id, conv.changes, conv.position())
        if inbound.message_id is not None:
            erased = any(isinstance(change, EraseParticipant) for change in conv.changes)
            repo.remember_replies(
                inbound.channel,
                inbound.message_id,
                None if erased else participant_id,
                [reply.to_dict() for reply in conv.replies],
            )
        return conv.replies

    async def chart(self, token: str) -> Chart | None:
        """The chart of the stored result a token names, or None if there is none."""
        if not token or len(token) > 64:
            return None
        record = await self.store.run(partial(result_by_token, token=token))
        framework = self.context.frameworks.get(record.framework_id) if record else None
        if record is None or framework is None:
            return None
        return stored_chart(framework, record)

    async def mark_unreachable(self, channel: str, sender: str) -> None:
        """A channel learnt it can no longer reach this person (for example, they blocked the bot)."""
        await self.store.run(partial(mark_inactive, channel=channel, external_id=sender))
