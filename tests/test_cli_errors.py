"""First-run mistakes and leaving: one clear line and the right exit status, never a traceback."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serve_process import REPO, serving

TIMEOUT = 60


def cxbot(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` with `settings` (CXBOT_* names) in its environment."""
    env = {**os.environ, "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, **settings},
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cxbot"), done.stderr
    for word in words:
        assert word in last, done.stderr


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_one_clear_line(tmp_path: Path, port: str) -> None:
    done = cxbot(tmp_path, "serve", "--port", port)
    assert_one_clear_line(done, "--port", "0 to 65535")


@pytest.mark.parametrize("token", ["not-a-token", "123456", ":secret", "abc:def", "12 34:secret"])
def test_a_malformed_telegram_token_is_one_clear_line(tmp_path: Path, token: str) -> None:
    done = cxbot(tmp_path, "serve", "--port", "0", CXBOT_TELEGRAM_TOKEN=token)
    assert_one_clear_line(done, "CXBOT_TELEGRAM_TOKEN", "@BotFather")
    assert token not in done.stderr  # a token is a secret, even a wrong one


async def test_an_empty_telegram_token_means_no_telegram(tmp_path: Path) -> None:
    async with serving(tmp_path, CXBOT_TELEGRAM_TOKEN="") as served:
        assert await served.stop() == 0
    assert not [line for line in served.log if "Traceback" in line or "Telegram" in line]


async def test_ctrl_c_while_serve_starts_says_stopped_not_the_chat_goodbye(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    with socket.socket() as silent:  # a "database" that lets cxbot connect, then never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.setblocking(False)
        url = f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/cxbot"
        env = {**os.environ, "CXBOT_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot.cli", "serve", "--port", "0"),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            connection, _ = await asyncio.wait_for(loop.sock_accept(silent), TIMEOUT)
            with connection:  # cxbot is now inside its start, opening the database
                process.send_signal(signal.SIGINT)
                out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    error = err.decode()
    assert process.returncode == 130, error
    assert "Bye" not in error
    assert "Traceback" not in error
    assert error.strip().splitlines()[-1] == "cxbot: stopped"
    assert out == b""


def read_until(fd: int, wanted: bytes, deadline: float) -> bytes:
    """What a pseudo-terminal shows until `wanted` appears, the end of output, or the deadline."""
    seen = b""
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_d_in_an_interactive_chat_ends_the_line_and_says_goodbye(tmp_path: Path) -> None:
    env = {**os.environ, "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "PYTHONPATH": str(REPO)}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "pat"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    deadline = time.monotonic() + TIMEOUT
    try:
        shown = read_until(controller, b"\r\n> ", deadline)
        assert b"\r\n> " in shown, shown.decode(errors="replace")
        os.write(controller, b"\x04")  # Ctrl-D at the start of a line: end of input
        shown = read_until(controller, b"saved.\r\n", deadline)
        assert process.wait(timeout=max(1.0, deadline - time.monotonic())) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    text = shown.decode(errors="replace")
    assert text.endswith("\r\nBye. Your answers are saved.\r\n"), text
    assert "Traceback" not in text
