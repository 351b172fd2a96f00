"""Bank result files for 総合振込: which transfers were paid and which came back, and why.

The JBA standard defines no result layout for 総合振込; it does for 口座振替, whose result file mirrors the
instruction file and carries a 振替結果コード in each data record. tsunagu reads transfers the same way, behind the
small :class:`ResultReader` interface so that a bank's own layout can be plugged in instead.

**tsunagu's convention** (:class:`MirrorReader`): the bank returns the very 総合振込 file it received — the same
header, data, trailer and end records, byte for byte — except that each data record carries a result code at
**position 114** (1-based; the first byte of the 7-byte ダミー at 114–120, offset 113), one digit from the
振替結果コード list. The trailer's count and total stay those of the file sent. 顧客コード1 holds the instruction id,
so every line maps back to one transfer.

Result codes (the 振替結果コード values, with what they mean for a transfer):

====  =====================================  =======================================================
code  振替結果コード                          tsunagu's meaning for a transfer
====  =====================================  =======================================================
0     振替済                                  paid
1     資金不足                                (not used for transfers: refused as unknown)
2     取引なし                                no such account (closed, or the number is wrong)
3     預金者の都合による振替停止              the account holder stopped it (account frozen or restricted)
4     預金口座振替依頼書なし                  (not used for transfers: refused as unknown)
8     委託者の都合による振替停止              stopped at the paying agency's request
9     その他                                  other, including a holder name that does not match
====  =====================================  =======================================================

Pure: bytes in, values out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tsunagu.payments.core import zengin

RESULT_POSITION = 114  # 1-based
RESULT_OFFSET = RESULT_POSITION - 1
NOT_YET = " "  # an instruction file: the position is part of the blank ダミー


class ResultCode(StrEnum):
    PAID = "0"
    NO_ACCOUNT = "2"
    HOLDER_STOPPED = "3"
    AGENCY_STOPPED = "8"
    OTHER = "9"


MEANINGS: dict[ResultCode, tuple[str, str]] = {  # (ja, en), as told to the payee and staff
    ResultCode.PAID: ("振込済", "paid"),
    ResultCode.NO_ACCOUNT: (
        "口座がありません（解約済み・口座番号の誤り）",
        "no such account (closed or wrong number)",
    ),
    ResultCode.HOLDER_STOPPED: (
        "預金者の都合により入金できません",
        "the account holder's bank stopped the credit",
    ),
    ResultCode.AGENCY_STOPPED: (
        "支払者の都合により振込を停止しました",
        "stopped at the paying agency's request",
    ),
    ResultCode.OTHER: (
        "その他（口座名義の不一致など）",
        "other (for example, the account holder's name differs)",
    ),
}


CODES = frozenset(c.value for c in ResultCode)


def meaning(code: str, lang: str = "en") -> str:
    ja, en = MEANINGS[ResultCode(code)]
    return ja if lang == "ja" else en


class ResultFileError(ValueError):
    """A result file that cannot be imported: every reason, bilingual; nothing is imported."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(en for en, _ in reasons[:10]))
        self.reasons = reasons

    @property
    def en(self) -> list[str]:
        return [en for en, _ in self.reasons]

    @property
    def ja(self) -> list[str]:
        return [ja for _, ja in self.reasons]


@dataclass(frozen=True)
class ResultLine:
    record: int  # 1-based record index in the file
    instruction_id: int
    transfer: zengin.Transfer
    code: ResultCode


@dataclass(frozen=True)
class ResultBatch:
    """One header…trailer batch of a result file: the remitting bank, the 振込指定日 (MMDD) and its lines."""

    originator_code: str
    origin_bank: str
    value_date: str  # MMDD
    lines: tuple[ResultLine, ...]


class ResultReader(Protocol):
    """Reads a bank's result file for 総合振込 (raises :class:`ResultFileError` with every reason)."""

    name: str

    def read(self, data: bytes) -> list[ResultBatch]: ...


class MirrorReader:
    """tsunagu's convention: the file sent, with a result code at position 114 of each data record."""

    name = "tsunagu-mirror"

    def read(self, data: bytes) -> list[ResultBatch]:
        parsed = zengin.parse(data)
        reasons = [
            (f"record {p.record} {p.field}: {p.en}".replace("record 0 : ", ""), p.ja)
            for p in zengin.validate(parsed, newline=None)
        ]
        if reasons:
            raise ResultFileError(reasons)
        batches: list[ResultBatch] = []
        lines: list[ResultLine] = []
        header: zengin.Record | None = None
        for r in parsed.records:
            if r.kind is zengin.Kind.HEADER:
                header, lines = r, []
            elif r.kind is zengin.Kind.DATA:
                line = _line(r, reasons)
                if line is not None:
                    lines.append(line)
            elif r.kind is zengin.Kind.TRAILER and header is not None:
                batches.append(
                    ResultBatch(
                        header.value("originator_code"),
                        header.value("origin_bank_code"),
                        header.value("value_date"),
                        tuple(lines),
                    )
                )
        if reasons:
            raise ResultFileError(reasons)
        return batches


def _line(r: zengin.Record, reasons: list[tuple[str, str]]) -> ResultLine | None:
    code = r.raw[RESULT_OFFSET : RESULT_OFFSET + 1].decode("ascii", errors="replace")
    customer = r.value("customer_code1")
    if code == NOT_YET:
        reasons.append(
            (
                f"record {r.index}: no result code at position {RESULT_POSITION}",
                f"{r.index}件目: 結果コードがありません",
            )
        )
        return None
    if code not in CODES:
        reasons.append(
            (
                f"record {r.index}: unknown result code {code!r}",
                f"{r.index}件目: 結果コード「{code}」は不明です",
            )
        )
        return None
    if not customer.isdigit():
        reasons.append(
            (
                f"record {r.index}: 顧客コード1 {customer!r} is not an instruction id",
                f"{r.index}件目: 顧客コード1が不正です",
            )
        )
        return None
    rest = r.raw[RESULT_OFFSET + 1 :]
    if rest.strip(b" "):
        reasons.append(
            (
                f"record {r.index}: the rest of the ダミー is not blank",
                f"{r.index}件目: ダミー欄が空白ではありません",
            )
        )
        return None
    transfer = zengin.transfers_of(zengin.ParsedFile((r,), "NONE"))[0]
    return ResultLine(r.index, int(customer), transfer, ResultCode(code))


def with_result(record: bytes, code: str) -> bytes:
    """A 120-byte data record with ``code`` at the result position (for a bank simulator or a test)."""
    ResultCode(code)
    return record[:RESULT_OFFSET] + code.encode("ascii") + record[RESULT_OFFSET + 1 :]
