"""The one middleware every HTTP request passes, doing in order what each request needs on its way
in and out:

1. an id for the log lines it causes, sent back as `X-Request-Id` (`bot.log_setup`);
2. CORS headers on the answer to an allowed origin (`bot.web.cors`);
3. load shedding beyond the soft cap of connections, and the request's arrival told to its
   connection, which times out slow senders (`bot.connections`);
4. a 503 once the server is stopping (`bot.shutdown`);
5. errors answered as JSON (`bot.http_errors`).

One middleware, not five: aiohttp wraps each middleware in a coroutine of its own per request. With
no middleware at all, a webhook answering a canned reply served about a quarter more requests a
second; folding the five into one gave less than this machine's noise (`bench/README.md`), so the
pieces are kept as plain methods of their modules and composed here, in one place, for clarity.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.connections import ConnectionGuard, busy
from bot.http_errors import error_response
from bot.log_setup import LOG_ID, REQUEST_ID_HEADER, new_request_id
from bot.shutdown import Shutdown
from bot.web.cors import CorsPolicy


def front_door(cors: CorsPolicy, guard: ConnectionGuard, shutdown: Shutdown) -> Middleware:
    """The app's middleware."""

    @web.middleware
    async def every_request(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = new_request_id()
        token = LOG_ID.set(request_id)
        try:
            response = await _guarded(request, handler, guard, shutdown)
        except web.HTTPException as http_error:  # a redirect, raised on as it was
            http_error.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            LOG_ID.reset(token)
        cors.add_headers(request, response)
        if not response.prepared:  # a streamed answer has sent its headers already
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    return every_request


async def _guarded(
    request: web.Request, handler: Handler, guard: ConnectionGuard, shutdown: Shutdown
) -> web.StreamResponse:
    connection = guard.connection(request)
    if connection is not None:
        if guard.sheds(request):
            return busy()
        connection.request_started(request)
    try:
        if shutdown.stopping:
            return shutdown.refusal()
        return await handler(request)
    except Exception as error:  # not a cancellation: that is no Exception, and goes on up
        answer = error_response(request, error)
        if answer is None:
            raise
        return answer
    finally:
        if connection is not None:
            connection.request_finished()
