"""Who a webhook request speaks for, and whether it is taken now.

- A **signed** request (`bot.web.auth`, with `CXBOT_WEBHOOK_SECRET`) comes from a bridge and speaks
  for the bridge's own people: the `webhook` channel.
- An **unsigned** request is a web visitor: the `web` channel. The two never meet, so an unsigned
  `crm-contact-981` is not the person a bridge calls `crm-contact-981`. `CXBOT_WEB_VISITORS` says
  which visitors are taken: `any` id, only ids the server `issued` (`bot.web.visitors`), or `none`.

Rate limits (`bot.web.rate_limits`) apply per sender to everyone, and per network address to
unsigned requests (a bridge speaks for many people from one address).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from aiohttp import web

from bot.settings import Settings
from bot.web.auth import APPLIED, SeenSignatures, is_signed, signature_problem
from bot.web.client_address import ClientAddress
from bot.web.rate_limits import RateLimits
from bot.web.request import BadRequest
from bot.web.visitors import VISITORS_PATH, is_issued

SIGNED = "webhook"
UNSIGNED = "web"
NO_SECRET = "this request is signed, but the server has no CXBOT_WEBHOOK_SECRET to check it with"
REPLAYED = (
    "this signed request was already accepted: to send it again, sign it again (a new timestamp), "
    "with the same metadata.message_id so that it is applied once"
)
IN_FLIGHT = (
    "a copy of this signed request is being handled right now, so this one was not applied: "
    "send it again in a moment to learn how the first went (409 once it has been applied)"
)
IN_FLIGHT_RETRY = 1
SIGNED_ONLY = "this server takes signed requests only (CXBOT_WEB_VISITORS=none)"
NOT_ISSUED = f"this server chats only with visitor ids it issued: ask for one with POST {VISITORS_PATH}"


class Admission:
    """The checks of one app, in the order the webhook makes them."""

    def __init__(self, settings: Settings, limits: RateLimits, visitor_key: bytes) -> None:
        self.secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        self.visitors = settings.web_visitors
        self.limits = limits
        self.visitor_key = visitor_key
        self.address = ClientAddress(settings.trusted_proxies)
        self.seen = SeenSignatures()

    async def namespace(self, request: web.Request) -> str:
        """Before the body is read: `SIGNED` if the request claims a signature, else `UNSIGNED` once
        visitors are allowed and this address is within its limit."""
        if is_signed(request.headers):
            if self.secret is None:
                raise BadRequest(401, NO_SECRET)
            return SIGNED
        if self.visitors == "none":
            raise BadRequest(401, SIGNED_ONLY)
        await self.check_address(request)
        return UNSIGNED

    async def check_address(self, request: web.Request) -> None:
        """429 when the client's address is over its limit."""
        wait = self.limits.address_wait(self.address.of(request))
        if wait is not None:
            raise _too_many(wait, "from your network address")

    def check_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        """401 for a wrong or stale signature, 409 for one applied before, 503 for a copy of one being
        handled now. Once this passes, `signature_done` must follow, whatever the answer."""
        assert self.secret is not None  # namespace() refused signed requests without a secret
        now = time.time()
        problem = signature_problem(self.secret, headers, body, now)
        if problem is not None:
            raise BadRequest(401, problem)
        refused = self.seen.begin(headers, now)
        if refused == APPLIED:
            raise BadRequest(409, REPLAYED)
        if refused is not None:
            raise BadRequest(503, IN_FLIGHT, {"Retry-After": str(IN_FLIGHT_RETRY)})

    def signature_done(self, headers: Mapping[str, str], status: int) -> None:
        """The signed request `check_signature` let through was answered with `status`: remembered
        as applied on a 2xx, forgotten otherwise (nothing was applied, so it may come again)."""
        self.seen.end(headers, applied=200 <= status < 300)

    async def check_sender(self, namespace: str, sender: str) -> None:
        """401 for a visitor id the server did not issue (when only those are taken); 429 when the
        sender is over their limit."""
        if namespace == UNSIGNED and self.visitors == "issued" and not is_issued(self.visitor_key, sender):
            raise BadRequest(401, NOT_ISSUED)
        wait = self.limits.sender_wait(namespace, sender)
        if wait is not None:
            raise _too_many(wait, "from this sender")


def _too_many(wait: int, whom: str) -> BadRequest:
    message = f"too many messages {whom}: nothing was applied; send it again in {wait} s"
    return BadRequest(429, message, {"Retry-After": str(wait)})
