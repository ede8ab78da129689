"""A throwaway PostgreSQL server for tests that stop and start their database: made with initdb in
a temporary directory, on a port of its own, never the shared server on 5432."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl (Debian keeps them out of PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class Cluster:
    """One server: `stop()` and `start()` it as a test needs."""

    def __init__(self, bin_dir: Path, data: Path, port: int) -> None:
        self.bin_dir, self.data, self.port = bin_dir, data, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        # no pipes: the server pg_ctl starts would keep them open, and the call would never end
        subprocess.run(
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.data.parent / "server.log")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A fresh server, started; stopped and removed at the end. Its directory is made apart from
    pytest's (which only root may enter): initdb refuses to run as root, so as root it runs as the
    postgres user, who must own the directory."""
    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CXBOT_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL's initdb and pg_ctl are required but not installed")
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    with tempfile.TemporaryDirectory(prefix="cxbot-pg-") as directory:
        data = Path(directory) / "pgdata"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
            shutil.chown(data, "postgres")
        cluster = Cluster(bin_dir, data, _free_port())
        cluster._run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                cluster.stop("immediate")
