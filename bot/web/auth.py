"""Request signatures for server-to-server webhook calls (Slack's v0 scheme).

A signed request carries two headers:

- `X-Cxbot-Request-Timestamp`: the Unix time in whole seconds when it was signed;
- `X-Cxbot-Signature`: `v0=` and the hex HMAC-SHA256, keyed with `CXBOT_WEBHOOK_SECRET`, of
  `v0:{timestamp}:{raw request body}`.

Requests signed more than five minutes away from the server's clock are refused, so a captured
request cannot be replayed later; inside those minutes, each process remembers the signatures it
accepted and refuses them again (`SeenSignatures`). cxbot signs its own callback POSTs the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Cxbot-Request-Timestamp"
SIGNATURE_HEADER = "X-Cxbot-Signature"
VERSION = "v0"
MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Cxbot-Signature` value for a body signed at `timestamp`."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """The two headers that sign `body` now."""
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def signature_problem(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
    """Why the request's signature is not acceptable, or None when it is."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    sent = headers.get(SIGNATURE_HEADER)
    if not timestamp or not sent:
        return f"requests must be signed: send the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return f"{TIMESTAMP_HEADER} must be the Unix time in whole seconds"
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS // 60} minutes away from the server's time"
    # compare_digest on bytes: constant time, and no error on non-ASCII header text
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), signature(secret, timestamp, body).encode()):
        return f"{SIGNATURE_HEADER} does not match the request body"
    return None


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether the request claims a signature (checked with `signature_problem`)."""
    return TIMESTAMP_HEADER in headers or SIGNATURE_HEADER in headers


class SeenSignatures:
    """Signatures accepted while they are still within the clock window, to refuse a replay."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()
        self._expiring: deque[tuple[float, bytes]] = deque()

    def first_time(self, headers: Mapping[str, str], now: float) -> bool:
        """Record a valid request's signature; False if it was accepted before."""
        self._forget(now)
        key = hashlib.sha256(headers[SIGNATURE_HEADER].encode()).digest()[:16]
        if key in self._seen:
            return False
        self._seen.add(key)
        self._expiring.append((int(headers[TIMESTAMP_HEADER]) + MAX_SKEW_SECONDS, key))
        return True

    def _forget(self, now: float) -> None:
        # in arrival order, which is nearly expiry order: a straggler is kept a little longer
        while self._expiring and self._expiring[0][0] < now:
            self._seen.discard(self._expiring.popleft()[1])
