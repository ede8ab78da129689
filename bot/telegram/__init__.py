"""The Telegram channel (aiogram 3): `service` runs the bot in `cxbot serve`; the other modules are
its parts (the router and handlers, delivery, rendering, button data, the per-person gate,
flood control)."""
