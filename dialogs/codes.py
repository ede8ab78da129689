"""Join codes and invitation codes: short, easy to read aloud, hard to guess.

The alphabet has no look-alikes (no 0/O, 1/I/L), codes are shown in groups of four
(`K7WP-3QXM`) and typed in any case, with or without the hyphen or spaces. A join code has 8
characters (31^8, about 8.5e11 codes, so guessing one among thousands of campaigns takes about a
hundred million tries); an invitation has 12. Both are random (`secrets`), never derived from ids.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_LENGTH = 8
INVITATION_LENGTH = 12
_SEPARATORS = re.compile(r"[\s-]+")
_ONLY_ALPHABET = re.compile(f"[{ALPHABET}]+")


def new_code(length: int = JOIN_LENGTH) -> str:
    """A fresh random code in canonical form (upper case, no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def canonical(text: str, length: int = JOIN_LENGTH) -> str | None:
    """The code as stored, if `text` is one of `length` characters as a person may type it."""
    code = _SEPARATORS.sub("", text).upper()
    return code if len(code) == length and _ONLY_ALPHABET.fullmatch(code) else None


def shown(code: str) -> str:
    """A code in groups of four, as people read it: `K7WP-3QXM`."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
