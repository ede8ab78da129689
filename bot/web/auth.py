"""Request signatures for server-to-server webhook calls (Slack's v0 scheme).

A signed request carries two headers:

- `X-Cxbot-Request-Timestamp`: the Unix time in whole seconds when it was signed;
- `X-Cxbot-Signature`: `v0=` and the hex HMAC-SHA256, keyed with `CXBOT_WEBHOOK_SECRET`, of
  `v0:{timestamp}:{raw request body}`.

Requests signed more than five minutes away from the server's clock are refused, so a captured
request cannot be replayed later; inside those minutes, each process remembers the signatures of
the requests it applied and refuses them again (`SeenSignatures`). cxbot signs its own callback
POSTs the same way.
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


APPLIED = "applied"
"""`SeenSignatures.begin`: a request with this signature was applied within the window."""
HANDLING = "handling"
"""`SeenSignatures.begin`: a request with this signature is being handled right now."""


class SeenSignatures:
    """The signatures of requests applied while they are still within the clock window, to refuse a
    replay, and of those being handled now, to refuse a copy that arrives meanwhile.

    A signature is remembered only once its request was applied: one refused for now (a busy
    database, a rate limit, a bad callback URL) may be sent again as the same bytes. A copy that
    arrives while the first is still being handled is refused too, whatever becomes of the first, so
    two copies never both apply; its sender learns the outcome by sending it again."""

    def __init__(self) -> None:
        self._applied: set[bytes] = set()
        self._expiring: deque[tuple[float, bytes]] = deque()
        self._handling: set[bytes] = set()

    def begin(self, headers: Mapping[str, str], now: float) -> str | None:
        """Start handling a valid request: None if it may go ahead (`end` must follow, whatever
        happens), else why not (`APPLIED` or `HANDLING`)."""
        self._forget(now)
        key = _key(headers)
        if key in self._applied:
            return APPLIED
        if key in self._handling:
            return HANDLING
        self._handling.add(key)
        return None

    def end(self, headers: Mapping[str, str], applied: bool) -> None:
        """The request `begin` let through is answered: remember it if it was applied."""
        key = _key(headers)
        self._handling.discard(key)
        if applied:
            self._applied.add(key)
            self._expiring.append((int(headers[TIMESTAMP_HEADER]) + MAX_SKEW_SECONDS, key))

    def _forget(self, now: float) -> None:
        # in arrival order, which is nearly expiry order: a straggler is kept a little longer
        while self._expiring and self._expiring[0][0] < now:
            self._applied.discard(self._expiring.popleft()[1])


def _key(headers: Mapping[str, str]) -> bytes:
    return hashlib.sha256(headers[SIGNATURE_HEADER].encode()).digest()[:16]
