"""Certificate serial numbers: 20-byte random positive integers (RFC 5280 §4.1.2.2), written and read. Pure."""

from __future__ import annotations

from typing import Final

MAX_SERIAL_BITS: Final = 159  # RFC 5280: at most 20 octets, positive


def serial_hex(serial: int) -> str:
    """The storage and display form: lowercase hex without leading zeros."""
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """A serial as people paste it: decimal digits, or hex with ``0x``, colons (``openssl`` style) or a-f.

    A string of digits only is read as decimal; write hex with ``0x`` when it has no letter."""
    raw = text.strip().lower()
    if raw.startswith("0x"):
        digits, base = raw[2:], 16
    elif ":" in raw or any(c in "abcdef" for c in raw):
        digits, base = raw.replace(":", ""), 16
    else:
        digits, base = raw, 10
    allowed = "0123456789abcdef" if base == 16 else "0123456789"
    if not digits or len(digits) > 60 or any(c not in allowed for c in digits):
        msg = "a serial number is decimal digits or hexadecimal (0x…, or pairs separated by colons)"
        raise ValueError(msg)
    value = int(digits, base)
    if value <= 0 or value.bit_length() > MAX_SERIAL_BITS + 1:
        msg = "a serial number is a positive integer of at most 20 octets"
        raise ValueError(msg)
    return value
