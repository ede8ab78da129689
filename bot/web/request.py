"""Reading and validating a webhook request, before anything reaches the engine.

Every problem becomes a `BadRequest` with the HTTP status and a sentence saying what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.json_codec import loads_fast
from dialogs.languages import normalized

MAX_SENDER = 128
"""Matches the stored participant id; Rasa clients send UUIDs or similar."""
MAX_MESSAGE = 4000
"""What the engine reads of a message; nobody types an answer that long."""
MAX_MESSAGE_ID = 128
MAX_URL = 2048
JSON_TYPES = ("application/json",)
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Category Cc (C0 and C1 controls, DEL) and Cs (surrogates)."""
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""The same but tab, line feed and carriage return."""


class BadRequest(Exception):
    """A request the webhook refuses: `status` is the HTTP status, `message` says why."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass(frozen=True, slots=True)
class RestRequest:
    """A valid `{"sender", "message", "metadata"}` body, with the metadata cxbot uses."""

    sender: str
    message: str
    message_id: str | None = None
    callback_url: str | None = None
    language: str | None = None
    """`metadata.language`: the language the person uses, as a tag such as `pt-BR` (a hint)."""


def check_content_type(request: web.Request) -> None:
    """Only JSON bodies (`application/json` or a `+json` type; a UTF-8 charset if any)."""
    kind = request.content_type.lower()
    charset = (request.charset or "utf-8").lower()
    if not (kind in JSON_TYPES or kind.endswith("+json")) or charset not in ("utf-8", "utf8"):
        sent = request.headers.get("Content-Type")
        got = f"got {sent!r}" if sent else "no Content-Type was sent"
        raise BadRequest(415, f"send the body as JSON with Content-Type: application/json ({got})")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to be longer than `limit` bytes."""
    too_large = BadRequest(413, f"the request body is larger than the limit of {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    if request.content_length is not None:  # the usual case: the length is known and allowed
        return await request.read()
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large
    return b"".join(chunks)


def parse_rest_request(body: bytes, idempotency_key: str | None) -> RestRequest:
    """The validated request; the `Idempotency-Key` header stands in for `metadata.message_id`."""
    data = _json_object(body)
    sender = _text_field(data, "sender", MAX_SENDER, allow_newlines=False)
    message = _text_field(data, "message", MAX_MESSAGE, allow_newlines=True)
    metadata = data.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        raise BadRequest(400, f'"metadata" must be a JSON object when given, not {_kind(metadata)}')
    message_id = _message_id(metadata.get("message_id"), "metadata.message_id")
    header_id = _message_id(idempotency_key, "the Idempotency-Key header")  # checked even when unused
    message_id = message_id if message_id is not None else header_id
    callback_url = _callback_url(metadata.get("callback_url"))
    return RestRequest(sender, message, message_id, callback_url, _language(metadata.get("language")))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = loads_fast(body)
    except ValueError:  # or orjson is not installed: the standard library says precisely what is wrong
        data = _json_slowly(body)
    if not isinstance(data, dict):
        example = '{"sender": "...", "message": "..."}'
        raise BadRequest(400, f"the request body must be a JSON object like {example}, not {_kind(data)}")
    return data


def _json_slowly(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
        return json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise BadRequest(400, "the request body is not valid UTF-8 text") from None
    except (ValueError, RecursionError) as error:
        raise BadRequest(400, f"the request body is not valid JSON ({_json_reason(error)})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _text_field(data: dict[str, Any], name: str, limit: int, allow_newlines: bool) -> str:
    if name not in data or data[name] is None:
        raise BadRequest(400, f'"{name}" is missing: send it as a non-empty string')
    value = data[name]
    if not isinstance(value, str):
        raise BadRequest(400, f'"{name}" must be a string, not {_kind(value)}')
    if not value.replace("\ufeff", "").strip():  # JSON Schema's \s also counts U+FEFF as a space
        raise BadRequest(400, f'"{name}" is empty: send some text')
    if len(value) > limit:
        raise BadRequest(400, f'"{name}" is {len(value)} characters long; the limit is {limit}')
    if _SURROGATE.search(value):
        raise BadRequest(400, f'"{name}" is not valid Unicode text (it has a lone surrogate escape)')
    if not _clean(value, allow_newlines):
        allowed = " other than tabs and line breaks" if allow_newlines else ""
        raise BadRequest(400, f'"{name}" must not contain control characters{allowed}')
    return value


def _clean(value: str, allow_newlines: bool) -> bool:
    """No control characters (a NUL cannot be stored in PostgreSQL) and no lone surrogates: the
    characters of Unicode's categories Cc and Cs, found by a regular expression (in C)."""
    return not (_UNSAFE_IN_TEXT if allow_newlines else _UNSAFE_IN_LINE).search(value)


def _message_id(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(400, f"{where} must be a non-empty string or an integer")
    if len(value) > MAX_MESSAGE_ID or not _clean(value, allow_newlines=False):
        raise BadRequest(400, f"{where} must be at most {MAX_MESSAGE_ID} printable characters")
    return value


def _callback_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(400, "metadata.callback_url must be an http(s) URL string")
    if len(value) > MAX_URL:
        raise BadRequest(400, f"metadata.callback_url is longer than {MAX_URL} characters")
    return value.strip()


def _language(value: Any) -> str | None:
    """A language tag, as its usual case writes it (`pt-br` -> `pt-BR`). One the bot does not speak
    is no error: the bot answers in its default language."""
    if value is None:
        return None
    tag = normalized(value) if isinstance(value, str) else None
    if tag is None:
        raise BadRequest(400, "metadata.language must be a language tag such as pt-BR, pt or en")
    return tag


def _kind(value: Any) -> str:
    """A JSON value's type, as a client would name it."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}
    return "null" if value is None else names.get(type(value), "an object")
