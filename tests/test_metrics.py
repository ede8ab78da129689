"""`/metrics`: Prometheus's text format, read with prometheus-client's own parser after real traffic,
answered to loopback only by default and never through a proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import MeteredEngine
from tests.serve_process import http_get, serving
from tests.telegram_fake.user import FakeUser
from tests.test_telegram_harness import running_bot
from tests.test_telegram_polling import refusing
from tests.webhook_support import REST, running_app, settings_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
PULSE = ("/start cx-pulse", "3", "4", "2", "3", "4")
SERIES = {
    "cxbot_messages": "counter",
    "cxbot_reply_seconds": "histogram",
    "cxbot_runs_started": "counter",
    "cxbot_runs_finished": "counter",
    "cxbot_store_queue_depth": "gauge",
    "cxbot_store_commit_seconds": "histogram",
    "cxbot_errors": "counter",
    "cxbot_telegram_flood_waits": "counter",
    "cxbot_shutting_down": "gauge",
    "process_resident_memory_bytes": "gauge",
}
"""The families the issue names (and the process's memory), with their types."""


def parsed(text: str) -> tuple[dict[str, str], Samples]:
    """(type of each family, every sample by name and labels), as a Prometheus server reads them."""
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return types, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def buckets(samples: Samples, name: str, **labels: str) -> list[float]:
    """A histogram's cumulative bucket counts, by bound."""
    found = [
        (float(dict(key)["le"]), count)
        for (sample, key), count in samples.items()
        if sample == f"{name}_bucket" and set(labels.items()) <= set(key)
    ]
    return [count for _, count in sorted(found)]


async def test_metrics_count_real_traffic_in_the_prometheus_format(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{served.port}{REST}"
        for person in ("ana", "ben"):
            for text in PULSE:
                async with session.post(url, json={"sender": person, "message": text}) as response:
                    assert response.status == 200
        async with session.post(url, json={"sender": "ana", "message": "/help"}) as response:
            assert response.status == 200
        status, headers, body = await http_get(served.port, "/metrics")
        assert status == 200
        assert headers["content-type"].startswith("text/plain; version=")
        types, samples = parsed(body.decode())
        assert {name: types.get(name) for name in SERIES} == SERIES
        assert value(samples, "cxbot_messages_total", channel="web", outcome="ok") == 13
        assert value(samples, "cxbot_messages_total", channel="web", outcome="busy") == 0
        assert value(samples, "cxbot_reply_seconds_count", channel="web") == 13
        latency = buckets(samples, "cxbot_reply_seconds", channel="web")
        assert latency == sorted(latency)  # cumulative...
        assert latency[-1] == 13  # ...to +Inf
        assert value(samples, "cxbot_runs_started_total") == 2
        assert value(samples, "cxbot_runs_finished_total") == 2
        assert value(samples, "cxbot_store_queue_depth") == 0
        assert value(samples, "cxbot_store_commit_seconds_count") >= 1
        assert value(samples, "cxbot_shutting_down") == 0
        assert value(samples, "process_resident_memory_bytes") > 0
        await refused_from_elsewhere(served.port)
        assert await served.stop() == 0


async def refused_from_elsewhere(port: int) -> None:
    """Another address of this machine, and a request through a proxy, get a 404 as for nothing."""
    other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=other) as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 404
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200  # the address itself is served: only /metrics is not
    async with aiohttp.ClientSession() as session:
        proxied = {"X-Forwarded-For": "127.0.0.1"}
        async with session.get(f"http://127.0.0.1:{port}/metrics", headers=proxied) as response:
            assert response.status == 404


async def scrape(client: Any) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    return parsed(await response.text())[1]


async def test_a_message_the_database_was_too_busy_for_is_counted_as_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(settings_for(tmp_path), MeteredEngine) as (client, engine):
        before = await scrape(client)  # the registry is the process's: other tests counted too
        monkeypatch.setattr(engine.store, "step", refusing(1, engine.store.step))
        for expected in (503, 200):
            response = await client.post(REST, json={"sender": "cy", "message": "/start cx-pulse"})
            assert response.status == expected
        after = await scrape(client)
    for outcome in ("busy", "ok"):
        change = difference(after, before, "cxbot_messages_total", channel="web", outcome=outcome)
        assert change == 1, outcome


def difference(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    async with running_app(settings_for(tmp_path, metrics_allow="")) as (client, _):
        assert (await client.get("/metrics")).status == 404


async def test_telegram_429s_are_counted(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, aiohttp.ClientSession() as session:

        async def scraped() -> Samples:
            async with session.get(f"{bot.base_url}/metrics") as response:
                assert response.status == 200
                return parsed(await response.text())[1]

        before = await scraped()
        bot.server.fail_next("sendMessage", 429, retry_after=1)
        user = FakeUser(bot.server, 90_001, "Flo")
        await user.send_text("/start cx-maturity")
        await bot.wait_for(user, "Question 1 of")
        after = await scraped()
    assert difference(after, before, "cxbot_telegram_flood_waits_total") == 1
