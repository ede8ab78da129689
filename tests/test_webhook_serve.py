"""`cxbot serve` as a process: it serves on the port it was given and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

START_TIMEOUT = 30
REPO = Path(__file__).resolve().parent.parent


async def start_serving(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        *args,
        cwd=tmp_path,  # no .env from the repository
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(stream: asyncio.StreamReader, pattern: str) -> re.Match[str]:
    seen = []
    async with asyncio.timeout(START_TIMEOUT):
        while line := (await stream.readline()).decode():
            seen.append(line)
            if match := re.search(pattern, line):
                return match
    raise AssertionError(f"{pattern!r} never appeared in:\n{''.join(seen)}")


async def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = await start_serving(tmp_path, "--host", "127.0.0.1", "--port", "0")
    assert process.stderr is not None
    try:
        found = await read_until(process.stderr, r"serving on (http://127\.0\.0\.1:\d+)/")
        base = found.group(1)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 200
                assert await response.json() == {"status": "ok", "database": "sqlite"}
            message = {"sender": "cli", "message": "/start cx-maturity"}
            async with session.post(f"{base}/webhooks/rest/webhook", json=message) as response:
                assert response.status == 200
        process.send_signal(signal.SIGTERM)
        await read_until(process.stderr, r"shutting down")
        assert await asyncio.wait_for(process.wait(), timeout=START_TIMEOUT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start_serving(tmp_path, "--port", str(port))
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=START_TIMEOUT)
    assert process.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in stderr.decode()
