"""The SSRF guard for callback URLs: which addresses cxbot may POST replies to.

A callback URL comes from a request (or a setting), so without a guard anyone could make the server
call its own loopback interface, the private network behind it or a cloud metadata service. Refused:
loopback, private (including carrier-grade NAT and IPv6 unique-local), link-local, multicast,
reserved and unspecified addresses, and the cloud metadata addresses. With
`CXBOT_CALLBACK_ALLOW_PRIVATE` loopback, private and link-local become allowed (a local integration);
multicast, unspecified and the metadata addresses never are.

The check runs twice: when the request arrives (so a refused URL is a 400 at once), and in the
resolver of the session that delivers (so a name that resolves differently later, DNS rebinding,
is still refused at connection time). Only name resolution happens: no traffic is sent to a refused
address. Redirects are not followed.

A refusal tells the caller only what they sent could have told them: for a host name, that it must
resolve to public addresses, the same whether it resolved to a private one, a metadata one or none
at all (else the guard would map the private network for anyone who asks). Which address it was is
the error's `detail`, for the log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
RESOLVE_TIMEOUT = 5.0
EMBEDDING_PREFIXES = (
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated, still routed by some stacks)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # SIIT
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 well-known prefix
)
"""IPv6 forms that carry an IPv4 address in their last 32 bits."""


class CallbackRefused(OSError):
    """A callback URL or address cxbot will not call. The message says why in terms safe to show
    whoever sent the URL; `detail` also names the host and the address it resolved to."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


def address_problem(address: IPAddress, allow_private: bool) -> str | None:
    """Why cxbot must not connect to this address, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _embedded_ipv4(address) or address
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return "an unspecified or multicast address"
    if allow_private or address.is_global:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_reserved:
        return "a reserved address"
    return "a private address"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one wraps (mapped, 6to4, IPv4-compatible, SIIT, NAT64), if any: it is
    judged as itself, since a stack or gateway may deliver it there."""
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if int(address) > 1 and any(address in prefix for prefix in EMBEDDING_PREFIXES):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def callback_target(url: str) -> URL:
    """The parsed URL, if it is an absolute http(s) URL with a host."""
    try:
        parsed = URL(url)
        host = parsed.host
    except (ValueError, TypeError):
        raise CallbackRefused(f"the callback URL {url!r} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise CallbackRefused("the callback URL must be an absolute http:// or https:// URL")
    return parsed


async def check_callback_url(url: str, allow_private: bool, resolver: AbstractResolver) -> None:
    """Raise `CallbackRefused` unless every address the URL's host resolves to is allowed."""
    target = callback_target(url)
    host = target.host or ""
    literal = _literal(host)
    if literal is not None:
        _refuse(host, [literal], allow_private)
        return
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            results = await resolver.resolve(host, target.port or 0, socket.AF_UNSPEC)
    except (OSError, TimeoutError, ValueError):  # ValueError: IDNA refuses the name (a label over 63)
        detail = f"the callback host {host!r} could not be resolved"
        raise CallbackRefused(_not_public(allow_private), detail) from None
    _refuse(host, [ipaddress.ip_address(result["host"]) for result in results], allow_private)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _refuse(host: str, addresses: list[IPAddress], allow_private: bool) -> None:
    """Raise `CallbackRefused` if any of the addresses `host` is (or resolved to) is forbidden."""
    if not addresses:
        raise CallbackRefused(_not_public(allow_private), f"the callback host {host!r} has no address")
    for address in addresses:
        if (problem := address_problem(address, allow_private)) is not None:
            detail = f"the callback host {host!r} is {problem} ({address})"
            if _literal(host) is None:  # a name: do not tell what it resolves to
                raise CallbackRefused(_not_public(allow_private), detail)
            raise CallbackRefused(f"the callback host is {problem}{_hint(allow_private)}", detail)


def _not_public(allow_private: bool) -> str:
    if allow_private:
        return "the callback host must resolve only to addresses cxbot may call (no metadata or multicast)"
    return f"the callback host must resolve only to public addresses{_hint(allow_private)}"


def _hint(allow_private: bool) -> str:
    return "" if allow_private else " (set CXBOT_CALLBACK_ALLOW_PRIVATE=true for local integrations)"


class GuardedResolver(AbstractResolver):
    """A resolver that refuses names resolving to any address the guard forbids."""

    def __init__(self, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self.inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        """Resolve with the inner resolver, then refuse the lot if any address is forbidden."""
        results = await self.inner.resolve(host, port, family)
        _refuse(host, [ipaddress.ip_address(result["host"]) for result in results], self.allow_private)
        return results

    async def close(self) -> None:
        await self.inner.close()
