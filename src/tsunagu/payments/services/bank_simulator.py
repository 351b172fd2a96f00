"""A simulated bank, for the demo and the tests: it answers a 総合振込 file with a result file in tsunagu's
convention (:mod:`tsunagu.payments.core.results`): the same records, each data record with a result code at
position 114. No real bank is involved; nothing here is used on a real payment path."""

from __future__ import annotations

from collections.abc import Callable, Collection

from tsunagu.payments.core import results, zengin

Decide = Callable[
    [int, zengin.Transfer], str | None
]  # (instruction id, transfer) → a failure code, or None: paid


def simulate_bank(
    file_bytes: bytes, fail: Collection[int] | Decide = (), *, code: str = results.ResultCode.NO_ACCOUNT
) -> bytes:
    """The result file for ``file_bytes``: every transfer paid (code 0) except those ``fail`` names — instruction
    ids (each failed with ``code``), or a function of (instruction id, transfer) returning a failure code."""
    parsed = zengin.parse(file_bytes)
    problems = zengin.validate(parsed, newline=None)
    if problems:
        msg = f"the simulated bank refuses the file: {problems[0].en}"
        raise ValueError(msg)
    newline = zengin.NEWLINES.get(parsed.separator, b"\r\n")
    decide: Decide = fail if callable(fail) else _by_id(frozenset(fail), code)
    out: list[bytes] = []
    for r in parsed.records:
        record = r.raw
        if r.kind is zengin.Kind.DATA:
            transfer = zengin.transfers_of(zengin.ParsedFile((r,), parsed.separator))[0]
            failed = decide(int(transfer.customer_code1), transfer)
            record = results.with_result(record, failed or results.ResultCode.PAID)
        out.append(record + newline)
    return b"".join(out)


def _by_id(ids: frozenset[int], code: str) -> Decide:
    def decide(instruction_id: int, _transfer: zengin.Transfer) -> str | None:
        return code if instruction_id in ids else None

    return decide
