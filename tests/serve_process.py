"""`cxbot serve` as a separate process on 127.0.0.1, for tests that need the real server: its own
event loop, sockets and descriptor limit. Settings go in through its environment; its log (stderr)
is collected line by line as it is written, so a chatty server never blocks on a full pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

START_TIMEOUT = 30.0
REPO = Path(__file__).resolve().parent.parent


class Served:
    """A running `cxbot serve` and the lines it has logged so far."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []
        self.port = 0
        self.ended = False
        """The log is closed: the process has ended (or is about to)."""
        self._changed = asyncio.Condition()

    @property
    def pid(self) -> int:
        return self.process.pid

    async def collect(self) -> None:
        """Read the log until the process closes it."""
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._changed:
                self.log.append(line.decode(errors="replace"))
                self._changed.notify_all()
        async with self._changed:
            self.ended = True
            self._changed.notify_all()

    async def wait_for(self, pattern: str, within: float = START_TIMEOUT, since: int = 0) -> re.Match[str]:
        """The first match of `pattern` in a log line (from line number `since` on), waiting for it
        to be logged."""
        async with asyncio.timeout(within), self._changed:
            seen = since
            while True:
                for line in self.log[seen:]:
                    if found := re.search(pattern, line):
                        return found
                seen = len(self.log)
                if self.ended:
                    raise AssertionError(f"{pattern!r} never appeared in:\n{''.join(self.log)}")
                await self._changed.wait()

    async def stop(self) -> int:
        """SIGTERM, then the exit status once the process has ended."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), START_TIMEOUT)


def lower_descriptor_limit(soft: int) -> Callable[[], None]:
    """A `preexec_fn` that starts the child with at most `soft` descriptors (its hard limit kept)."""

    def lower() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))

    return lower


@asynccontextmanager
async def serving(
    tmp_path: Path,
    *,
    preexec_fn: Callable[[], None] | None = None,
    start_within: float = START_TIMEOUT,
    **settings: str,
) -> AsyncIterator[Served]:
    """`cxbot serve` on 127.0.0.1 at a free port, with `settings` (CXBOT_* names) in its environment;
    stopped (killed if it will not stop) at the end. `start_within`: the seconds it may take to
    serve (more for several processes starting at once on a busy machine)."""
    env = {
        **os.environ,
        "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "CXBOT_HOST": "127.0.0.1",
        "CXBOT_PORT": "0",
        "PYTHONPATH": str(REPO),
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "serve"),
        cwd=tmp_path,  # no .env from the repository
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec_fn,
    )
    served = Served(process)
    collecting = asyncio.create_task(served.collect())
    try:
        found = await served.wait_for(r"serving on http://127\.0\.0\.1:(\d+)/", start_within)
        served.port = int(found.group(1))
        yield served
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collecting, START_TIMEOUT)


Answer = tuple[int, dict[str, str], bytes]
"""An HTTP answer: the status, headers (names in lower case) and body."""


async def http_get(port: int, path: str, within: float = 10.0) -> Answer:
    """One GET on a new connection (closed after)."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    return await http_exchange(port, request.encode(), within)


async def http_exchange(port: int, request: bytes, within: float = 10.0) -> Answer:
    """Send raw bytes on a new connection and read the answer to the end."""
    async with asyncio.timeout(within):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            answer = await reader.read()
        finally:
            writer.close()
    if not answer:
        raise ConnectionResetError("the server closed the connection without an answer")
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = (line.split(": ", 1) for line in lines[1:] if ": " in line)
    headers = {name.lower(): value for name, value in fields}
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunked(body)
    return int(lines[0].split()[1]), headers, body


def _dechunked(body: bytes) -> bytes:
    parts = []
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        parts.append(rest[:length])
        body = rest[length + 2 :]
    return b"".join(parts)
