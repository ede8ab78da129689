"""Which network address a request came from, for per-address rate limits.

Behind a reverse proxy every request arrives from the proxy, and the proxy names the client in
`X-Forwarded-For`. That header is believed only from the proxies in `CXBOT_TRUSTED_PROXIES`
(anyone can send it): reading it from the right, the first address that is not a trusted proxy is
the client.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from aiohttp import web

FORWARDED_FOR = "X-Forwarded-For"
MAX_ADDRESS = 64
CACHED = 4096
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    """Finds the client's address of a request, given the trusted proxies."""

    def __init__(self, trusted: str) -> None:
        parts = (part.strip() for part in trusted.split(","))
        self.trusted: tuple[Network, ...] = tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)
        # parsing an address costs microseconds, and the same few (the proxy's) come again and again
        self.is_trusted = functools.lru_cache(maxsize=CACHED)(self._is_trusted)

    def of(self, request: web.Request) -> str:
        """The client's address: the peer's, or the one its trusted proxies forwarded."""
        peer = request.remote or ""
        if FORWARDED_FOR not in request.headers or not self.is_trusted(peer):
            return peer
        hops = _forwarded(request.headers.getall(FORWARDED_FOR))
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop[:MAX_ADDRESS]
        return hops[0][:MAX_ADDRESS] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)


def _forwarded(headers: Iterable[str]) -> list[str]:
    """Every address in the X-Forwarded-For headers, first hop first."""
    return [hop.strip() for header in headers for hop in header.split(",") if hop.strip()]
