"""The OpenAPI 3 document served at `/openapi.json`, written by hand next to the code it describes.

The limits come from the same constants the validation uses, so the two cannot drift apart;
`tests/test_webhook_schemathesis.py` checks the live server against this document.
"""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from bot.web.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.web.cors import ALLOWED_HEADERS
from bot.web.request import MAX_MESSAGE, MAX_MESSAGE_ID, MAX_SENDER, MAX_URL
from bot.web.visitors import VISITORS_PATH
from bot.web.webhook import CALLBACK_PATH, IDEMPOTENCY_HEADER, REST_PATH, STATUS_PATH
from dialogs.languages import MAX_TAG, TAG

# Printable text with at least one non-space character: what the validation accepts.
NO_CONTROLS = r"\x00-\x1f\x7f-\x9f"
ONE_LINE = rf"^[^{NO_CONTROLS}]*[^\s{NO_CONTROLS}][^{NO_CONTROLS}]*$"
LANGUAGE_TAG = rf"^{TAG.pattern}$"
MULTI_LINE = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Error"}, description)


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What is wrong, in a sentence."}},
    },
    "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "RestRequest": {
        "type": "object",
        "required": ["sender", "message"],
        "properties": {
            "sender": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_SENDER,
                "pattern": ONE_LINE,
                "description": "The person's stable id in your system; replies name it as `recipient_id`.",
            },
            "message": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_MESSAGE,
                "pattern": MULTI_LINE,
                "description": "What the person typed, or the `payload` of the button they pressed.",
            },
            "metadata": {"$ref": "#/components/schemas/Metadata"},
        },
    },
    "Metadata": {
        "type": ["object", "null"],
        "description": "Optional. Other keys are ignored; null counts as not given, here and in the keys.",
        "properties": {
            "message_id": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_ID, "pattern": ONE_LINE},
                    {"type": "integer", "minimum": -(2**63) + 1, "maximum": 2**63 - 1},
                    {"type": "null"},
                ],
                "description": "Your id for this delivery: a repeat with the same id (from the same sender) "
                "is applied once and answered with the same replies.",
            },
            "callback_url": {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": MAX_URL,
                "description": "Reply by POSTing the messages to this http(s) URL instead of in the answer "
                "(callback mode). Loopback, private, link-local and metadata addresses are refused.",
            },
            "language": {
                "type": ["string", "null"],
                "maxLength": MAX_TAG,
                "pattern": LANGUAGE_TAG,
                "examples": ["pt-BR", "en"],
                "description": "The language the person uses, as a language tag (BCP 47, such as `pt-BR`; "
                "`pt_BR` and any letter case are read too). cxbot answers in it when it speaks it, also "
                "`pt-PT` or `pt` for `pt-BR`, and otherwise in its default language; a choice the person "
                "made with `/language` wins over it.",
            },
        },
    },
    "RestMessage": {
        "type": "object",
        "required": ["recipient_id"],
        "properties": {
            "recipient_id": {"type": "string"},
            "text": {"type": "string", "description": "Light Markdown, HTML-escaped."},
            "buttons": {"type": "array", "items": {"$ref": "#/components/schemas/Button"}},
            "image": {"type": "string", "format": "uri", "description": "Absolute URL of a PNG chart."},
        },
    },
    "Button": {
        "type": "object",
        "required": ["title", "payload"],
        "properties": {
            "title": {"type": "string", "description": "HTML-escaped label."},
            "payload": {"type": "string", "description": "Send it back as `message` to press the button."},
        },
    },
    "Messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/RestMessage"}},
    "Accepted": {
        "type": "object",
        "required": ["status", "messages"],
        "properties": {
            "status": {"type": "string", "enum": ["accepted"]},
            "messages": {"type": "integer", "minimum": 1, "description": "How many messages will be POSTed."},
        },
    },
}

SIGNED = (
    f"A bridge signs its requests with `CXBOT_WEBHOOK_SECRET`: `{TIMESTAMP_HEADER}` (Unix seconds) and "
    f'`{SIGNATURE_HEADER}: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">`; see docs/webhook.md. '
    "A signed request speaks for the bridge's people; an unsigned one for a web visitor, kept apart "
    "(the same `sender` names two different people)."
)
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait."}
}


def _retry(description: str) -> dict[str, Any]:
    return {**_error(description), "headers": RETRY_AFTER}


