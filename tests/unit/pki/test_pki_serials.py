"""Serial numbers as stored and as people paste them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.pki.core import serials


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12345", 12345),
        ("0x1f", 31),
        ("1F", 31),
        ("ab:cd", 0xABCD),
        ("  0X0A  ", 10),
        (
            "78:be:77:a7:fe:42:ff:10:70:1b:84:5a:2f:e9:05:c1:3e:86:1f:33",
            0x78BE77A7FE42FF10701B845A2FE905C13E861F33,
        ),
    ],
)
def test_serials_are_read_as_people_paste_them(text: str, value: int) -> None:
    assert serials.parse_serial(text) == value


@pytest.mark.parametrize("text", ["", "0", "0x", "12g", "-5", "1.5", "0x" + "f" * 41, "1" * 61])
def test_bad_serials_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="serial"):
        serials.parse_serial(text)


@given(st.integers(min_value=1, max_value=2**159 - 1))
def test_serial_hex_round_trip(serial: int) -> None:
    assert serials.parse_serial("0x" + serials.serial_hex(serial)) == serial
    assert serials.parse_serial(str(serial)) == serial
