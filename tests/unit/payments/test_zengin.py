"""Zengin 総合振込 files: the parser against an independent project's conformance file (every field), written files
re-parsed to the same instructions (Hypothesis), 120-byte cp932 records, trailer totals, and the validator's
refusals."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.payments.core import zengin
from tsunagu.payments.core.zengin import Header, Kind, Transfer

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "zengin" / "zengin4j" / "conformance"
INPUT = SHARED / "sougou-furikomi.input.txt"
EXPECTED = SHARED / "sougou-furikomi.expected.txt"
LINE = re.compile(r"^\s+(\w+)\s+\[(\d+)\+(\d+)\] (.*)$")
RECORD = re.compile(r"^-- record (\d+) (\w+) @(\d+)$")
KINDS = {"HEADER": Kind.HEADER, "DATA": Kind.DATA, "TRAILER": Kind.TRAILER, "END": Kind.END}

HEADER = Header(
    originator_code="1234567890",
    originator_name="ﾌｼﾞｻﾜｼ",
    value_date=dt.date(2026, 12, 10),
    bank_code="0001",
    branch_code="001",
    account_type="1",
    account_number="1234567",
    bank_name="ﾐｽﾞﾎ",
    branch_name="ﾄｳｷﾖｳ",
)


def _expected() -> list[tuple[int, Kind, int, list[tuple[int, int, str]]]]:
    """(record number, kind, byte offset, [(field offset, length, value)]) from the expected listing."""
    out: list[tuple[int, Kind, int, list[tuple[int, int, str]]]] = []
    for line in EXPECTED.read_text(encoding="utf-8").splitlines():
        if m := RECORD.match(line):
            out.append((int(m[1]), KINDS[m[2]], int(m[3]), []))
        elif (m := LINE.match(line)) and out:
            value = "" if m[4] == "(empty)" else m[4]
            out[-1][3].append((int(m[2]), int(m[3]), value))
    return out


@pytest.mark.skipif(
    not INPUT.exists(), reason="../shared/data/zengin (zengin4j conformance files) is not here"
)
def test_the_parser_reproduces_every_field_of_the_conformance_file() -> None:
    parsed = zengin.parse(INPUT.read_bytes())
    expected = _expected()
    assert parsed.separator == "CR"
    assert not parsed.problems
    assert len(parsed.records) == len(expected) == 5
    checked = 0
    for record, (number, kind, offset, fields) in zip(parsed.records, expected, strict=True):
        assert (record.index, record.kind, record.offset) == (number, kind, offset)
        ours = [(at, length, value) for _name, at, length, value in record.fields()]
        assert ours == fields, f"record {number}"
        checked += len(fields)
    assert checked == 13 + 16 + 16 + 4 + 2
    trailer = parsed.of(Kind.TRAILER)[0]
    amounts = [int(r.value("amount")) for r in parsed.of(Kind.DATA)]
    assert int(trailer.value("total_amount")) == sum(amounts) == 115015  # "computedTotal" in the listing
    assert int(trailer.value("record_count")) == len(amounts) == 2


kana = st.text(
    alphabet="ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝﾞﾟ ()-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    max_size=30,
).map(str.rstrip)
transfers = st.builds(
    Transfer,
    bank_code=st.from_regex(r"\A[0-9]{4}\Z"),
    branch_code=st.from_regex(r"\A[0-9]{3}\Z"),
    account_type=st.sampled_from(["1", "2", "4", "9"]),
    account_number=st.from_regex(r"\A[0-9]{7}\Z"),
    beneficiary_name=kana,
    amount=st.integers(1, zengin.MAX_AMOUNT),
    bank_name=kana.map(lambda s: s[:15].rstrip()),
    branch_name=kana.map(lambda s: s[:15].rstrip()),
    new_code=st.sampled_from(["0", "1", "2"]),
    customer_code1=st.from_regex(r"\A[0-9A-Z]{0,10}\Z"),
    customer_code2=st.from_regex(r"\A[0-9A-Z]{0,10}\Z"),
    transfer_category=st.sampled_from(["7", "8"]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(transfers, min_size=1, max_size=12), st.sampled_from(["CRLF", "CR", "LF"]))
def test_written_files_parse_back_to_the_same_instructions(items: list[Transfer], newline: str) -> None:
    data = b"".join(zengin.write(HEADER, items, newline=zengin.NEWLINES[newline]))
    parsed = zengin.parse(data)
    assert all(len(r.raw) == zengin.RECORD for r in parsed.records)
    assert len(data) == len(parsed.records) * (zengin.RECORD + len(zengin.NEWLINES[newline]))
    assert zengin.transfers_of(parsed) == items
    assert zengin.validate(parsed, newline=newline) == []
    trailer = parsed.of(Kind.TRAILER)[0]
    assert int(trailer.value("record_count")) == len(items)
    assert int(trailer.value("total_amount")) == sum(t.amount for t in items)
    header = parsed.of(Kind.HEADER)[0]
    assert header.value("value_date") == "1210"
    assert header.value("originator_name") == HEADER.originator_name


def test_every_record_is_120_bytes_of_cp932_with_crlf() -> None:
    items = [Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ ﾀﾛｳ", 100_000)]
    lines = list(zengin.write(HEADER, items))
    assert [line[:1] for line in lines] == [b"1", b"2", b"8", b"9"]
    assert all(len(line) == 122 and line.endswith(b"\r\n") for line in lines)
    assert lines[1][80:90] == b"0000100000"  # amount: N, zero-padded on the left
    assert lines[1][50:80].decode("cp932") == "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30)  # name: C, space-padded on the right


def test_batches_cut_a_stream_into_files_of_at_most_n_records() -> None:
    items = (Transfer("0005", "123", "1", f"{i:07d}", "ｱ", 1) for i in range(25))
    sizes = [len(b) for b in zengin.batches(items, 10)]
    assert sizes == [10, 10, 5]
    with pytest.raises(ValueError, match="at least 1"):
        list(zengin.batches([], 0))


@pytest.mark.parametrize(
    ("transfer", "message"),
    [
        (Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ", 0), "outside"),
        (Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ", zengin.MAX_AMOUNT + 1), "outside"),
        (Transfer("05X5", "123", "1", "7654321", "ﾔﾏﾀﾞ", 1), "digits"),
        (Transfer("0005", "123", "1", "87654321", "ﾔﾏﾀﾞ", 1), "digits"),
        (Transfer("0005", "123", "1", "7654321", "山田", 1), "refuse"),
        (Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ" * 10, 1), "longer"),
    ],
)
def test_values_banks_refuse_are_refused_when_writing(transfer: Transfer, message: str) -> None:
    with pytest.raises(zengin.ZenginError, match=message) as refused:
        list(zengin.write(HEADER, [transfer]))
    assert refused.value.ja


def _file(items: list[Transfer]) -> bytes:
    return b"".join(zengin.write(HEADER, items))


def test_the_validator_names_every_problem() -> None:
    good = _file([Transfer("0005", "123", "1", "7654321", "ﾔﾏﾀﾞ", 500)])
    assert zengin.validate(zengin.parse(good)) == []
    lines = good.split(b"\r\n")
    trailer = lines[2][:7] + b"000000000999" + lines[2][19:]  # a wrong total
    data = lines[1][:42] + b"5" + lines[1][43:]  # 預金種目 5 does not exist
    bad = b"\r\n".join([lines[0], data, trailer, lines[3], b""])
    found = {(p.record, p.field) for p in zengin.validate(zengin.parse(bad))}
    assert found == {(2, "account_type"), (3, "total_amount")}
    short = zengin.validate(zengin.parse(good[:-10]))
    assert any("bytes" in p.en for p in short)
    assert any(p.record == 0 for p in short)  # no end record
    mixed = zengin.validate(
        zengin.parse(lines[0] + b"\r\n" + lines[1] + b"\n" + lines[2] + b"\r\n" + lines[3])
    )
    assert any("inconsistently" in p.en for p in mixed)
    out_of_order = zengin.parse(b"\r\n".join([lines[1], lines[0], lines[2], lines[3], b""]))
    assert any("order" in p.en for p in zengin.validate(out_of_order))


@settings(max_examples=60, deadline=None)
@given(transfers)
def test_the_fast_data_record_equals_the_field_by_field_one(t: Transfer) -> None:
    names = [f.name for f in zengin.LAYOUTS[Kind.DATA][1:-1]]
    slow = zengin.encode(Kind.DATA, dict(zip(names, zengin._data_values(t), strict=True)))
    assert zengin.data_record(t) == slow
