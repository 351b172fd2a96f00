"""Zengin (全銀協) 総合振込 files (種別コード 21): fixed-length 120-byte records in cp932 (JIS X 0201 bytes).

A file is a header (データ区分 1), data records (2), a trailer (8) with the count and the total, and an end record
(9); some banks take several header…trailer batches before the one end record. "N" fields are digits, right-aligned
and zero-padded; "C" fields are half-width characters, left-aligned and space-padded. Records are followed by CRLF
(some banks accept CR or LF; none may be mixed).

- :func:`write` streams a batch's records (bytes) from an iterable of :class:`Transfer` without holding them;
  :func:`batches` cuts an instruction stream into files of at most N data records.
- :func:`parse` reads the structure (record length, separators, kinds) and every field by position, leniently;
  :func:`validate` applies the strict rules and returns every problem found (bilingual), so a file is checked in
  one pass and a bank's refusal can be predicted.

Pure: no I/O (callers hand bytes in and write bytes out)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

ENCODING = "cp932"
RECORD = 120
TYPE_SOUGOU = "21"
MAX_AMOUNT = 9_999_999_999  # 10 digits
MAX_TOTAL = 999_999_999_999  # 12 digits
MAX_COUNT = 999_999  # 6 digits
NEWLINES = {"CRLF": b"\r\n", "CR": b"\r", "LF": b"\n", "NONE": b""}
# C fields: half-width katakana (ｦ, ｱ-ﾝ, ﾞ, ﾟ), digits, upper-case Latin, space and ( ) . - / ｢ ｣ \ (¥ in JIS X 0201).
C_CHARS = re.compile(r"^[\uff66\uff71-\uff9f0-9A-Z ().\-/\uff62\uff63\\]*$")
DIGITS = re.compile(r"^[0-9]*$")


class Kind(StrEnum):
    HEADER = "1"
    DATA = "2"
    TRAILER = "8"
    END = "9"


@dataclass(frozen=True)
class FieldDef:
    name: str
    length: int
    numeric: bool  # N (digits, zero-padded) or C (characters, space-padded)
    filler: bool = False


def _defs(*spec: tuple[str, int, str]) -> tuple[FieldDef, ...]:
    out = tuple(FieldDef(n, length, kind == "N", n == "dummy") for n, length, kind in spec)
    assert sum(f.length for f in out) == RECORD, spec  # noqa: S101 - a layout that does not sum to 120 is a bug
    return out


LAYOUTS: dict[Kind, tuple[FieldDef, ...]] = {
    Kind.HEADER: _defs(
        ("data_kubun", 1, "N"),
        ("type_code", 2, "N"),  # 種別コード: 21 総合振込
        ("code_kubun", 1, "N"),  # コード区分: 0 JIS, 1 EBCDIC
        ("originator_code", 10, "N"),  # 振込依頼人コード (委託者コード)
        ("originator_name", 40, "C"),  # 振込依頼人名
        ("value_date", 4, "N"),  # 振込指定日 MMDD
        ("origin_bank_code", 4, "N"),  # 仕向銀行番号
        ("origin_bank_name", 15, "C"),
        ("origin_branch_code", 3, "N"),  # 仕向支店番号
        ("origin_branch_name", 15, "C"),
        ("account_type", 1, "N"),  # 預金種目 (依頼人): 1 普通, 2 当座, 9 その他
        ("account_number", 7, "N"),
        ("dummy", 17, "C"),
    ),
    Kind.DATA: _defs(
        ("data_kubun", 1, "N"),
        ("bank_code", 4, "N"),  # 被仕向銀行番号
        ("bank_name", 15, "C"),
        ("branch_code", 3, "N"),  # 被仕向支店番号
        ("branch_name", 15, "C"),
        ("clearing_house", 4, "N"),  # 手形交換所番号 (unused: zeros)
        ("account_type", 1, "N"),  # 預金種目: 1 普通, 2 当座, 4 貯蓄, 9 その他
        ("account_number", 7, "N"),
        ("beneficiary_name", 30, "C"),  # 受取人名
        ("amount", 10, "N"),  # 振込金額
        ("new_code", 1, "N"),  # 新規コード: 0 その他, 1 第1回, 2 変更
        ("customer_code1", 10, "C"),  # 顧客コード1 (N in the JBA text, C at banks: EDI情報 when 識別表示 Y)
        ("customer_code2", 10, "C"),
        ("transfer_category", 1, "N"),  # 振込指定区分: 7 電信, 8 文書
        ("identification", 1, "C"),  # 識別表示: Y = EDI情報, else space
        ("dummy", 7, "C"),
    ),
    Kind.TRAILER: _defs(
        ("data_kubun", 1, "N"),
        ("record_count", 6, "N"),  # 合計件数
        ("total_amount", 12, "N"),  # 合計金額
        ("dummy", 101, "C"),
    ),
    Kind.END: _defs(("data_kubun", 1, "N"), ("dummy", 119, "C")),
}


def offsets(kind: Kind) -> list[tuple[FieldDef, int]]:
    """Each field of a record kind with its 0-based offset."""
    out, at = [], 0
    for f in LAYOUTS[kind]:
        out.append((f, at))
        at += f.length
    return out


_FIELDS: dict[Kind, dict[str, tuple[FieldDef, int]]] = {  # kind → field name → (definition, offset)
    kind: {f.name: (f, at) for f, at in offsets(kind)} for kind in LAYOUTS
}


class ZenginError(ValueError):
    """A value that cannot be written, or a file that cannot be read (``en``/``ja`` messages, ``where``)."""

    def __init__(self, en: str, ja: str, where: str = "") -> None:
        super().__init__(f"{where}: {en}" if where else en)
        self.en, self.ja, self.where = en, ja, where


# --- writing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    originator_code: str  # 10 digits, assigned by the remitting bank
    originator_name: str  # bank kana
    value_date: dt.date  # 振込指定日 (a bank business day; checked by the caller's calendar)
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    bank_name: str = ""
    branch_name: str = ""
    code_kubun: str = "0"
    type_code: str = TYPE_SOUGOU


@dataclass(frozen=True)
class Transfer:
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    beneficiary_name: str  # bank kana
    amount: int
    bank_name: str = ""
    branch_name: str = ""
    new_code: str = "0"
    customer_code1: str = ""
    customer_code2: str = ""
    transfer_category: str = "7"
    identification: str = " "
    clearing_house: str = "0000"


def _cell(f: FieldDef, value: str, where: str) -> bytes:
    if f.numeric:
        if not DIGITS.match(value) or len(value) > f.length:
            raise ZenginError(
                f"{f.name} must be at most {f.length} digits, got {value!r}",
                f"{f.name} は{f.length}桁以内の数字にしてください",
                where,
            )
        return value.rjust(f.length, "0").encode("ascii")
    if not C_CHARS.match(value):
        bad = next(c for c in value if not C_CHARS.match(c))
        raise ZenginError(
            f"{f.name} holds a character banks refuse: {bad!r}",
            f"{f.name} に使用できない文字「{bad}」が含まれています",
            where,
        )
    raw = value.encode(ENCODING)
    if len(raw) > f.length:
        raise ZenginError(
            f"{f.name} is longer than {f.length} characters",
            f"{f.name} が{f.length}文字を超えています",
            where,
        )
    return raw.ljust(f.length, b" ")


def encode(kind: Kind, values: dict[str, str], where: str = "") -> bytes:
    """One 120-byte record of ``kind`` from field values (missing ones: zeros or spaces)."""
    out = b"".join(
        _cell(f, kind.value if f.name == "data_kubun" else values.get(f.name, ""), where)
        for f in LAYOUTS[kind]
    )
    assert len(out) == RECORD  # noqa: S101 - the layout sums to 120 and every cell is padded to its width
    return out


def header_record(h: Header) -> bytes:
    return encode(
        Kind.HEADER,
        {
            "type_code": h.type_code,
            "code_kubun": h.code_kubun,
            "originator_code": h.originator_code,
            "originator_name": h.originator_name,
            "value_date": f"{h.value_date:%m%d}",
            "origin_bank_code": h.bank_code,
            "origin_bank_name": h.bank_name,
            "origin_branch_code": h.branch_code,
            "origin_branch_name": h.branch_name,
            "account_type": h.account_type,
            "account_number": h.account_number,
        },
        "header",
    )


_DATA_LINE = (  # 2, bank, bank name, branch, branch name, clearing house, type, account, name, amount, …
    "2{0:0>4}{1:<15}{2:0>3}{3:<15}{4:0>4}{5:0>1}{6:0>7}{7:<30}"
    "{8:0>10}{9:0>1}{10:<10}{11:<10}{12:0>1}{13:<1}       "
)
_C = r"[\uff66\uff71-\uff9f0-9A-Z ().\-/\uff62\uff63\\]"
_DATA_OK = re.compile(  # the whole record at once: N fields digits, C fields the bank character set
    rf"2\d{{4}}{_C}{{15}}\d{{3}}{_C}{{15}}\d{{4}}\d\d{{7}}{_C}{{30}}\d{{10}}\d{_C}{{20}}\d{_C} {{7}}"
)


def _data_values(t: Transfer) -> tuple[str, ...]:
    return (
        t.bank_code,
        t.bank_name,
        t.branch_code,
        t.branch_name,
        t.clearing_house,
        t.account_type,
        t.account_number,
        t.beneficiary_name,
        str(t.amount),
        t.new_code,
        t.customer_code1,
        t.customer_code2,
        t.transfer_category,
        t.identification,
    )


def data_record(t: Transfer, where: str = "") -> bytes:
    """One data record. The common case is one format and one encode (the writer's hot path); any value that
    does not fit goes through :func:`encode`, which names the field and the reason."""
    return data_record_of(_data_values(t), t.amount, where)


def data_record_of(values: tuple[str, ...], amount: int, where: str = "") -> bytes:
    """:func:`data_record` from the field values in layout order (bank code, bank name, branch code, branch name,
    clearing house, account type, account number, beneficiary name, amount as text, new code, customer code 1,
    customer code 2, transfer category, identification) — for a writer streaming rows without building a
    :class:`Transfer` for each."""
    if not 1 <= amount <= MAX_AMOUNT:
        raise ZenginError(
            f"amount {amount} is outside 1–{MAX_AMOUNT:,} yen", f"振込金額 {amount} 円は範囲外です", where
        )
    line = _DATA_LINE.format(*values)
    if len(line) == RECORD and _DATA_OK.fullmatch(line):
        return line.encode(ENCODING)
    names = [f.name for f in LAYOUTS[Kind.DATA][1:-1]]
    return encode(Kind.DATA, dict(zip(names, values, strict=True)), where)


def trailer_record(count: int, total: int) -> bytes:
    if count > MAX_COUNT or total > MAX_TOTAL:
        raise ZenginError(
            "too many records or too large a total for one file; split it",
            "1ファイルの件数または合計金額が上限を超えています。ファイルを分けてください",
            "trailer",
        )
    return encode(Kind.TRAILER, {"record_count": str(count), "total_amount": str(total)}, "trailer")


def end_record() -> bytes:
    return encode(Kind.END, {}, "end")


@dataclass
class Totals:
    count: int = 0
    total: int = 0


def write(
    header: Header, transfers: Iterable[Transfer], *, newline: bytes = b"\r\n", totals: Totals | None = None
) -> Iterator[bytes]:
    """The records of one file (header, data…, trailer, end), each with ``newline``, one at a time."""
    sums = totals if totals is not None else Totals()
    yield header_record(header) + newline
    for t in transfers:
        record = data_record(t, f"data record {sums.count + 1}")
        sums.count += 1
        sums.total += t.amount
        yield record + newline
    yield trailer_record(sums.count, sums.total) + newline
    yield end_record() + newline


def batches(transfers: Iterable[Transfer], limit: int) -> Iterator[list[Transfer]]:
    """Cut a stream of transfers into files of at most ``limit`` data records (banks cap a file's size)."""
    if limit < 1:
        msg = "limit must be at least 1"
        raise ValueError(msg)
    batch: list[Transfer] = []
    for t in transfers:
        batch.append(t)
        if len(batch) == limit:
            yield batch
            batch = []
    if batch:
        yield batch


# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    index: int  # 1-based position in the file
    offset: int  # byte offset of the record in the file
    kind: Kind | None  # None: an unknown データ区分
    raw: bytes

    def text(self, name: str) -> str:
        """A field as written (C fields keep their padding)."""
        f, at = _FIELDS[self.kind or Kind.END][name]
        return self.raw[at : at + f.length].decode(ENCODING, errors="replace")

    def value(self, name: str) -> str:
        """A field's value: C fields without their trailing padding."""
        text = self.text(name)
        return text if _FIELDS[self.kind or Kind.END][name][0].numeric else text.rstrip(" ")

    def fields(self) -> list[tuple[str, int, int, str]]:
        """(name, offset, length, value) for every field, in order."""
        if self.kind is None:
            return []
        return [(f.name, at, f.length, self.value(f.name)) for f, at in offsets(self.kind)]


@dataclass(frozen=True)
class ParsedFile:
    records: tuple[Record, ...]
    separator: str  # CRLF, CR, LF or NONE
    problems: tuple[Problem, ...] = field(default_factory=tuple)  # structural ones found while reading

    def of(self, kind: Kind) -> list[Record]:
        return [r for r in self.records if r.kind is kind]


@dataclass(frozen=True)
class Problem:
    record: int  # 1-based record index (0: the file as a whole)
    field: str
    en: str
    ja: str

    def as_dict(self) -> dict[str, object]:
        return {"record": self.record, "field": self.field, "en": self.en, "ja": self.ja}


def _separator_at(data: bytes, at: int) -> bytes:
    if data.startswith(b"\r\n", at):
        return b"\r\n"
    if data[at : at + 1] in (b"\r", b"\n"):
        return data[at : at + 1]
    return b""


_KINDS = {k.value.encode(): k for k in Kind}  # データ区分 byte → kind (an Enum call per record is slow)


def parse(data: bytes) -> ParsedFile:
    """Cut ``data`` into 120-byte records (a trailing EOF byte 0x1A is allowed); structural faults become problems,
    the records that could be read are kept."""
    problems: list[Problem] = []
    if data.endswith(b"\x1a"):
        data = data[:-1]
    records: list[Record] = []
    seps: set[bytes] = set()
    at = 0
    while at < len(data):
        chunk = data[at : at + RECORD]
        index = len(records) + 1
        if len(chunk) < RECORD or b"\r" in chunk or b"\n" in chunk:
            cut = min((i for i in (chunk.find(b"\r"), chunk.find(b"\n")) if i >= 0), default=len(chunk))
            problems.append(
                Problem(
                    index,
                    "",
                    f"record {index} is {cut} bytes, not {RECORD}",
                    f"{index}件目のレコードが{cut}バイトです（{RECORD}バイト必要）",
                )
            )
            break
        records.append(Record(index, at, _KINDS.get(chunk[:1]), chunk))
        at += RECORD
        if data.startswith(b"\r\n", at):  # the common case first
            at += 2
            seps.add(b"\r\n")
            continue
        sep = _separator_at(data, at)
        seps.add(sep)
        at += len(sep)
    names = {v: k for k, v in NEWLINES.items()}
    if len(seps) > 1:
        problems.append(
            Problem(0, "", "records are separated inconsistently", "レコードの区切りが混在しています")
        )
    separator = names.get(next(iter(seps)), "NONE") if len(seps) == 1 else "MIXED"
    return ParsedFile(tuple(records), separator, tuple(problems))


def _field_problems(r: Record) -> Iterator[Problem]:
    if r.kind is None:
        yield Problem(r.index, "data_kubun", "unknown record type", "データ区分が不正です")
        return
    for f, at in offsets(r.kind):
        raw = r.raw[at : at + f.length]
        try:
            text = raw.decode(ENCODING)
        except UnicodeDecodeError:
            yield Problem(r.index, f.name, "not cp932 text", "文字コードが不正です")
            continue
        if len(text) != f.length:
            yield Problem(r.index, f.name, "holds multi-byte characters", "全角文字が含まれています")
        elif f.numeric and not DIGITS.match(text):
            yield Problem(r.index, f.name, f"must be {f.length} digits", f"{f.length}桁の数字が必要です")
        elif not f.numeric and not C_CHARS.match(text):
            yield Problem(
                r.index, f.name, "holds characters banks refuse", "使用できない文字が含まれています"
            )


CODES: dict[tuple[Kind, str], tuple[str, ...]] = {
    (Kind.HEADER, "type_code"): (TYPE_SOUGOU,),
    (Kind.HEADER, "code_kubun"): ("0", "1"),
    (Kind.HEADER, "account_type"): ("1", "2", "9"),
    (Kind.DATA, "account_type"): ("1", "2", "4", "9"),
    (Kind.DATA, "new_code"): ("0", "1", "2"),
    (Kind.DATA, "transfer_category"): ("7", "8", " ", "0"),
    (Kind.DATA, "identification"): ("Y", " "),
}


def _code_problems(r: Record) -> Iterator[Problem]:
    if r.kind is None:
        return
    for (kind, name), allowed in CODES.items():
        if kind is r.kind and r.text(name) not in allowed:
            yield Problem(
                r.index,
                name,
                f"{name} must be one of {', '.join(repr(a) for a in allowed)}",
                f"{name} の値が不正です",
            )
    if r.kind is Kind.HEADER:
        mmdd = r.text("value_date")
        if DIGITS.match(mmdd) and not _valid_mmdd(mmdd):
            yield Problem(r.index, "value_date", "not a date (MMDD)", "振込指定日（月日）が不正です")
    if r.kind is Kind.DATA and r.text("amount").isdigit() and int(r.text("amount")) == 0:
        yield Problem(r.index, "amount", "a transfer of 0 yen", "振込金額が0円です")


def _valid_mmdd(mmdd: str) -> bool:
    try:
        dt.date(2000, int(mmdd[:2]), int(mmdd[2:]))  # a leap year admits 0229
    except ValueError:
        return False
    return True


def _sequence_problems(records: Sequence[Record]) -> Iterator[Problem]:
    """1 (2)* 8, repeated, then one 9 last; each trailer's count and total match its batch."""
    state = "start"
    count = total = 0
    for r in records:
        k = r.kind
        if k is Kind.HEADER and state in ("start", "trailer"):
            state, count, total = "header", 0, 0
        elif k is Kind.DATA and state in ("header", "data"):
            state = "data"
            count += 1
            amount = r.text("amount")
            total += int(amount) if amount.isdigit() else 0
        elif k is Kind.TRAILER and state in ("header", "data"):
            state = "trailer"
            yield from _trailer_problems(r, count, total)
        elif k is Kind.END and state == "trailer":
            state = "end"
        else:
            yield Problem(
                r.index,
                "data_kubun",
                "record out of order",
                "レコードの順序が不正です（ヘッダー・データ・トレーラ・エンド）",
            )
            return
    if state != "end":
        yield Problem(
            0,
            "",
            "the file does not end with a trailer and an end record",
            "トレーラ・エンドレコードで終わっていません",
        )


def _trailer_problems(r: Record, count: int, total: int) -> Iterator[Problem]:
    if r.text("record_count") != str(count).rjust(6, "0"):
        yield Problem(
            r.index,
            "record_count",
            f"says {r.text('record_count')}, the batch has {count}",
            f"合計件数が一致しません（実際は{count}件）",
        )
    if r.text("total_amount") != str(total).rjust(12, "0"):
        yield Problem(
            r.index,
            "total_amount",
            f"says {r.text('total_amount')}, the batch sums to {total}",
            f"合計金額が一致しません（実際は{total}円）",
        )


_DATA_VALID = re.compile(  # a data record whose every field and code is valid: validate's fast path
    rf"2\d{{4}}{_C}{{15}}\d{{3}}{_C}{{15}}\d{{4}}[1249]\d{{7}}{_C}{{30}}"  # … account type, number, name
    rf"(?!0{{10}})\d{{10}}[012]{_C}{{20}}[780][Y ]{_C}{{7}}"  # amount (not 0), new code, customer codes, category, Y
)


def _valid_data(r: Record) -> bool:
    """True when a data record has no field or code problem (the common case, checked in one regex); anything
    else goes through the field-by-field checks, which name each problem."""
    try:
        text = r.raw.decode(ENCODING)
    except UnicodeDecodeError:
        return False
    return len(text) == RECORD and _DATA_VALID.fullmatch(text) is not None


def validate(parsed: ParsedFile, *, newline: str | None = "CRLF") -> list[Problem]:
    """Every problem of the file, in record order (empty: the file is valid). ``newline``: the separator the
    receiving bank takes (``None``: any consistent one)."""
    problems = list(parsed.problems)
    if newline is not None and parsed.separator not in (newline, "MIXED"):
        problems.append(
            Problem(
                0, "", f"records end with {parsed.separator}, not {newline}", f"改行が{newline}ではありません"
            )
        )
    for r in parsed.records:
        if r.kind is Kind.DATA and _valid_data(r):
            continue
        problems.extend(_field_problems(r))
        problems.extend(_code_problems(r))
    problems.extend(_sequence_problems(parsed.records))
    return sorted(problems, key=lambda p: p.record)


def transfers_of(parsed: ParsedFile) -> list[Transfer]:
    """The instructions of a file (for round trips and result files)."""
    return [
        Transfer(
            bank_code=r.value("bank_code"),
            branch_code=r.value("branch_code"),
            account_type=r.value("account_type"),
            account_number=r.value("account_number"),
            beneficiary_name=r.value("beneficiary_name"),
            amount=int(r.value("amount")),
            bank_name=r.value("bank_name"),
            branch_name=r.value("branch_name"),
            new_code=r.value("new_code"),
            customer_code1=r.value("customer_code1"),
            customer_code2=r.value("customer_code2"),
            transfer_category=r.value("transfer_category"),
            identification=r.text("identification"),
            clearing_house=r.value("clearing_house"),
        )
        for r in parsed.of(Kind.DATA)
    ]
