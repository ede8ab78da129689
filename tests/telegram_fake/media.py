"""Small media helpers: valid PNG bytes for tests and image-size sniffing (PNG, JPEG, GIF, WebP)."""

from __future__ import annotations

import struct
import zlib

# Telegram generates these thumbnail sizes (longest side, in pixels) for every photo it receives.
PHOTO_SIZE_LIMITS = (90, 320, 800, 1280)
MAX_PHOTO_SIDE = 2560


def make_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid, solid-colour PNG image of the given size (Telegram accepts it as a photo)."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image, or None if ``data`` is not one of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return width, height
        if data[12:16] == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        return 1, 1
    return None


def photo_size_steps(width: int, height: int) -> list[tuple[int, int]]:
    """The (width, height) variants Telegram stores for a photo: thumbnails plus the (capped) original."""
    longest = max(width, height, 1)
    steps: list[tuple[int, int]] = []
    for limit in PHOTO_SIZE_LIMITS:
        if longest > limit:
            scale = limit / longest
            steps.append((max(1, round(width * scale)), max(1, round(height * scale))))
    scale = min(1.0, MAX_PHOTO_SIDE / longest)
    steps.append((max(1, round(width * scale)), max(1, round(height * scale))))
    return steps
