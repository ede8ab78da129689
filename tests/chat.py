"""A person talking to an engine, for readable dialogue tests."""

from __future__ import annotations

import uuid

from dialogs.engine import Engine
from dialogs.types import Inbound, Reply


class Chat:
    """A person talking to an engine, for readable dialogue tests."""

    def __init__(self, engine: Engine, sender: str | None = None, channel: str = "test") -> None:
        self.engine = engine
        self.sender = sender or f"user-{uuid.uuid4().hex[:8]}"
        self.channel = channel

    async def say(self, text: str, message_id: str | None = None) -> list[Reply]:
        return await self.engine.handle(Inbound(self.channel, self.sender, text, message_id))

    async def text(self, text: str) -> str:
        """Everything the bot answered, as one string (titles included)."""
        return "\n".join(f"{r.title or ''}\n{r.text}" for r in await self.say(text))
