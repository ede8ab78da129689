"""A toy engine on raw asyncpg: the PostgreSQL baseline a webhook on PostgreSQL is measured against.

Each message, in one transaction on a pooled connection (16): lock the sender's row (made on first
sight), store the answer, move the cursor, remember the delivery; then answer a constant reply.
No dialogue, no rendering: what the database work of a message costs through the fastest driver.

    python bench/load/asyncpg_toy.py PORT POSTGRES_URL
"""

import json
import sys

import asyncpg
from aiohttp import web

SCHEMA = """
CREATE TABLE IF NOT EXISTS toy_people
    (id serial PRIMARY KEY, sender text UNIQUE, cursor int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS toy_answers (person int, question int, value text, PRIMARY KEY (person, question));
CREATE TABLE IF NOT EXISTS toy_seen (id bigserial PRIMARY KEY, person int, replies text);
"""


async def handle(request: web.Request) -> web.Response:
    body = await request.json()
    pool: asyncpg.Pool = request.app["pool"]
    async with pool.acquire() as conn, conn.transaction():
        person = await conn.fetchval("SELECT id FROM toy_people WHERE sender = $1 FOR UPDATE", body["sender"])
        if person is None:
            person = await conn.fetchval(
                "INSERT INTO toy_people (sender) VALUES ($1) ON CONFLICT (sender) DO UPDATE SET cursor = "
                "toy_people.cursor RETURNING id",
                body["sender"],
            )
        cursor = await conn.fetchval(
            "UPDATE toy_people SET cursor = cursor + 1 WHERE id = $1 RETURNING cursor", person
        )
        await conn.execute(
            "INSERT INTO toy_answers VALUES ($1, $2, $3) "
            "ON CONFLICT (person, question) DO UPDATE SET value = $3",
            person,
            cursor % 13,
            body["message"],
        )
        replies = [{"recipient_id": body["sender"], "text": "Question 2 of 11", "buttons": []}]
        await conn.execute(
            "INSERT INTO toy_seen (person, replies) VALUES ($1, $2)", person, json.dumps(replies)
        )
    return web.json_response(replies)


async def start(app: web.Application) -> None:
    app["pool"] = await asyncpg.create_pool(sys.argv[2], min_size=16, max_size=16)
    async with app["pool"].acquire() as conn:
        await conn.execute(SCHEMA)


app = web.Application()
app.on_startup.append(start)
app.router.add_post("/webhooks/rest/webhook", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
