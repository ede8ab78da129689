"""The Telegram Bot API specification (``tests/data/telegram-bot-api/api.json``) and validation against it.

:meth:`BotApiSpec.validate_call` checks a method call the way the fake server receives it (form fields
are strings, JSON-serialized objects, ``attach://`` file references, multipart file parts) and returns the
typed parameters, or raises :class:`~tests.telegram_fake.errors.ApiError` with the answer Telegram would
give. Limits are read from the field descriptions ("1-4096 characters", "1-64 bytes", "At most 100",
"Only characters A-Z, ...", 'must be one of "..."'); the few rules api.json cannot express are tables below.
Like Telegram, "characters" are counted in UTF-16 code units (an emoji outside the BMP counts 2) and, for
formatted text, in the text left after parsing the markup; "bytes" are UTF-8 bytes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ApiError, bad_request
from .formatting import PARSE_MODES, EntityParseError, parse_formatted, utf16_len
from .models import UploadedFile

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "telegram-bot-api" / "api.json"

_PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})
_ARRAY_PREFIX = "Array of "
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_LENGTH_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_ITEMS_RE = re.compile(r"[Aa]t most (\d+) |must include (\d+)-(\d+) items")
_CHOICES_RE = re.compile(r"[Mm]ust be one of (.*?)(?:\.\s|\.$|$)")
_CONST_RE = re.compile(r"must be ([a-z_]+)$")
_REQUIRED_IF_RE = re.compile(r"[Rr]equired if (\w+)(?: and (\w+))? (?:is not|are not|isn't) specified")
_ONE_OF_RE = re.compile(
    r"(?P<kind>Exactly|At most|exactly) one of the (?:fields other than (?P<others>[\w, ]+?)"
    r"|fields (?P<a>\w+) or (?P<b>\w+)|optional fields)(?: must| can)"
)

# Character sets Telegram states in prose; phrase found in the description -> allowed characters.
_CHARSETS: tuple[tuple[str, str], ...] = (
    ("only lowercase English letters, digits and underscores", r"[a-z0-9_]*"),
    ("A-Z, a-z, 0-9, _ and - are allowed", r"[A-Za-z0-9_-]*"),
)
# Telegram's fixed error texts for some limit violations (api.json only has the limits themselves).
# Keys are (object or method name, field); "*" matches any owner.
_LIMIT_ERRORS: dict[tuple[str, str], tuple[str, str]] = {  # -> (too short / invalid, too long)
    ("sendMessage", "text"): ("message text is empty", "message is too long"),
    ("editMessageText", "text"): ("message text is empty", "message is too long"),
    ("InputTextMessageContent", "message_text"): ("message text is empty", "message is too long"),
    ("*", "caption"): ("message caption is empty", "message caption is too long"),
    ("answerCallbackQuery", "text"): ("MESSAGE_TOO_LONG", "MESSAGE_TOO_LONG"),
    ("InlineKeyboardButton", "callback_data"): ("BUTTON_DATA_INVALID", "BUTTON_DATA_INVALID"),
    ("BotCommand", "command"): ("BOT_COMMAND_INVALID", "BOT_COMMAND_INVALID"),
    ("BotCommand", "description"): ("BOT_COMMAND_DESCRIPTION_INVALID", "BOT_COMMAND_DESCRIPTION_INVALID"),
}
# Telegram's texts for a missing required top-level parameter (default: "<name> is empty").
_MISSING_ERRORS: dict[str, str] = {
    "text": "message text is empty",
    "photo": "there is no photo in the request",
}
# sendChatAction's "action" lists its values in prose ("typing for text messages, upload_photo for ...").
_CHAT_ACTION_RE = re.compile(r"\b([a-z]+(?:_[a-z]+)*) (?:for|or) ")
_ONE_OF_ERRORS: dict[str, tuple[str, str]] = {  # -> (none given, several given)
    "InlineKeyboardButton": (
        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        "can't parse inline keyboard button: exactly one button type field must be used",
    ),
}


@dataclass(frozen=True)
class OneOfRule:
    """A type-level rule 'exactly / at most one of these fields must be present'."""

    exactly: bool
    fields: frozenset[str]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a method or type, with the constraints derived from its description."""

    owner: str
    name: str
    types: tuple[str, ...]
    required: bool
    description: str
    min_length: int | None = None
    max_length: int | None = None
    length_unit: str = "characters"
    charset: str | None = None
    choices: tuple[str, ...] = ()
    const: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    required_unless: tuple[str, ...] = ()
    formatted_by: str | None = None

    def element(self, inner: str) -> FieldSpec:
        """The spec of one element of an ``Array of <inner>`` field (item-count limits dropped)."""
        return replace(self, types=(inner,), min_items=None, max_items=None)


