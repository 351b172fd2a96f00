"""QR images of a SMART Health Card: the byte segment ``shc:/`` then the digits in numeric mode, error correction
L, at most version 22, and a fixed mask (choosing the mask is most of segno's time; a fixed mask is allowed by
ISO/IEC 18004 and keeps issuance fast)."""

from __future__ import annotations

import io
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


def png(jws: str, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    make(jws).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def svg(jws: str, *, scale: int = 4) -> str:
    out = io.BytesIO()
    make(jws).save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue().decode("utf-8")
