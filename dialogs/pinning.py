"""Which framework versions a message's step may need, read from storage before the step if they are
not in memory yet, so the step itself stays pure (see `frameworks.registry`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection

from frameworks.loader import content
from frameworks.registry import FrameworkRegistry, VersionKey
from storage.executor import Executor
from storage.framework_versions import OfferedVersion, record_versions, stored_content
from storage.records import Snapshot
from storage.store import Store

log = logging.getLogger(__name__)


def referenced(snapshot: Snapshot) -> Iterator[VersionKey]:
    """The versions of the person's loaded runs, results and campaign rounds."""
    for run in snapshot.runs.values():
        yield run.framework_id, run.framework_version
    if snapshot.latest_result is not None:
        yield snapshot.latest_result.framework_id, snapshot.latest_result.framework_version
    for result in snapshot.results:
        yield result.framework_id, result.framework_version
    for campaign in (snapshot.campaign, snapshot.joining):
        if campaign is not None and campaign.version:
            yield campaign.framework_id, campaign.version


def load_versions(
    frameworks: FrameworkRegistry, db: Connection | Executor, keys: Iterable[VersionKey]
) -> None:
    """Read the versions among `keys` that are not in memory yet (normally none: this costs a lookup
    per key on every message, and a query only the first time a version turns up)."""
    missing = [key for key in keys if not frameworks.knows(key)]
    if missing:
        frameworks.load_missing(missing, partial(stored_content, db))


async def record_offered(store: Store, frameworks: FrameworkRegistry) -> None:
    """Store the content of each version offered now, before anyone is served (start-up)."""
    offered = [OfferedVersion(f.id, f.version, content(f)) for f in frameworks.all()]
    new = await store.run(partial(record_versions, offered=offered, now=datetime.now(UTC)))
    for item in new:
        log.info("framework %s: version %s recorded", item.framework_id, item.version)
