"""Schemathesis against the live server: generated requests, valid and not, for every operation in
/openapi.json; no 5xx, and every answer conforms to the document (status, content type, schema).

The server runs in a thread of its own (schemathesis calls it synchronously) on 127.0.0.1 with a
SQLite store in a temporary directory; the number of examples is bounded to keep this quick.

Schemathesis's `positive_data_acceptance` check is left out on purpose: a schema-valid callback URL
can still be refused (its host does not resolve, or is private), and the callback route needs a URL
from the request or the settings; both are 400s a JSON Schema cannot express.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import running_engine
from bot.app_keys import RESOLVER
from bot.server import build_app
from bot.settings import Settings
from bot.web.openapi import openapi_document
from tests.webhook_support import OfflineResolver, settings_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class ServerThread(threading.Thread):
    """The whole app on 127.0.0.1, on a port of its own, in an event loop of its own."""

    def __init__(self, database: Path) -> None:
        super().__init__(name="cxbot-test-server", daemon=True)
        self.settings = settings_for(database)
        self.ready = threading.Event()
        self.url = ""
        self.failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by the fixture, not lost in the thread
            self.failure = error
            self.ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with running_engine(self.settings) as engine:
            app = build_app(self.settings, engine)
            app[RESOLVER] = OfflineResolver()
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                host, port = runner.addresses[0][:2]
                self.url = f"http://{host}:{port}"
                self.ready.set()
                await self._stopping.wait()
            finally:
                await runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout=30)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ServerThread(tmp_path_factory.mktemp("schemathesis"))
    server.start()
    server.ready.wait(timeout=30)
    if server.failure is not None:
        raise server.failure
    try:
        yield server.url
    finally:
        server.stop()
    assert not server.is_alive()


# Built from the same function the server answers /openapi.json with (a test below checks the served
# document is this one), so the operations are known when pytest collects the tests.
schema = schemathesis.openapi.from_dict(openapi_document(Settings(_env_file=None)))


# CI replays the same examples every run (a red build means a change broke something); elsewhere each
# run explores new ones, which is how a bug in the Idempotency-Key check was found.
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)
def test_the_live_server_conforms_to_its_openapi_document(case: schemathesis.Case, live_server: str) -> None:
    case.call_and_validate(base_url=live_server, checks=CHECKS, timeout=10)


def test_the_server_serves_this_document(live_server: str) -> None:
    served = requests.get(f"{live_server}/openapi.json", timeout=10).json()
    assert served == schema.raw_schema
