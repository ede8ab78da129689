"""Visitor ids for the web chat, issued by the server: `POST /webhooks/rest/visitors`.

An unsigned request names its sender, and whoever knows that id is that visitor; so the id must be
unguessable, and cxbot's own chat asks the server for one instead of making it up. An issued id is
`v1.` + 128 random bits + a tag (an HMAC with a key kept in the database), so the server can tell
the ids it issued from made-up ones without storing them: with `CXBOT_WEB_VISITORS=issued` only
those are taken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

VISITORS_PATH = "/webhooks/rest/visitors"
KEY_NAME = "key:visitor-ids"
VERSION = "v1"
RANDOM_BYTES = 16
TAG_BYTES = 16


def issue(key: bytes) -> str:
    """A fresh visitor id."""
    random = _text(secrets.token_bytes(RANDOM_BYTES))
    return f"{VERSION}.{random}.{_tag(key, random)}"


def is_issued(key: bytes, sender: str) -> bool:
    """Whether this server issued the id (with this key)."""
    version, _, rest = sender.partition(".")
    random, _, tag = rest.partition(".")
    return version == VERSION and bool(random) and hmac.compare_digest(tag, _tag(key, random))


def _tag(key: bytes, random: str) -> str:
    return _text(hmac.new(key, random.encode(), hashlib.sha256).digest()[:TAG_BYTES])


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
