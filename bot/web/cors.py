"""CORS, so chat widgets on other sites can call the webhook from visitors' browsers.

Origins come from `CXBOT_CORS_ORIGINS`: `*` (any site; the default) or a comma-separated list such
as `https://www.example.org,https://intranet.example.org`. No cookies or credentials are involved,
so `*` exposes nothing a plain HTTP client could not already do.
"""

from __future__ import annotations

from aiohttp import web

from bot.http_errors import json_error
from bot.web.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = f"Content-Type, Idempotency-Key, {TIMESTAMP_HEADER}, {SIGNATURE_HEADER}"
MAX_AGE = "600"


class CorsPolicy:
    """Which browser origins may call the app."""

    def __init__(self, origins: str) -> None:
        parts = {part.strip().rstrip("/") for part in origins.split(",") if part.strip()}
        self.any = "*" in parts
        self.origins = frozenset(parts - {"*"})

    def allowed(self, origin: str) -> str | None:
        """The `Access-Control-Allow-Origin` value for a request from `origin`, or None."""
        if self.any:
            return "*"
        return origin if origin in self.origins else None

    def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """The CORS headers on a response to an allowed origin (every response passes here)."""
        origin = request.headers.get("Origin")
        if origin and (value := self.allowed(origin)) is not None:
            response.headers["Access-Control-Allow-Origin"] = value
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"  # for a "wait N s"
            if value != "*":
                response.headers.add("Vary", "Origin")

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        """Answer a browser's `OPTIONS` preflight (the middleware adds the origin header)."""
        origin = request.headers.get("Origin", "")
        if origin and self.allowed(origin) is None:
            return json_error(403, f"the origin {origin} may not call this webhook (see CXBOT_CORS_ORIGINS)")
        headers = {
            "Allow": ALLOWED_METHODS,
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        }
        return web.Response(status=204, headers=headers)
