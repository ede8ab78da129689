"""Links to the server's own pages (the dashboard, the web chat's join link) travel as paths from the
engine; each channel makes them absolute with the address people reach the server at."""

from __future__ import annotations

from dialogs.types import Link


def own_page(url: str) -> bool:
    """Whether a link's URL is a path on this server (not another site, not `//host`)."""
    return url.startswith("/") and not url.startswith("//")


def absolute(url: str, base: str | None) -> str | None:
    """The URL people can open: a path made absolute with `base`; None for a path with no base."""
    if not own_page(url):
        return url
    return base.rstrip("/") + url if base else None


def resolved(links: tuple[Link, ...], base: str | None) -> tuple[Link, ...]:
    """The links with paths made absolute; a path with no base is kept as text in the title."""
    out = []
    for link in links:
        url = absolute(link.url, base)
        out.append(Link(link.title, url) if url else Link(f"{link.title}: {link.url}", ""))
    return tuple(out)
