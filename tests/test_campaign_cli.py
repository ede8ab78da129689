"""`cxbot campaign ...` from a shell while `cxbot serve` runs on the same SQLite file: create (with
groups), people join and finish through the server, then list, status, report in every format,
remind and close, each a process of its own."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import DATA
from tests.test_webhook_serve import REPO, START_TIMEOUT, read_until


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
        "CXBOT_FRAMEWORKS_PATH": str(DATA / "frameworks"),
        "CXBOT_SCHEDULER_SECONDS": "0.2",
        "PYTHONPATH": str(REPO),
    }


async def cxbot(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run `cxbot ARGS` as its own process, `env` added to its settings; (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=tmp_path,
        env={**environment(tmp_path), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=START_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def say(session: aiohttp.ClientSession, base: str, sender: str, text: str) -> str:
    message = {"sender": sender, "message": text}
    async with session.post(f"{base}/webhooks/rest/webhook", json=message) as response:
        assert response.status == 200
        replies: list[dict[str, Any]] = await response.json()
    return "\n".join(reply.get("text", "") for reply in replies)


async def test_the_campaign_commands_beside_a_running_server(tmp_path: Path) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--port",
        "0",
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert server.stderr is not None
    try:
        base = (await read_until(server.stderr, r"serving on (http://127\.0\.0\.1:\d+)/")).group(1)
        status, out, err = await cxbot(
            tmp_path, "campaign", "create", "--framework", "pulse-test", "--title", "Desk check",
            "--groups", "Front, Back", "--min-group", "3", "--owner", "telegram:4242",
        )  # fmt: skip
        assert status == 0, err
        code = re.search(r"^Join code: ([A-Z2-9]{4}-[A-Z2-9]{4})$", out, re.MULTILINE)
        assert code, out
        assert re.search(
            r"^Dashboard \(keep it private\): http://\S+/dashboard/[A-Za-z0-9_-]{32}$", out, re.M
        )
        assert "run by telegram:4242" in out

        async with aiohttp.ClientSession() as session:
            for n, group in enumerate(("1", "1", "1", "2")):
                assert "Which group are you in?" in await say(
                    session, base, f"desk-{n}", f"/join {code.group(1)}"
                )
                assert "Question 1 of 3" in await say(session, base, f"desk-{n}", group)
                for value in "342":
                    said = await say(session, base, f"desk-{n}", value)
                assert "count towards Desk check" in said

            status, out, _ = await cxbot(tmp_path, "campaign", "list")
            assert f"{code.group(1)}\t1\t4\t4\topen\tpulse-test\tDesk check" in out
            status, out, _ = await cxbot(tmp_path, "campaign", "status", code.group(1))
            assert "4 joined; 4 finished, 0 part-way through" in out
            assert "In the report: 3 finished answer set(s)." in out
            assert "Not in the report yet: 1 finished answer set(s) (Back 1)." in out
            status, out, _ = await cxbot(tmp_path, "campaign", "report", code.group(1), "--format", "json")
            report = json.loads(out)
            assert (report["completed"], report["withheld"], report["overall"]["score"]) == (3, False, 3.0)
            assert report["pending"] == 1
            # Front's three are in the report; Back's one waits for two more of Back
            assert [(g["withheld"], g["completed"], g["pending"]) for g in report["groups"]] == [
                (False, 3, 0),
                (True, None, 1),
            ]
            status, out, _ = await cxbot(tmp_path, "campaign", "report", code.group(1), "--format", "csv")
            rows = out.strip().split("\n")
            assert len(rows) == 4
            assert all(row.endswith(",Front,3,4,2") for row in rows[1:])  # only published answer sets
            assert "desk-" not in out
            status, out, _ = await cxbot(tmp_path, "campaign", "report", code.group(1))
            assert "Group stage: High (3.0 of 4), from 3 people who finished." in out
            assert "Not in the report yet: 1 finished answer set(s) (Back 1)." in out
            pdf = tmp_path / "report.pdf"
            status, _, err = await cxbot(
                tmp_path, "campaign", "report", code.group(1), "--format", "pdf", "--output", str(pdf)
            )
            assert status == 0, err
            assert pdf.read_bytes().startswith(b"%PDF-")
            status, out, _ = await cxbot(tmp_path, "campaign", "remind", code.group(1))
            assert out.startswith("Nobody to remind now")
            status, out, _ = await cxbot(tmp_path, "campaign", "close", code.group(1))
            assert "is closed" in out
            assert "has closed" in await say(session, base, "latecomer", f"/join {code.group(1)}")
            status, _, err = await cxbot(tmp_path, "campaign", "status", "ZZZZ-ZZZZ")
            assert (status, err.strip()) == (
                1,
                "cxbot: no campaign has the code 'ZZZZ-ZZZZ' (cxbot campaign list shows them)",
            )
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), timeout=START_TIMEOUT) == 0
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
