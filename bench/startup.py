"""How fast cxbot starts and how much memory it idles at, beside the bare interpreter measured in the
same run. Prints figures only.

- `cxbot serve` with no Telegram token: seconds from launch until `/healthz` answers (goal: 2 s),
  and its resident memory a second later (goal: under 150 MB);
- `cxbot chat --framework cx-maturity`: seconds until question 1 is printed (goal: 1 s);
- baseline: `python -c pass` started the same way, the least any Python program costs.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PORT = 18960
ROOT = Path(__file__).resolve().parent.parent


def environment(directory: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXBOT_")}
    return {**env, "CXBOT_DATABASE_URL": f"sqlite:///{directory}/startup.db", "PYTHONPATH": str(ROOT)}


def serve_once(directory: str) -> tuple[float, int]:
    """(seconds to a healthy /healthz, resident kB a second later)."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(PORT)],
        cwd=directory,
        env=environment(directory),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("cxbot serve stopped while starting") from None
                time.sleep(0.02)
        ready = time.perf_counter() - started
        time.sleep(1)
        status = Path(f"/proc/{server.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return ready, rss
    finally:
        server.terminate()
        server.wait(timeout=20)


def chat_once(directory: str) -> float:
    """Seconds until `cxbot chat` has printed question 1 (read from its piped output)."""
    started = time.perf_counter()
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--framework", "cx-maturity", "--user", "bench"],
        cwd=directory,
        env=environment(directory),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert chat.stdout is not None
    for line in chat.stdout:
        if "Question 1 of 11" in line:
            break
    elapsed = time.perf_counter() - started
    chat.kill()
    chat.wait()
    return elapsed


def bare_once() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        serves = [serve_once(directory) for _ in range(args.runs)]
        chats = [chat_once(directory) for _ in range(args.runs)]
    bare = statistics.median(bare_once() for _ in range(args.runs))
    ready = statistics.median(s for s, _ in serves)
    memory = statistics.median(m for _, m in serves) / 1024
    chat = statistics.median(chats)
    print(
        f"  cxbot serve (no Telegram): /healthz after {ready:.2f} s (goal: 2 s), "
        f"idle at {memory:.0f} MB (goal: under 150)"
    )
    print(f"  cxbot chat: question 1 after {chat:.2f} s (goal: 1 s)")
    print(
        f"  baseline, python -c pass: {bare:.2f} s; "
        f"serve takes {ready / bare:.0f}x that, chat {chat / bare:.0f}x"
    )


if __name__ == "__main__":
    main()
