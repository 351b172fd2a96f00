"""QR images of a SMART Health Card: the byte segment ``shc:/`` then the digits in numeric mode, error correction
L, at most version 22, and a fixed mask (choosing the mask is most of segno's time; a fixed mask is allowed by
ISO/IEC 18004 and keeps issuance fast)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import segno
from segno import consts

from tsunagu.credentials.core import shc

MAX_VERSION = 22
FIXED_MASK = 0


def make(jws: str, *, mask: int | None = FIXED_MASK) -> segno.QRCode:
    """The QR symbol for one JWS; QrTooLarge when it does not fit one code. ``mask=None`` lets segno choose."""
    digits = shc.to_numeric(jws)[len(shc.QR_PREFIX) :]
    segments: Any = [
        (shc.QR_PREFIX, consts.MODE_BYTE),
        (digits, consts.MODE_NUMERIC),
    ]  # typed as str upstream
    code = segno.make_qr(
        segments,
        error="l",
        boost_error=False,
        mask=mask,
    )
    if isinstance(code.version, int) and code.version > MAX_VERSION:
        raise shc.QrTooLarge(len(jws))
    return code


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(jws: str, *, scale: int = 4, border: int = 4) -> bytes:
    """A 1-bit greyscale PNG of the symbol (written here: segno's PNG writer takes longer than the symbol)."""
    matrix = make(jws).matrix
    size = (len(matrix) + 2 * border) * scale
    light, dark = "1" * scale, "0" * scale
    quiet = light * border
    blank = b"\0" + _bits(light * (len(matrix) + 2 * border))
    rows = [blank] * (border * scale)
    for row in matrix:
        line = b"\0" + _bits(quiet + "".join(dark if module else light for module in row) + quiet)
        rows += [line] * scale
    rows += [blank] * (border * scale)
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"".join(rows), 6)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _bits(pixels: str) -> bytes:
    padded = pixels + "0" * (-len(pixels) % 8)
    return int(padded, 2).to_bytes(len(padded) // 8, "big")


def svg(jws: str, *, scale: int = 4) -> str:
    out = io.BytesIO()
    make(jws).save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue().decode("utf-8")
