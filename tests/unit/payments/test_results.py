"""tsunagu's result-file convention: the 総合振込 file sent, with a 振替結果コード at position 114 of each data
record; the simulated bank writes it and the mirror reader reads it back (Hypothesis round trip)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.payments.core import results, zengin
from tsunagu.payments.services.bank_simulator import simulate_bank

HEADER = zengin.Header("1420510001", "ﾌｼﾞｻﾜｼ", dt.date(2026, 11, 30), "0138", "401", "1", "1000003")


def instruction_file(n: int) -> bytes:
    transfers = [
        zengin.Transfer("0001", "001", "1", f"{i:07d}", "ﾔﾏﾀﾞ ﾀﾛｳ", 1_000 + i, customer_code1=f"{i:010d}")
        for i in range(1, n + 1)
    ]
    return b"".join(zengin.write(HEADER, transfers))


CODES = st.sampled_from([c.value for c in results.ResultCode])


@given(st.lists(CODES, min_size=1, max_size=30))
def test_codes_written_by_the_simulated_bank_are_read_back(codes: list[str]) -> None:
    sent = instruction_file(len(codes))
    back = simulate_bank(sent, lambda iid, _t: None if codes[iid - 1] == "0" else codes[iid - 1])
    (batch,) = results.MirrorReader().read(back)
    assert [line.code.value for line in batch.lines] == codes
    assert [line.instruction_id for line in batch.lines] == list(range(1, len(codes) + 1))
    assert (batch.origin_bank, batch.value_date) == ("0138", "1130")
    assert zengin.transfers_of(zengin.parse(back)) == zengin.transfers_of(zengin.parse(sent))
    lines = back.split(b"\r\n")
    assert all(line[results.RESULT_OFFSET : results.RESULT_OFFSET + 1] in b"02389" for line in lines[1:-3])
    assert [line[:113] + line[114:] for line in lines] == [
        line[:113] + line[114:] for line in sent.split(b"\r\n")
    ]


def test_an_instruction_file_is_not_a_result_file() -> None:
    with pytest.raises(results.ResultFileError) as refused:
        results.MirrorReader().read(instruction_file(2))
    assert len(refused.value.en) == 2
    assert "position 114" in refused.value.en[0]


@pytest.mark.parametrize("code", ["1", "4", "5", "A"])
def test_a_code_outside_the_list_is_refused(code: str) -> None:
    data = bytearray(simulate_bank(instruction_file(1)))
    data[122 + results.RESULT_OFFSET] = ord(code)
    with pytest.raises(results.ResultFileError, match="unknown result code"):
        results.MirrorReader().read(bytes(data))


def test_every_code_has_a_meaning_in_both_languages() -> None:
    for code in results.ResultCode:
        assert results.meaning(code, "ja")
        assert results.meaning(code, "en")
    assert results.meaning("2") == "no such account (closed or wrong number)"
