"""Every error the HTTP app answers is JSON: `{"error": "what is wrong"}`."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.log_privacy import log_failure

log = logging.getLogger(__name__)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON error response."""
    return web.json_response({"error": message}, status=status, headers=headers)


def error_response(request: web.Request, error: Exception) -> web.Response | None:
    """aiohttp's own errors (404, 405...) and unexpected exceptions as JSON, the latter logged; None
    for what is not an error answer (a redirect), which goes on as it was raised."""
    if isinstance(error, web.HTTPException):
        if error.status < 400:
            return None
        return json_error(error.status, _message(request, error), _kept_headers(error))
    if isinstance(error, ConnectionError) and _hung_up(request):  # the client left, or was cut off
        log.debug("connection closed answering %s %s", request.method, _route(request), exc_info=True)
        return json_error(400, "the connection was closed")
    log_failure(log, f"unexpected error answering {request.method} {_route(request)}", error)
    return json_error(500, "something went wrong on the server; the error has been logged")


def _route(request: web.Request) -> str:
    """The route's template (`/dashboard/{token}`), not the path: a path may carry a secret token."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def _hung_up(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _message(request: web.Request, error: web.HTTPException) -> str:
    if isinstance(error, web.HTTPNotFound) and error.text in ("404: Not Found", None, ""):
        return f"there is nothing at {request.path}"
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return f"{request.method} is not allowed at {request.path}; use {allowed}"
    return error.text or error.reason


def _kept_headers(error: web.HTTPException) -> dict[str, str]:
    return {name: error.headers[name] for name in ("Allow", "Retry-After") if name in error.headers}
