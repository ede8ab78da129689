"""`/language`: the language the bot speaks with this person.

`/language pt-BR` (a tag, or the language's name: `/language português`) switches at once, is
stored as the person's choice (a channel's hint no longer changes it) and shows again, in the new
language, whatever they were in the middle of. `/language` alone, or a language not on offer,
offers a button for each one on offer.
"""

from __future__ import annotations

from dialogs.commands import Command
from dialogs.conversation import Conversation
from dialogs.types import Button, Reply, ReplyKind

MAX_SHOWN = 35
"""What is repeated back of a language asked for (a tag is never longer)."""


def language_command(conv: Conversation, command: Command) -> None:
    """Switch to the language asked for, or offer those on offer."""
    languages = conv.context.languages
    typed = " ".join(command.args)
    locale = languages.find(typed) if languages is not None and typed else None
    if languages is None or locale is None:
        lead = (
            conv.cat.text("language_unknown", asked=typed[:MAX_SHOWN])
            if typed
            else conv.cat.text("language_choose", name=conv.cat.name)
        )
        conv.replies.append(_offer(conv, lead))
        return
    conv.use_language(languages.context(locale))
    conv.say("language_set", ReplyKind.INFO, name=conv.cat.name)
    conv.show_where()


def _offer(conv: Conversation, lead: str) -> Reply:
    """Every language on offer, named in its own words, one button each."""
    languages = conv.context.languages
    names = languages.names() if languages is not None else [(conv.context.locale, conv.cat.name)]
    lines = [lead, *(f"- {name} (/language {locale})" for locale, name in names)]
    buttons = tuple(Button(name, f"/language {locale}") for locale, name in names)
    return Reply(text="\n".join(lines), buttons=buttons, kind=ReplyKind.INFO)
