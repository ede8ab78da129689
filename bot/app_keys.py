"""Typed keys for what the HTTP app shares with every channel installed on it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractResolver

from bot.chart_cache import ChartCache
from bot.settings import Settings
from dialogs.engine import Engine

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
CHARTS = web.AppKey("charts", ChartCache)
"""Rendered result charts (PNG), shared by the chart URL route and any channel that sends pictures."""
RESOLVER = web.AppKey("resolver", AbstractResolver)
"""Optional: the name resolver for outgoing calls to integrations (tests set an offline one)."""
