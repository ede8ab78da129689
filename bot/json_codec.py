"""JSON for the HTTP channels: orjson when it is installed (`pip install 'cxbot[fast]'`), the standard
library otherwise, with the same results: strict JSON (no NaN or Infinity), UTF-8 bytes out.

Encoding a reply list is a tenth of a webhook request's time with the standard library; orjson
takes a few microseconds (bench/webhook.py measures both).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

try:
    import orjson
except ImportError:  # the default install: the standard library does the same, more slowly
    orjson = None  # type: ignore[assignment]


def dumps(value: Any) -> bytes:
    """The value as compact JSON in UTF-8."""
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def loads_fast(data: bytes) -> Any:
    """Parse strict JSON quickly; raises ValueError on anything orjson refuses (the caller then asks
    the standard library, whose errors say where the problem is)."""
    if orjson is None:
        raise ValueError("orjson is not installed")
    return orjson.loads(data)


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response (aiohttp's `json_response`, through `dumps`)."""
    return web.Response(body=dumps(value), status=status, content_type="application/json", headers=headers)
