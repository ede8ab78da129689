"""`cxbot` run as its own process, as a person runs it from a shell (one runner for every CLI test)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def run_cxbot(
    *args: str, cwd: Path, lines: Iterable[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`cxbot ARGS...` in `cwd` with `lines` piped in, one a line, and `env` added to the
    environment; never raises on a non-zero exit (the tests read it)."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
