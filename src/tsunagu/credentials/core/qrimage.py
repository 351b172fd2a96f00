"""Read the ``shc:/`` text out of a QR image (PNG, JPEG, …) with zxing-cpp; several codes in one picture (the
chunks of an old multi-QR card) come back one per line, the order does not matter."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000


class NotAQrImage(ValueError):
    """The bytes are not an image, or the image holds no SMART Health Card QR code."""


def read_shc_text(data: bytes) -> str:
    """Every ``shc:/`` text found in the image, one per line; NotAQrImage when there is none."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotAQrImage("image too large")
            image.load()
            grey = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAQrImage(f"not an image: {exc}") from exc
    found = [
        r.text
        for r in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
        if r.text
    ]
    texts = [t for t in found if t.lower().startswith("shc:/")]
    if not texts:
        raise NotAQrImage("no SMART Health Card QR code in the image")
    return "\n".join(texts)


def looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF"))
