"""Bot API error responses, shaped exactly like Telegram's ``{"ok": false, ...}`` answers."""

from __future__ import annotations

from typing import Any

# Telegram prefixes every description with the reason phrase of its HTTP status.
_STATUS_PREFIX: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """An error answer of the (fake) Bot API.

    ``description`` is the exact text Telegram would send (e.g. ``"Bad Request: message is too long"``);
    ``detail`` is an optional, fake-only explanation kept in the request log (never sent to the bot).
    """

    def __init__(
        self,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.detail = detail

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.description!r}, detail={self.detail!r})"


def api_error(
    status: int,
    message: str,
    *,
    parameters: dict[str, Any] | None = None,
    detail: str | None = None,
) -> ApiError:
    """An error whose description is ``"<Reason>: <message>"`` like Telegram's (``message`` may be "")."""
    prefix = _STATUS_PREFIX.get(status, "Error")
    description = f"{prefix}: {message}" if message else prefix
    return ApiError(status, description, parameters=parameters, detail=detail)


def bad_request(message: str, detail: str | None = None) -> ApiError:
    """A 400 ``Bad Request: <message>`` error."""
    return api_error(400, message, detail=detail)


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-wait error with ``parameters.retry_after`` exactly as Telegram sends it."""
    return api_error(429, f"retry after {retry_after}", parameters={"retry_after": retry_after})
