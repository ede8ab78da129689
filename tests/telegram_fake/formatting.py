"""Telegram text formatting (``parse_mode``): HTML, MarkdownV2 and legacy Markdown parsers.

Each parser turns the text a bot sends into what Telegram stores: the plain text plus its entities
(offsets/lengths in UTF-16 code units), and raises :class:`EntityParseError` with Telegram's own wording
(tdlib's) for text Telegram refuses with "Bad Request: can't parse entities: ...".
Reference: https://core.telegram.org/bots/api#formatting-options
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")


@dataclass(frozen=True)
class FormattedText:
    """Plain text after entity parsing and the entities Telegram would attach to the message."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()


class EntityParseError(ValueError):
    """Text Telegram refuses; the message is what follows "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of Telegram entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def parse_formatted(text: str, parse_mode: str | None, *, strict_html: bool = True) -> FormattedText:
    """Parse ``text`` according to ``parse_mode`` (case-insensitive; None/"" means plain text).

    Raises ``ValueError`` for an unknown parse mode and :class:`EntityParseError` for malformed text.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        return FormattedText(text)
    if mode == "html":
        return parse_html(text, strict=strict_html)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


class _Builder:
    """Accumulates output text and entities, tracking the UTF-16 offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.offset += utf16_len(chunk)

    def entity(self, kind: str, start: int, end: int | None = None, **extra: Any) -> None:
        length = (self.offset if end is None else end) - start
        if length > 0:  # Telegram drops empty entities
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> FormattedText:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.parts), tuple(ordered))


def _language(language: str | None) -> dict[str, Any]:
    return {"language": language} if language else {}


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------------- HTML

_HTML_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
HTML_TAGS = frozenset({*_HTML_SIMPLE_TAGS, "span", "a", "code", "pre", "blockquote", "tg-emoji", "tg-time"})
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_HTML_SPECIAL_RE = re.compile(r"[&<>]")
_HTML_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_HTML_ATTR_RE = re.compile(r"[a-zA-Z0-9_-]+")
_SPACES = " \t\r\n"


def _decode_html_entity(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _HTML_NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape_attribute(value: str) -> str:
    return _HTML_ENTITY_RE.sub(lambda m: _decode_html_entity(m) or m.group(0), value)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    position: int
    extra: dict[str, Any] = field(default_factory=dict)


class _HtmlParser:
    def __init__(self, source: str, *, strict: bool) -> None:
        self.src = source
        self.strict = strict
        self.out = _Builder()
        self.stack: list[_OpenTag] = []

    def error(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def offset(self, index: int) -> int:
        return _byte_offset(self.src, index)

    def parse(self) -> FormattedText:
        i = 0
        while i < len(self.src):
            match = _HTML_SPECIAL_RE.search(self.src, i)
            end = match.start() if match else len(self.src)
            if end > i:
                self.out.add(self.src[i:end])
            if match is None:
                break
            i = self.special(end)
        if self.stack:
            raise self.error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return self.out.result()

    def special(self, i: int) -> int:
        char = self.src[i]
        if char == "&":
            return self.ampersand(i)
        if char == "<":
            return self.end_tag(i) if self.src.startswith("</", i) else self.start_tag(i)
        if self.strict:
            raise self.error(f"Character '>' at byte offset {self.offset(i)} must be escaped as \"&gt;\"")
        self.out.add(char)
        return i + 1

    def ampersand(self, i: int) -> int:
        match = _HTML_ENTITY_RE.match(self.src, i)
        decoded = _decode_html_entity(match) if match else None
        if match is not None and decoded is not None:
            self.out.add(decoded)
            return match.end()
        if self.strict:
            raise self.error(f"Character '&' at byte offset {self.offset(i)} must be escaped as \"&amp;\"")
        self.out.add("&")
        return i + 1

    def skip_spaces(self, i: int) -> int:
        while i < len(self.src) and self.src[i] in _SPACES:
            i += 1
        return i

    def start_tag(self, i: int) -> int:
        name_match = _HTML_NAME_RE.match(self.src, i + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if name not in HTML_TAGS:
            raise self.error(f'Unsupported start tag "{name}" at byte offset {self.offset(i)}')
        attrs, end = self.attributes(name_match.end(), name, i)
        tag = _OpenTag(name, attrs, self.out.offset, i)
        self.check_tag(tag)
        self.stack.append(tag)
        return end

    def attributes(self, j: int, name: str, tag_pos: int) -> tuple[dict[str, str], int]:
        attrs: dict[str, str] = {}
        while True:
            j = self.skip_spaces(j)
            if j >= len(self.src):
                raise self.error(f"Unclosed start tag at byte offset {self.offset(tag_pos)}")
            if self.src[j] == ">":
                return attrs, j + 1
            attr = _HTML_ATTR_RE.match(self.src, j)
            if attr is None:
                raise self.error(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.offset(tag_pos)}'
                )
            key = attr.group(0).lower()
            j = self.skip_spaces(attr.end())
            value = ""
            if j < len(self.src) and self.src[j] == "=":
                value, j = self.attribute_value(self.skip_spaces(j + 1), tag_pos)
            attrs[key] = value

    def attribute_value(self, j: int, tag_pos: int) -> tuple[str, int]:
        if j >= len(self.src):
            raise self.error(f"Unclosed start tag at byte offset {self.offset(tag_pos)}")
        quote = self.src[j]
        if quote in "\"'":
            end = self.src.find(quote, j + 1)
            if end < 0:
                raise self.error(f"Unclosed start tag at byte offset {self.offset(tag_pos)}")
            return _unescape_attribute(self.src[j + 1 : end]), end + 1
        end = j
        while end < len(self.src) and self.src[end] not in _SPACES and self.src[end] != ">":
            end += 1
        return _unescape_attribute(self.src[j:end]), end

    def check_tag(self, tag: _OpenTag) -> None:
        where = f"at byte offset {self.offset(tag.position)}"
        if tag.name == "span" and tag.attrs.get("class") != "tg-spoiler":
            raise self.error(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag.name == "tg-emoji" and not tag.attrs.get("emoji-id"):
            raise self.error(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        if tag.name == "tg-time" and not tag.attrs.get("unix", "").lstrip("-").isdigit():
            raise self.error(f'Tag "tg-time" must have attribute "unix" {where}')

    def end_tag(self, i: int) -> int:
        name_match = _HTML_NAME_RE.match(self.src, i + 2)
        assert name_match is not None
        name = name_match.group(0).lower()
        j = self.skip_spaces(name_match.end())
        if j >= len(self.src) or self.src[j] != ">":
            raise self.error(f"Unclosed end tag at byte offset {self.offset(i)}")
        if not self.stack:
            raise self.error(f"Unexpected end tag at byte offset {self.offset(i)}")
        top = self.stack[-1]
        if top.name != name:
            expected = f'expected "</{top.name}>", found "</{name}>"'
            raise self.error(f"Unmatched end tag at byte offset {self.offset(i)}, {expected}")
        self.stack.pop()
        self.emit(top)
        return j + 1

    def emit(self, tag: _OpenTag) -> None:
        out, attrs = self.out, tag.attrs
        if tag.name in _HTML_SIMPLE_TAGS:
            out.entity(_HTML_SIMPLE_TAGS[tag.name], tag.start)
        elif tag.name == "span":
            out.entity("spoiler", tag.start)
        elif tag.name == "a":
            if attrs.get("href"):
                out.entity("text_link", tag.start, url=attrs["href"])
        elif tag.name == "code":
            self.emit_code(tag)
        elif tag.name == "pre":
            language = tag.extra.get("language")
            out.entity("pre", tag.start, **_language(language))
        elif tag.name == "blockquote":
            out.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", tag.start)
        elif tag.name == "tg-emoji":
            out.entity("custom_emoji", tag.start, custom_emoji_id=attrs["emoji-id"])
        else:  # tg-time
            extra: dict[str, Any] = {"unix_time": int(attrs["unix"])}
            if attrs.get("format"):
                extra["date_time_format"] = attrs["format"]
            out.entity("date_time", tag.start, **extra)

    def emit_code(self, tag: _OpenTag) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and parent.name == "pre":
            css = tag.attrs.get("class", "")
            if css.startswith("language-"):
                parent.extra["language"] = css.removeprefix("language-")
            return
        self.out.entity("code", tag.start)


def parse_html(source: str, *, strict: bool = True) -> FormattedText:
    """Parse Telegram HTML.

    Accepts exactly Telegram's tags (b/strong, i/em, u/ins, s/strike/del, span class="tg-spoiler",
    tg-spoiler, a href, code, pre, blockquote [expandable], tg-emoji emoji-id, tg-time unix) and the
    entities &lt; &gt; &amp; &quot; plus numeric ones. Unsupported, unclosed or mismatched tags fail
    like Telegram. With ``strict`` (default) a bare ``&`` that starts no entity and a bare ``>`` also
    fail: Telegram's docs require escaping them although its parser tolerates them, and a bot that
    leaves them unescaped has almost certainly forgotten to escape user-supplied text.
    """
    return _HtmlParser(source, strict=strict).parse()


# ---------------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MDV2_CLOSERS = {"bold": "*", "italic": "_", "underline": "__", "strikethrough": "~", "spoiler": "||"}


@dataclass
class _MdEntity:
    kind: str
    start: int
    position: int
    language: str | None = None


class _MarkdownV2Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        self.stack: list[_MdEntity] = []
        self.quote: tuple[int, bool] | None = None

    def offset(self, index: int) -> int:
        return _byte_offset(self.src, index)

    def parse(self) -> FormattedText:
        i = 0
        while i < len(self.src):
            if (i == 0 or self.src[i - 1] == "\n") and not self.in_code():
                i = self.line_start(i)
                if i >= len(self.src):
                    break
            i = self.step(i)
        if self.stack:
            top = self.stack[-1]
            name = _MDV2_NAMES[top.kind]
            raise EntityParseError(
                f"Can't find end of {name} entity at byte offset {self.offset(top.position)}"
            )
        self.end_quote(self.out.offset)
        return self.out.result()

    def in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in ("code", "pre")

    def step(self, i: int) -> int:
        char = self.src[i]
        if char == "\\" and i + 1 < len(self.src) and 0 < ord(self.src[i + 1]) <= 126:
            self.out.add(self.src[i + 1])
            return i + 2
        if self.in_code():
            return self.code_char(i)
        if char not in _MDV2_RESERVED:
            self.out.add(char)
            return i + 1
        if self.is_quote_end_marker(i):
            self.end_quote(self.out.offset)
            return i + 2
        if self.stack and self.closes(self.stack[-1], i):
            return self.close(i)
        return self.open(i)

    def line_start(self, i: int) -> int:
        expandable = self.src.startswith("**>", i)
        if expandable or self.src[i] == ">":
            if expandable or self.quote is None:
                self.end_quote(self.out.offset - 1)
                self.quote = (self.out.offset, expandable)
            return i + (3 if expandable else 1)
        if self.quote is not None:
            self.end_quote(self.out.offset - 1)  # exclude the line feed that ended the quote
        return i

    def end_quote(self, end: int) -> None:
        if self.quote is not None:
            start, expandable = self.quote
            self.out.entity("expandable_blockquote" if expandable else "blockquote", start, end)
            self.quote = None

    def is_quote_end_marker(self, i: int) -> bool:
        if self.quote is None or not self.quote[1] or not self.src.startswith("||", i):
            return False
        if any(entity.kind == "spoiler" for entity in self.stack):
            return False
        return i + 2 == len(self.src) or self.src[i + 2] == "\n"

    def code_char(self, i: int) -> int:
        top = self.stack[-1]
        if top.kind == "code" and self.src[i] == "`":
            self.stack.pop()
            self.out.entity("code", top.start)
            return i + 1
        if top.kind == "pre" and self.src.startswith("```", i):
            self.stack.pop()
            self.out.entity("pre", top.start, **_language(top.language))
            return i + 3
        self.out.add(self.src[i])
        return i + 1

    def closes(self, top: _MdEntity, i: int) -> bool:
        if top.kind in ("text_link", "custom_emoji"):
            return self.src[i] == "]"
        closer = _MDV2_CLOSERS[top.kind]
        if top.kind == "italic":
            return self.src[i] == "_" and not self.src.startswith("__", i)
        return self.src.startswith(closer, i)

    def close(self, i: int) -> int:
        top = self.stack.pop()
        if top.kind not in ("text_link", "custom_emoji"):
            self.out.entity(top.kind, top.start)
            return i + len(_MDV2_CLOSERS[top.kind])
        if not self.src.startswith("(", i + 1):
            return i + 1  # "[text]" without a URL is plain text
        url, end = self.link_url(i + 1)
        if top.kind == "text_link":
            self.out.entity("text_link", top.start, url=url)
        else:
            self.emit_custom_emoji(top, url)
        return end

    def link_url(self, j: int) -> tuple[str, int]:
        chars: list[str] = []
        k = j + 1
        while k < len(self.src) and self.src[k] != ")":
            if self.src[k] == "\\" and k + 1 < len(self.src):
                k += 1
            chars.append(self.src[k])
            k += 1
        if k >= len(self.src):
            raise EntityParseError(f"Can't find end of a URL at byte offset {self.offset(j)}")
        return "".join(chars), k + 1

    def emit_custom_emoji(self, top: _MdEntity, url: str) -> None:
        if url.startswith("tg://emoji?id="):
            self.out.entity("custom_emoji", top.start, custom_emoji_id=url.removeprefix("tg://emoji?id="))
            return
        match = re.fullmatch(r"tg://time\?unix=(-?\d+)(?:&format=(\w+))?", url)
        if match is None:
            raise EntityParseError("Custom emoji URL must have an emoji identifier")
        extra: dict[str, Any] = {"unix_time": int(match.group(1))}
        if match.group(2):
            extra["date_time_format"] = match.group(2)
        self.out.entity("date_time", top.start, **extra)

    def open(self, i: int) -> int:
        src, char = self.src, self.src[i]
        if src.startswith("__", i):
            return self.push("underline", i, 2)
        simple = {"_": "italic", "*": "bold", "~": "strikethrough", "[": "text_link"}
        if char in simple:
            return self.push(simple[char], i, 1)
        if src.startswith("||", i):
            return self.push("spoiler", i, 2)
        if src.startswith("![", i):
            return self.push("custom_emoji", i, 2)
        if src.startswith("```", i):
            return self.open_pre(i)
        if char == "`":
            return self.push("code", i, 1)
        raise EntityParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")

    def push(self, kind: str, i: int, width: int) -> int:
        self.stack.append(_MdEntity(kind, self.out.offset, i))
        return i + width

    def open_pre(self, i: int) -> int:
        j = i + 3
        newline = self.src.find("\n", j)
        language = None
        if newline >= 0 and "`" not in self.src[j:newline] and " " not in self.src[j:newline].strip():
            language = self.src[j:newline].strip() or None
            j = newline + 1
        self.stack.append(_MdEntity("pre", self.out.offset, i, language))
        return j


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse Telegram MarkdownV2, enforcing its escaping rules (every reserved character outside an
    entity must be escaped with a backslash, e.g. "." and "!")."""
    return _MarkdownV2Parser(source).parse()


# ------------------------------------------------------------------------------------ legacy Markdown

_MD_KINDS = {"_": "italic", "*": "bold"}


def _markdown_entity(source: str, i: int, out: _Builder) -> int:
    char = source[i]
    opening = "```" if source.startswith("```", i) else char
    closing = ")" if char == "[" else opening
    search_from = i + len(opening)
    end = source.find("]", search_from) if char == "[" else source.find(closing, search_from)
    if end < 0:
        raise EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}"
        )
    start = out.offset
    if char == "[":
        url_end = source.find(")", end) if source.startswith("(", end + 1) else -1
        if url_end < 0:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}"
            )
        out.add(source[search_from:end])
        out.entity("text_link", start, url=source[end + 2 : url_end])
        return url_end + 1
    out.add(source[search_from:end])
    kind = "pre" if opening == "```" else _MD_KINDS.get(char, "code")
    out.entity(kind, start)
    return end + len(closing)


def parse_markdown(source: str) -> FormattedText:
    """Parse legacy Telegram Markdown (*bold*, _italic_, `code`, ```pre```, [text](url))."""
    out = _Builder()
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
        elif char in "_*`[":
            i = _markdown_entity(source, i, out)
        else:
            out.add(char)
            i += 1
    return out.result()
