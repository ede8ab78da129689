"""The webhook under load, beside its baselines measured in the same run. Prints figures only.

One server at a time on 127.0.0.1, pinned to CPU 0; `wrk` pinned to CPU 1 with 64 connections sends
real assessment traffic (`load/assessment_mix.lua`: 4,000 senders, each `/start cx-maturity`, 11
answers, `/submit` in turn). After a warm-up, `--reps` runs of `--seconds` each; the median run is
reported with its p99 latency and its ratio to the baseline:

- bare: aiohttp parsing the JSON and answering a constant reply list (`load/bare_server.py`), the
  limit of the HTTP layer;
- cxbot serve on SQLite, synchronous=FULL and NORMAL: against bare (goal: 40% or more, p99 < 25 ms);
- with `--layers`, cxbot serve with a canned engine (`load/canned_engine.py`): the HTTP layer alone,
  which splits cxbot's cost between answering HTTP and the step;
- asyncpg toy (`load/asyncpg_toy.py`): a message's database work on raw asyncpg, pool of 16;
- cxbot serve on PostgreSQL: against the asyncpg toy (goal: 60% or more, and 1,500 answers/s).

    python bench/webhook.py [--reps 3] [--seconds 10] [--postgres URL | --no-postgres] [--layers]

Needs `wrk` (`apt-get install wrk`) and `taskset` (util-linux). PostgreSQL runs use a fresh
database made on the server of `--postgres` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOAD = HERE / "load"
PORT = 18940
CONNECTIONS = 64
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p99_ms: float
    errors: int


def wrk(seconds: int, latency: bool = True) -> Run:
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["--latency"] if latency else []
    command += ["-s", str(LOAD / "assessment_mix.lua"), f"http://127.0.0.1:{PORT}/webhooks/rest/webhook"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "SENDERS": "4000"})
    rps = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return Run(
        float(rps.group(1)) if rps else 0.0,
        float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        done.stderr.count("status"),
    )


def wait_up(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server stopped while starting")
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{PORT}/webhooks/rest/webhook",
                data=b'{"sender": "warm-up", "message": "/help"}',
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def measure(label: str, command: list[str], env: dict[str, str], reps: int, seconds: int) -> Run:
    server = subprocess.Popen(
        ["taskset", "-c", "0", *command],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_up(server)
        wrk(3, latency=False)  # warm-up: caches filled, the database has rows
        runs = [wrk(seconds) for _ in range(reps)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    median = sorted(runs, key=lambda r: r.requests_per_second)[len(runs) // 2]
    spread = ", ".join(f"{r.requests_per_second:,.0f}" for r in runs)
    errors = sum(r.errors for r in runs)
    failed = f"  errors: {errors}" if errors else ""
    rps = median.requests_per_second
    print(f"  {label:<28} {rps:>9,.0f} req/s   p99 {median.p99_ms:6.1f} ms   ({spread}){failed}")
    return median


def cxbot(port: int) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def fresh_database(admin: str) -> tuple[str, str]:
    name = f"cxbot_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    return name, f"{admin.rsplit('/', 1)[0]}/{name}"


def ratio(run: Run, baseline: Run) -> str:
    return (
        f"{run.requests_per_second / baseline.requests_per_second:.0%}"
        if baseline.requests_per_second
        else "n/a"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="an admin URL of a PostgreSQL server")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--layers", action="store_true", help="also cxbot's HTTP layer with a canned engine")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(
                f"bench/webhook.py needs {tool} (apt-get install {'wrk' if tool == 'wrk' else 'util-linux'})"
            )
    env = {"PYTHONPATH": str(HERE.parent), "CXBOT_SCHEDULER_SECONDS": "60"}
    runs = f"{args.reps} x {args.seconds} s"
    print(f"{os.cpu_count()} CPUs; server on CPU 0, wrk on CPU 1, {CONNECTIONS} connections, {runs}")
    with tempfile.TemporaryDirectory() as work:
        bare = measure(
            "bare aiohttp",
            [sys.executable, str(LOAD / "bare_server.py"), str(PORT)],
            env,
            args.reps,
            args.seconds,
        )
        if args.layers:
            db = {"CXBOT_DATABASE_URL": f"sqlite:///{work}/canned.db"}
            canned = [sys.executable, str(LOAD / "canned_engine.py"), str(PORT)]
            run = measure("cxbot HTTP, canned engine", canned, {**env, **db}, args.reps, args.seconds)
            print(f"    = {ratio(run, bare)} of bare aiohttp (the ceiling of any step)")
        for sync in ("FULL", "NORMAL"):
            db = {"CXBOT_DATABASE_URL": f"sqlite:///{work}/{sync}.db", "CXBOT_SQLITE_SYNCHRONOUS": sync}
            run = measure(f"cxbot serve, SQLite {sync}", cxbot(PORT), {**env, **db}, args.reps, args.seconds)
            print(f"    = {ratio(run, bare)} of bare aiohttp (goal: 40% or more, p99 under 25 ms)")
        if args.no_postgres:
            return
        name, url = fresh_database(args.postgres)
        try:
            toy = measure(
                "asyncpg toy",
                [sys.executable, str(LOAD / "asyncpg_toy.py"), str(PORT), url],
                env,
                args.reps,
                args.seconds,
            )
            run = measure(
                "cxbot serve, PostgreSQL",
                cxbot(PORT),
                {**env, "CXBOT_DATABASE_URL": url},
                args.reps,
                args.seconds,
            )
            print(f"    = {ratio(run, toy)} of the asyncpg toy (goal: 60% or more, and 1,500 answers/s)")
        finally:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