@dataclass(frozen=True)
class ObjectSpec:
    """A Bot API method (``is_method``) or type: its fields, subtypes and return types."""

    name: str
    fields: Mapping[str, FieldSpec]
    description: str = ""
    subtypes: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()
    is_method: bool = False
    one_of: OneOfRule | None = None
    accepts_string: bool = False


@dataclass(frozen=True)
class ValidatedCall:
    """A method call that passed validation: canonical method name, typed params, all uploaded parts."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)


class SpecMismatchError(ValueError):
    """Raised by :meth:`BotApiSpec.validate_object` when a Telegram object does not match the spec."""


def _length_limits(description: str) -> dict[str, Any]:
    match = _LENGTH_RE.search(description)
    if match is None:
        return {}
    return {"min_length": int(match[1]), "max_length": int(match[2]), "length_unit": match[3]}


def _item_limits(types: Iterable[str], description: str) -> dict[str, Any]:
    if not any(t.startswith(_ARRAY_PREFIX) for t in types):
        return {}
    match = _ITEMS_RE.search(description)
    if match is None:
        return {}
    if match[1]:
        return {"max_items": int(match[1])}
    return {"min_items": int(match[2]), "max_items": int(match[3])}


def _choices(owner: str, name: str, description: str) -> tuple[str, ...]:
    if (owner, name) == ("sendChatAction", "action"):
        return tuple(dict.fromkeys(_CHAT_ACTION_RE.findall(description.split(":", 1)[-1])))
    match = _CHOICES_RE.search(description)
    return tuple(re.findall(r'"([^"]*)"', match[1])) if match else ()


def _charset(description: str) -> str | None:
    return next((chars for phrase, chars in _CHARSETS if phrase in description), None)


def _required_unless(description: str) -> tuple[str, ...]:
    match = _REQUIRED_IF_RE.search(description)
    return tuple(name for name in (match[1], match[2]) if name) if match else ()


def _formatted_by(name: str, siblings: Iterable[str], description: str) -> str | None:
    names = set(siblings)
    if f"{name}_parse_mode" in names:
        return f"{name}_parse_mode"
    if "parse_mode" in names and (
        name in ("text", "caption", "message_text") or "after entit" in description
    ):
        return "parse_mode"
    return None


def _field_spec(owner: str, raw: Mapping[str, Any], siblings: Iterable[str]) -> FieldSpec:
    description = str(raw.get("description", ""))
    types = tuple(raw["types"])
    const = _CONST_RE.search(description.strip()) if types == ("String",) else None
    return FieldSpec(
        owner=owner,
        name=raw["name"],
        types=types,
        required=bool(raw.get("required")),
        description=description,
        charset=_charset(description),
        choices=_choices(owner, raw["name"], description) if "String" in types else (),
        const=const[1] if const else None,
        required_unless=_required_unless(description),
        formatted_by=_formatted_by(raw["name"], siblings, description),
        **_length_limits(description),
        **_item_limits(types, description),
    )


def _one_of_rule(description: str, fields: Mapping[str, FieldSpec]) -> OneOfRule | None:
    match = _ONE_OF_RE.search(description)
    if match is None:
        return None
    if match["others"]:
        others = {name.strip() for name in re.split(r",|\band\b", match["others"]) if name.strip()}
        candidates = {name for name in fields if name not in others}
    elif match["a"]:
        candidates = {match["a"], match["b"]}
    else:
        candidates = {name for name, spec in fields.items() if not spec.required}
    return OneOfRule(exactly=match["kind"].lower() == "exactly", fields=frozenset(candidates))


def _object_spec(name: str, raw: Mapping[str, Any], *, is_method: bool) -> ObjectSpec:
    raw_fields = raw.get("fields", [])
    siblings = [f["name"] for f in raw_fields]
    fields = {f["name"]: _field_spec(name, f, siblings) for f in raw_fields}
    description = " ".join(raw.get("description", []))
    return ObjectSpec(
        name=name,
        fields=fields,
        description=description,
        subtypes=tuple(raw.get("subtypes", [])),
        returns=tuple(raw.get("returns", [])),
        is_method=is_method,
        one_of=_one_of_rule(description, fields),
        accepts_string="String can be used instead of this object" in description,
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _MismatchError(ApiError):
    """A value that is not of the tried type at all (used to pick the best error among union members)."""

    def __init__(self, message: str, score: float = 0.0) -> None:
        super().__init__(400, f"Bad Request: {message}", detail=message)
        self.score = score


class _Validator:
    """One validation run: tracks the uploaded files and which of them were referenced."""

    def __init__(self, spec: BotApiSpec, files: Mapping[str, UploadedFile], *, strict_html: bool) -> None:
        self.spec = spec
        self.files = dict(files)
        self.consumed: set[str] = set()
        self.strict_html = strict_html

    # -- objects -------------------------------------------------------------------------------
    def fields(
        self, owner: ObjectSpec, value: Mapping[str, Any], path: str, *, coerce: bool
    ) -> dict[str, Any]:
        present = {key: item for key, item in value.items() if item is not None}
        self.check_keys(owner, present, path)
        self.check_missing(owner, present, path)
        out = {
            key: self.value(owner.fields[key], item, _join(path, key), coerce=coerce)
            for key, item in present.items()
        }
        for spec in owner.fields.values():
            if spec.formatted_by and isinstance(out.get(spec.name), str):
                self.check_formatted(spec, out, _join(path, spec.name))
        self.check_one_of(owner, out, path)
        return out

    def check_keys(self, owner: ObjectSpec, present: Mapping[str, Any], path: str) -> None:
        known = sum(1 for key in present if key in owner.fields)
        unknown = [key for key in present if key not in owner.fields]
        if unknown:
            where = f"method {owner.name}" if owner.is_method else f"{owner.name} at {path or '<root>'}"
            raise _MismatchError(f'unknown parameter "{unknown[0]}" for {where}', score=known - len(unknown))
        for key, spec in owner.fields.items():
            if spec.const is not None and key in present and present[key] != spec.const:
                raise _MismatchError(f'{_join(path, key)} must be "{spec.const}" for {owner.name}', score=-1)

    def check_missing(self, owner: ObjectSpec, present: Mapping[str, Any], path: str) -> None:
        for key, spec in owner.fields.items():
            if key in present:
                continue
            conditional = spec.required_unless and not any(name in present for name in spec.required_unless)
            if spec.required or conditional:
                detail = f"required parameter {_join(path, key)} of {owner.name} is missing"
                if owner.is_method:
                    raise bad_request(_MISSING_ERRORS.get(key, f"{key} is empty"), detail)
                raise bad_request(f'field "{key}" of {owner.name} is required at {path}', detail)

    def check_one_of(self, owner: ObjectSpec, out: Mapping[str, Any], path: str) -> None:
        rule = owner.one_of
        if rule is None:
            return
        used = sorted(name for name in out if name in rule.fields)
        if len(used) == 1 or (not rule.exactly and not used):
            return
        none_msg, many_msg = _ONE_OF_ERRORS.get(owner.name, ("", ""))
        detail = (
            f"{owner.name} at {path}: {'exactly' if rule.exactly else 'at most'} one of {sorted(rule.fields)}"
        )
        message = (none_msg if not used else many_msg) or f"{owner.name} at {path} uses {used or 'none'}"
        raise bad_request(message, f"{detail}, got {used}")

    # -- values --------------------------------------------------------------------------------
    def value(self, spec: FieldSpec, value: Any, path: str, *, coerce: bool) -> Any:
        if len(spec.types) == 1:
            return self.typed(spec.types[0], spec, value, path, coerce=coerce)
        errors: list[ApiError] = []
        for type_name in spec.types:
            try:
                return self.typed(type_name, spec, value, path, coerce=coerce)
            except ApiError as error:
                errors.append(error)
        raise self.best_error(errors, spec, path)

    @staticmethod
    def best_error(errors: list[ApiError], spec: FieldSpec, path: str) -> ApiError:
        deep = [error for error in errors if not isinstance(error, _MismatchError)]
        if deep:
            return deep[0]
        mismatches = [error for error in errors if isinstance(error, _MismatchError)]
        best = max(mismatches, key=lambda error: error.score)
        if best.score > 0:
            return best
        return _MismatchError(f"{path} must be of type {' or '.join(spec.types)}")

    def typed(self, type_name: str, spec: FieldSpec, value: Any, path: str, *, coerce: bool) -> Any:
        if type_name.startswith(_ARRAY_PREFIX):
            return self.array(
                spec.element(type_name.removeprefix(_ARRAY_PREFIX)), spec, value, path, coerce=coerce
            )
        if type_name == "String":
            return self.string(spec, value, path, coerce=coerce)
        if type_name == "InputFile":
            return self.input_file(value, path)
        if type_name in _PRIMITIVES:
            return self.scalar(type_name, value, path, coerce=coerce)
        return self.object(type_name, value, path, coerce=coerce)

    def decode_json(self, value: Any, path: str, *, coerce: bool) -> Any:
        if not (coerce and isinstance(value, str)):
            return value
        try:
            return json.loads(value)
        except ValueError as error:
            raise _MismatchError(f"can't parse {path} JSON object: {error}") from None

    def array(self, element: FieldSpec, spec: FieldSpec, value: Any, path: str, *, coerce: bool) -> list[Any]:
        value = self.decode_json(value, path, coerce=coerce)
        if not isinstance(value, list):
            raise _MismatchError(f"{path} must be an Array")
        count = len(value)
        if (spec.max_items is not None and count > spec.max_items) or (
            spec.min_items is not None and count < spec.min_items
        ):
            limit = f"{spec.min_items or 0}-{spec.max_items}"
            raise bad_request(f"{path} must have {limit} elements, got {count}")
        return [
            self.value(element, item, _join(path, index), coerce=False) for index, item in enumerate(value)
        ]

    def scalar(self, type_name: str, value: Any, path: str, *, coerce: bool) -> Any:
        if isinstance(value, str) and coerce:
            value = self.coerce_scalar(type_name, value)
        valid = {
            "Integer": isinstance(value, int) and not isinstance(value, bool),
            "Float": isinstance(value, int | float) and not isinstance(value, bool),
            "Boolean": isinstance(value, bool),
        }[type_name]
        if not valid:
            raise _MismatchError(f"{path} must be of type {type_name}")
        return value

    @staticmethod
    def coerce_scalar(type_name: str, value: str) -> Any:
        text = value.strip()
        if type_name == "Integer" and _INTEGER_RE.fullmatch(text):
            return int(text)
        if type_name == "Float":
            try:
                return float(text)
            except ValueError:
                return value
        if type_name == "Boolean" and text.lower() in ("true", "false", "1", "0"):
            return text.lower() in ("true", "1")
        return value

    def string(self, spec: FieldSpec, value: Any, path: str, *, coerce: bool) -> str:
        if coerce and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _MismatchError(f"{path} must be of type String")
        if value.startswith("attach://") and value.removeprefix("attach://") in self.files:
            self.consumed.add(value.removeprefix("attach://"))
        self.check_string(spec, value, path)
        return value

    def check_string(self, spec: FieldSpec, value: str, path: str) -> None:
        if spec.name == "parse_mode" or spec.name.endswith("_parse_mode"):
            if value and value.lower() not in {mode.lower() for mode in PARSE_MODES}:
                raise bad_request("unsupported parse_mode", f"{path}={value!r}")
            return
        if spec.choices and value not in spec.choices:
            message = "wrong parameter action in request" if spec.name == "action" else f"{path} is invalid"
            raise bad_request(message, f"{path}={value!r} is not one of {list(spec.choices)}")
        if spec.charset and not re.fullmatch(spec.charset, value):
            short, _ = self.limit_messages(spec, path)
            raise bad_request(short, f"{path}={value!r} has characters outside {spec.charset}")
        if not spec.formatted_by:
            self.check_length(spec, value, path)

    def check_length(self, spec: FieldSpec, value: str, path: str, *, formatted: bool = False) -> None:
        if spec.max_length is None or spec.min_length is None:
            return
        size = len(value.encode("utf-8")) if spec.length_unit == "bytes" else utf16_len(value)
        empty = not value.strip() if formatted else size < spec.min_length
        if size <= spec.max_length and not (spec.min_length > 0 and empty):
            return
        short, long = self.limit_messages(spec, path)
        limit = f"{spec.min_length}-{spec.max_length} {spec.length_unit}"
        raise bad_request(long if size > spec.max_length else short, f"{path} must be {limit}, got {size}")

    @staticmethod
    def limit_messages(spec: FieldSpec, path: str) -> tuple[str, str]:
        fixed = _LIMIT_ERRORS.get((spec.owner, spec.name)) or _LIMIT_ERRORS.get(("*", spec.name))
        if fixed:
            return fixed
        limit = f"{spec.min_length}-{spec.max_length} {spec.length_unit}"
        return f"{path} is invalid", f"{path} is too long (must be {limit})"

    def check_formatted(self, spec: FieldSpec, out: Mapping[str, Any], path: str) -> None:
        mode = out.get(spec.formatted_by or "")
        try:
            formatted = parse_formatted(out[spec.name], mode, strict_html=self.strict_html)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}", f"{path} with parse_mode={mode}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode", f"parse_mode={mode!r}") from None
        self.check_length(spec, formatted.text, path, formatted=True)

    def input_file(self, value: Any, path: str) -> UploadedFile:
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in self.files:
                raise bad_request(
                    "wrong file identifier/HTTP URL specified", f"{path}: no multipart part {name!r}"
                )
            self.consumed.add(name)
            return self.files[name]
        raise _MismatchError(f"{path} must be of type InputFile")

    def object(self, type_name: str, value: Any, path: str, *, coerce: bool) -> Any:
        spec = self.spec.types.get(type_name)
        if spec is None:
            raise KeyError(f"api.json has no type {type_name!r}")
        if spec.subtypes:
            union = FieldSpec(owner=type_name, name=path, types=spec.subtypes, required=True, description="")
            return self.value(union, value, path, coerce=coerce)
        value = self.decode_json(value, path, coerce=coerce)
        if isinstance(value, str) and spec.accepts_string:
            return value
        if not isinstance(value, dict):
            raise _MismatchError(f"{path} must be an object of type {type_name}")
        return self.fields(spec, value, path, coerce=False)


class BotApiSpec:
    """The parsed api.json: methods and types by name, plus validators for calls and objects."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = str(data.get("version", ""))
        self.methods: dict[str, ObjectSpec] = {
            name: _object_spec(name, raw, is_method=True) for name, raw in data["methods"].items()
        }
        self.types: dict[str, ObjectSpec] = {
            name: _object_spec(name, raw, is_method=False) for name, raw in data["types"].items()
        }
        self._method_names = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> BotApiSpec:
        """Read and parse an api.json file."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method(self, name: str) -> ObjectSpec | None:
        """The method called ``name`` (case-insensitive, like the Bot API), or None."""
        canonical = self._method_names.get(name.lower())
        return self.methods[canonical] if canonical else None

    def update_types(self) -> tuple[str, ...]:
        """Every update kind (the optional fields of ``Update``), e.g. "message", "callback_query"."""
        return tuple(name for name in self.types["Update"].fields if name != "update_id")

    def validate_call(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
        *,
        strict_html: bool = True,
    ) -> ValidatedCall:
        """Validate a call of ``method`` with ``params`` (JSON values or form strings) and ``files`` parts.

        Raises ApiError: 404 "Not Found" for an unknown method, 400 "Bad Request: ..." for anything
        Telegram would refuse (see the module docstring) or that api.json does not know.
        """
        spec = self.method(method)
        if spec is None:
            raise ApiError(404, "Not Found", detail=f"api.json has no method {method!r}")
        validator = _Validator(self, files or {}, strict_html=strict_html)
        merged = dict(params)
        for name, upload in validator.files.items():
            if name in spec.fields and name not in merged:
                merged[name] = upload
                validator.consumed.add(name)
        typed = validator.fields(spec, merged, "", coerce=True)
        unused = sorted(set(validator.files) - validator.consumed)
        if unused:
            raise bad_request(
                f'unknown parameter "{unused[0]}" for method {spec.name}', "unreferenced file part"
            )
        return ValidatedCall(spec.name, typed, dict(validator.files))

    def validate_object(self, type_name: str, value: Any, *, path: str = "") -> None:
        """Check that ``value`` (e.g. an Update the fake builds) is a valid Telegram ``type_name`` object.

        ``type_name`` may be a type, "Array of X", "Integer", "Boolean"... Raises SpecMismatchError.
        """
        validator = _Validator(self, {}, strict_html=False)
        spec = FieldSpec(
            owner="<result>", name=path or type_name, types=(type_name,), required=True, description=""
        )
        try:
            validator.value(spec, value, path or type_name, coerce=False)
        except ApiError as error:
            raise SpecMismatchError(f"not a valid {type_name}: {error.detail or error.description}") from None

    def validate_result(self, method: str, result: Any) -> None:
        """Check that ``result`` matches the documented return type of ``method``."""
        spec = self.method(method)
        if spec is None:
            raise SpecMismatchError(f"unknown method {method!r}")
        errors = []
        for type_name in spec.returns:
            try:
                self.validate_object(type_name, result, path=f"{spec.name} result")
            except SpecMismatchError as error:
                errors.append(str(error))
            else:
                return
        raise SpecMismatchError("; ".join(errors))


@functools.cache
def load_spec() -> BotApiSpec:
    """The project's copy of api.json, parsed once per process."""
    return BotApiSpec.load()
