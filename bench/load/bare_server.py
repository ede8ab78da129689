"""The limit: aiohttp parsing the same JSON body and answering a constant reply list, no storage.

python bench/load/bare_server.py PORT
"""

import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response([{"recipient_id": body["sender"], "text": "Question 2 of 11", "buttons": []}])


app = web.Application()
app.router.add_post("/webhooks/rest/webhook", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
