"""`python -m bot.healthcheck [URL]`: exit 0 if the `cxbot serve` of this machine (or container)
answers `GET /healthz` with 200 within a few seconds, 1 otherwise, with one line saying why.

The container image's `HEALTHCHECK` runs it every 30 seconds, so it uses the standard library only
(about 50 ms; importing cxbot's commands would take a second of CPU each time). Without a URL it asks
the address `cxbot serve` listens on, from `CXBOT_HOST` and `CXBOT_PORT` in the environment: a
server listening on every address (`0.0.0.0`, `::`) is asked on loopback.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

TIMEOUT = 4.0
"""Seconds to wait for the answer: under the image's `HEALTHCHECK --timeout`."""
EVERYWHERE = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def health_url(environ: Mapping[str, str]) -> str:
    """`/healthz` at the address `cxbot serve` listens on, by the same settings."""
    host = environ.get("CXBOT_HOST", "127.0.0.1").strip()
    host = EVERYWHERE.get(host, host)
    port = environ.get("CXBOT_PORT", "8080").strip() or "8080"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"


def check(url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """Whether the server at `url` is healthy, and what it said."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status == 200, f"{answer.status} {answer.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as error:  # 503: the database does not answer
        return False, f"{error.code} {error.read(200).decode(errors='replace')}"
    except (OSError, ValueError) as error:
        return False, f"no answer from {url}: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    url = args[0] if args else health_url(os.environ)
    healthy, said = check(url)
    print(f"cxbot healthcheck: {said.strip()}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
