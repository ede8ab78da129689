"""The terminal chat as a person scripts it: `cxbot chat` with piped stdin, one message a line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.terminal import payload_for, render
from dialogs.types import Button, ButtonRole, Link, Reply, ReplyKind
from tests.cli_support import run_cxbot


def cxbot(tmp_path: Path, lines: list[str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`cxbot chat` as pat with the lines piped in; `env` adds settings."""
    env = {"CXBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", **env}
    return run_cxbot("chat", "--user", "pat", *args, cwd=tmp_path, lines=lines, env=env)


def test_piped_session_from_start_to_result(tmp_path: Path) -> None:
    session = [
        "/start cx-maturity",
        "3",
        "4",
        "Targeted",
        "2",
        "3 - Targeted",
        "3",
        "4",
        "4",
        "3",
        "3",
        "2",
        "Submit",
    ]
    done = cxbot(tmp_path, session)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== Question 1 of 11 - Organizational self-awareness ==" in out
    assert "== Question 11 of 11 - Citizen context and trust ==" in out
    assert "== Your answers to Citizen experience (CX) maturity ==" in out
    assert "== Your CX maturity stage: Targeted (3.1 of 5) ==" in out  # 34 / 11
    assert "== Recommendations for reaching the next stage ==" in out
    assert "\nCitizen insights\n- Collaboration (Impersonal to Targeted): " in out
    assert "https://" in out
    assert done.stderr == ""


def test_stop_halfway_and_come_back_in_a_new_process(tmp_path: Path) -> None:
    first = cxbot(tmp_path, ["4", "4", "4"], "--framework", "cx-maturity")
    assert first.returncode == 0, first.stderr
    assert "Question 4 of 11" in first.stdout
    second = cxbot(tmp_path, ["2"])
    assert second.returncode == 0, second.stderr
    assert "Welcome back: you're on question 4 of 11" in second.stdout
    assert "Collaboration with other departments and agencies: 2 - Impersonal" in second.stdout
    assert "Question 5 of 11" in second.stdout


def test_bad_input_in_a_piped_session_is_answered_and_kept(tmp_path: Path) -> None:
    done = cxbot(tmp_path, ["9", "what?", "1", "/review"], "--framework", "cx-maturity")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Sorry, I didn't catch that.") == 2
    assert "1. Leadership and culture: 1 - Passive" in done.stdout


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [], CXBOT_DATABASE_URL="mysql://nobody@nowhere/db")
    assert done.returncode == 2
    assert "use sqlite:///path.db or postgresql://" in done.stderr


def test_render_falls_back_to_text_for_every_field() -> None:
    reply = Reply(
        text="Body",
        title="Title",
        buttons=(Button("1 - Low", "/answer 1 1 1"), Button("Back", "/back", ButtonRole.NAVIGATION)),
        links=(Link("Guide", "https://example.org/guide"),),
        kind=ReplyKind.INFO,
    )
    shown = render(reply)
    assert shown.splitlines()[0] == "== Title =="
    assert "Guide: https://example.org/guide" in shown
    assert "[1 - Low] | [Back]" in shown
    assert payload_for("back", reply.buttons) == "/back"
    assert payload_for("something else", reply.buttons) == "something else"


def test_invalid_setting_is_a_clear_error(tmp_path: Path) -> None:
    done = cxbot(tmp_path, [], CXBOT_SQLITE_SYNCHRONOUS="OFF")
    assert done.returncode == 2
    assert "invalid setting CXBOT_SQLITE_SYNCHRONOUS" in done.stderr


def test_bytes_that_are_not_utf8_are_answered_not_fatal(tmp_path: Path) -> None:
    env = {**os.environ, "CXBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "chat",
            "--user",
            os.fsdecode(b"z\xff"),
            "--framework",
            "cx-maturity",
        ],
        input=b"\xff3\n/start \xfe\n2\n",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert "Sorry, I didn't catch that." in out
    assert "I don't know an assessment or campaign called" in out
    assert "Leadership and culture: 2 - Impersonal" in out


def test_a_facilitator_runs_a_campaign_from_the_terminal(tmp_path: Path) -> None:
    created = cxbot(tmp_path, ["/campaign new cx-pulse Desk"], CXBOT_PUBLIC_URL="https://bot.example.org")
    assert created.returncode == 0, created.stderr
    assert "== Campaign created: Desk ==" in created.stdout
    code = created.stdout.split("Join code: ", 1)[1][:9]
    assert "  Your dashboard (private): https://bot.example.org/dashboard/" in created.stdout
    assert f"  Join in the web chat: https://bot.example.org/?join={code}" in created.stdout
    listed = cxbot(tmp_path, ["/campaigns", f"/campaign report {code}"])
    assert f"- Desk ({code}): 0 finished of 0 joined" in listed.stdout
    assert "so 5 more needed" in listed.stdout
