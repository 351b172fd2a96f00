"""``zengin.validate`` checks a data record in one regex when it is valid, and field by field otherwise: the two
must agree on every record, valid or not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tsunagu.payments.core import zengin

GOOD = zengin.data_record(
    zengin.Transfer(
        "0005", "123", "1", "0001234", "ﾔﾏﾀﾞ ﾀﾛｳ", 10_000, new_code="1", customer_code1="0000000042"
    )
)
BYTES = st.sampled_from(
    [b"0", b"1", b"2", b"3", b"4", b"7", b"8", b"9", b" ", b"Y", b"a", b"\xb1", b"\x81", b"\xff", b"-"]
)


def slow_ok(record: bytes) -> bool:
    r = zengin.Record(1, 0, zengin.Kind.DATA, record)
    return not list(zengin._field_problems(r)) and not list(zengin._code_problems(r))


@given(st.lists(st.tuples(st.integers(1, zengin.RECORD - 1), BYTES), max_size=4))  # byte 0 makes the kind
def test_the_fast_path_agrees_with_the_field_checks(changes: list[tuple[int, bytes]]) -> None:
    record = bytearray(GOOD)
    for at, byte in changes:
        record[at : at + 1] = byte
    raw = bytes(record)
    r = zengin.Record(1, 0, zengin.Kind.DATA, raw)
    assert zengin._valid_data(r) is slow_ok(raw)


def test_a_zero_amount_is_not_valid() -> None:
    zero = GOOD[:80] + b"0" * 10 + GOOD[90:]
    assert not zengin._valid_data(zengin.Record(1, 0, zengin.Kind.DATA, zero))
    assert not slow_ok(zero)
