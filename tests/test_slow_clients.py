"""Slow and numerous clients against `cxbot serve` as a process: request deadlines, the connection
caps with room kept for health checks, the descriptor limit, and a log that a flood cannot fill."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
from pathlib import Path

import pytest

from bot.connections import Caps, caps_for, default_caps
from bot.settings import Settings
from bot.startup import CannotStart
from tests.serve_process import Served, http_exchange, http_get, lower_descriptor_limit, serving

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(served: Served, first: bytes = b"") -> Stream:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    if first:
        writer.write(first)
        await writer.drain()
    return reader, writer


async def closed_within(stream: Stream, seconds: float) -> bool:
    """Whether the server closes the connection within `seconds` (whatever it sent before)."""
    reader, _ = stream
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def trickle(streams: list[Stream], byte: bytes, every: float = 0.2) -> None:
    """Send a byte on each connection every so often, like a slowloris client, until cancelled."""
    while True:
        for _, writer in streams:
            if not writer.is_closing():
                with contextlib.suppress(ConnectionError):
                    writer.write(byte)
        await asyncio.sleep(every)


def close_all(streams: list[Stream]) -> None:
    for _, writer in streams:
        writer.close()


async def test_requests_that_arrive_too_slowly_are_closed_at_the_deadline(tmp_path: Path) -> None:
    async with serving(tmp_path, CXBOT_REQUEST_TIMEOUT="1") as served:
        loop = asyncio.get_running_loop()
        started = loop.time()
        silent = [await connect(served) for _ in range(20)]
        headers = [await connect(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") for _ in range(20)]
        body = (
            b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"sender": "slow", '
        )
        bodies = [await connect(served, body) for _ in range(20)]
        kept = await connect(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        trickling = [asyncio.create_task(trickle(headers, b"X")), asyncio.create_task(trickle(bodies, b" "))]
        try:
            closed = await asyncio.gather(*(closed_within(s, 4.0) for s in silent + headers + bodies))
            took = loop.time() - started
            assert all(closed), f"{closed.count(False)} of {len(closed)} slow connections are still open"
            assert 0.9 < took < 4.0
            # a request that arrived in time keeps its connection (keep-alive), and it serves again
            assert not await closed_within(kept, 0.1)  # (reads the first answer)
            kept[1].write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert (await kept[0].read()).startswith(b"HTTP/1.1 200 OK")
            status, _, _ = await http_get(served.port, "/healthz")
            assert status == 200
        finally:
            for task in trickling:
                task.cancel()
            close_all(silent + headers + bodies + [kept])
        assert await served.stop() == 0
    assert not [line for line in served.log if "Traceback" in line]


async def test_health_checks_are_served_when_the_connections_are_capped(tmp_path: Path) -> None:
    async with serving(tmp_path, CXBOT_CONNECTIONS_SOFT_CAP="10", CXBOT_CONNECTIONS_HARD_CAP="20") as served:
        # the log says what README.md and docs/operations.md say: these two, and no other
        await served.wait_for(r"beyond 10 only /healthz and /metrics\)")
        idle = [await connect(served) for _ in range(12)]  # beyond the soft cap, below the hard one
        try:
            started = asyncio.get_running_loop().time()
            status, _, body = await http_get(served.port, "/healthz", within=2.0)
            assert status == 200, body
            assert asyncio.get_running_loop().time() - started < 2.0
            status, _, body = await http_get(served.port, "/metrics", within=2.0)  # from loopback
            assert status == 200, body
            assert b"cxbot_messages_total" in body
            forwarded = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n"
            forwarded += b"Connection: close\r\n\r\n"
            status, _, _ = await http_exchange(served.port, forwarded, within=2.0)
            assert status == 404  # through a proxy: not there, as for anyone not allowed
            status, headers, body = await http_get(served.port, "/webhooks/rest/")
            assert status == 503
            assert int(headers["retry-after"]) > 0
            assert "error" in json.loads(body)
            more = [await connect(served) for _ in range(10)]  # 22 open: beyond the hard cap
            idle += more
            closed = await asyncio.gather(*(closed_within(s, 1.0) for s in more))
            assert 2 <= closed.count(True) < len(more), closed
        finally:
            close_all(idle)
        status = 0
        for _ in range(50):  # the server sees the connections go within moments
            with contextlib.suppress(ConnectionError):  # closed at once while still over the hard cap
                status, _, _ = await http_get(served.port, "/webhooks/rest/")
            if status == 200:
                break
            await asyncio.sleep(0.05)
        assert status == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/limits")
async def test_the_descriptor_limit_is_raised_to_the_hard_limit(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= 256:
        pytest.skip("the hard descriptor limit is too low to lower the soft one")
    async with serving(tmp_path, preexec_fn=lower_descriptor_limit(256)) as served:
        limits = await asyncio.to_thread(Path(f"/proc/{served.pid}/limits").read_text)
    line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    assert line.split()[3:5] == [str(hard), str(hard)]


async def test_a_flood_of_bad_connections_leaves_a_short_log(tmp_path: Path) -> None:
    malformed = b"GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n"
    # a malformed request never reaches the app, so the connection's deadline runs from its opening
    # until aiohttp's 400 is written: 1 s leaves room for that on a loaded machine (0.5 s did not, once)
    async with serving(tmp_path, CXBOT_REQUEST_TIMEOUT="1") as served:
        logged_before = len(served.log)
        for _ in range(4):
            answers = await asyncio.gather(*(http_exchange(served.port, malformed) for _ in range(50)))
            assert {status for status, _, _ in answers} == {400}
            slow = [await connect(served, b"GET / HTTP/1.1\r\n") for _ in range(25)]
            await asyncio.sleep(1.3)  # past their deadline
            close_all(slow)
        assert await served.stop() == 0
    flood = served.log[logged_before:]
    assert len(flood) < 60, "".join(flood)
    assert any("(repeated" in line for line in flood), "".join(flood)


@pytest.mark.parametrize(
    ("descriptors", "caps"),
    [
        (256, Caps(183, 192)),
        (1024, Caps(876, 922)),
        (20_000, Caps(9500, 10_000)),
        (2**20, Caps(9500, 10_000)),
    ],
)
def test_default_caps_keep_descriptors_for_the_rest_and_room_for_health_checks(
    descriptors: int, caps: Caps
) -> None:
    assert default_caps(descriptors) == caps


def test_caps_from_settings() -> None:
    assert caps_for(Settings(_env_file=None, connections_hard_cap=100), 1024) == Caps(95, 100)
    assert caps_for(Settings(_env_file=None, connections_soft_cap=500), 1024) == Caps(500, 922)
    with pytest.raises(CannotStart, match="CXBOT_CONNECTIONS_SOFT_CAP"):
        caps_for(Settings(_env_file=None, connections_soft_cap=922), 1024)