def _post(summary: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": SIGNED,
        "parameters": [
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Stands in for `metadata.message_id`.",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_MESSAGE_ID,
                    "pattern": ONE_LINE,
                },
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RestRequest"}}},
        },
        "responses": {
            "200": ok,
            "400": _error("Malformed JSON, a missing or invalid field, or a refused callback URL."),
            "401": _error(
                "A stale or wrong signature; a signature the server has no secret for; an unsigned "
                "request where visitors are not taken, or a visitor id the server did not issue."
            ),
            "409": _error("This exact signed request was already applied (sign it again to resend)."),
            "413": _error("The body is larger than CXBOT_MAX_BODY_BYTES."),
            "415": _error("The body is not sent as application/json."),
            "429": _retry("Too many messages from this sender or address; nothing was applied."),
            "503": _retry(
                "The database is busy, or a copy of this signed request is being handled right now; "
                "nothing was applied. Send it again (the same message id, or the same signed bytes)."
            ),
        },
    }


def _visitors() -> dict[str, Any]:
    issued = {
        "type": "object",
        "required": ["sender"],
        "properties": {"sender": {"type": "string", "minLength": 1, "maxLength": MAX_SENDER}},
    }
    return {
        "summary": "A new visitor id for a web chat",
        "description": "An unguessable id to send as `sender` (unsigned); keep it to resume later.",
        "responses": {
            "201": _json(issued, "The id."),
            "403": _error("This server takes no web visitors (CXBOT_WEB_VISITORS=none)."),
            "429": _retry("Too many requests from this address."),
        },
    }


def _preflight() -> dict[str, Any]:
    return {
        "summary": "CORS preflight",
        "responses": {
            "204": {
                "description": f"Allowed; the allowed request headers are {ALLOWED_HEADERS}.",
                "headers": {"Access-Control-Allow-Methods": {"schema": {"type": "string"}}},
            },
            "403": _error("The Origin is not in CXBOT_CORS_ORIGINS."),
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document; `settings` supply the server URL when `CXBOT_PUBLIC_URL` is set."""
    accepted = _json(
        {"$ref": "#/components/schemas/Accepted"}, "Callback mode: handled; the replies will be POSTed."
    )
    either = _json(
        {"oneOf": [{"$ref": "#/components/schemas/Messages"}, {"$ref": "#/components/schemas/Accepted"}]},
        "The replies, or (with metadata.callback_url) an acknowledgement.",
    )
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "cxbot",
            "version": "1",
            "description": "Maturity self-assessments as a chat, over Rasa's REST channel protocol.",
        },
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "The process and its database are up",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Status"}, "Up."),
                        "503": _json(
                            {"$ref": "#/components/schemas/Status"}, "The database does not answer."
                        ),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
            STATUS_PATH: {
                "get": {
                    "summary": "The webhook channel is up (Rasa's status route)",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Status"}, "Up.")},
                },
                "options": _preflight(),
            },
            REST_PATH: {"post": _post("Send a message, get the replies", either), "options": _preflight()},
            VISITORS_PATH: {"post": _visitors(), "options": _preflight()},
            CALLBACK_PATH: {
                "post": _post(
                    "Send a message; the replies are POSTed to metadata.callback_url or CXBOT_CALLBACK_URL",
                    accepted,
                ),
                "options": _preflight(),
            },
            "/charts/{token}.png": {
                "get": {
                    "summary": "A result's chart",
                    "parameters": [
                        {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "The chart.",
                            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                        },
                        "404": _error("No result has this token (or it was deleted)."),
                    },
                }
            },
            "/calculations/{token}.csv": {
                "get": {
                    "summary": "A calculator's figures as CSV (the summary's link, and what /csv shows)",
                    "parameters": [
                        {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "A row per input and figure: its label, value and formula.",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        "404": _error("No calculation has this token (or it was deleted)."),
                    },
                }
            },
            "/chat/strings": {
                "get": {
                    "summary": "The web chat's own words in the first language of a list the bot speaks",
                    "description": "For `bot/web/static/chat.js`: the message catalogue's `web_*` words "
                    "(placeholders such as `{title}` left for the page to fill in), English standing in "
                    "for any a language lacks. Without `lang`, the Accept-Language header decides.",
                    "parameters": [
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "description": "Language tags, most wanted first: `navigator.languages` "
                            "joined with commas, such as `pt-BR,pt,en`.",
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The words, and the language they are in (`matched` is false "
                            "when none of the list is spoken, and the words are the default language's).",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["locale", "matched", "strings"],
                                        "properties": {
                                            "locale": {"type": "string"},
                                            "matched": {"type": "boolean"},
                                            "strings": {
                                                "type": "object",
                                                "additionalProperties": {"type": "string"},
                                            },
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The web chat page, in the language Accept-Language (or `lang`) asks for",
                    "responses": {
                        "200": {
                            "description": "The page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "404": _error("The page is not installed."),
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
    if settings.public_url:
        document["servers"] = [{"url": settings.public_url.rstrip("/")}]
    return document
