"""Importing a bank's result file: each transfer of a run paid or failed, in one transaction, or nothing at all.

Strict: the file must read cleanly (:class:`~tsunagu.payments.core.results.ResultReader`), every line must be an
instruction of one written run, with the same account and amount, from the remitting bank and for the date the
run wrote, and each batch must mirror one file the run wrote (the same first and last instruction and count). Any
fault refuses the whole file with every reason (:class:`ResultFileRefused`); nothing is imported.

Idempotent: a file is known by its SHA-256 (``pay_result_files``); importing it again reports the first import and
changes nothing. A different file that gives a result for a transfer that already has one is refused.

On import: paid instructions and their entitlements → ``paid``; failed ones → ``failed`` with the code, the
instruction's ``live_key`` cleared (so a retry may pay the entitlement again once its account is checked) and the
entitlement's reason set; the payee of each failed transfer gets a notice from the paying agency (ja/en: which
programme, that the transfer failed, why, and where to check the account). A run whose every transfer has a result
becomes ``reconciled``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tsunagu.kernel.errors import InvalidInput
from tsunagu.linkage import api as linkage
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core import results
from tsunagu.payments.core.runspec import RunSpec
from tsunagu.payments.models import Entitlement, File, Instruction, ResultFile, Run

ACCOUNT_PAGE = "/my/public-fund-account"
IN_CHUNK = 5_000  # ids per IN (…) list
SpecFor = Callable[[str], RunSpec]  # programme id → its RunSpec


class ResultFileRefused(InvalidInput):
    code = "payment-result-file-refused"
    title = "The bank result file was refused"

    def __init__(self, name: str, reasons: Sequence[tuple[str, str]]) -> None:
        shown = "; ".join(en for en, _ in reasons[:10])
        more = f" (and {len(reasons) - 10} more)" if len(reasons) > 10 else ""
        super().__init__(
            f"{name}: {shown}{more}. Nothing was imported.",
            ja=f"{name}: " + "、".join(ja for _, ja in reasons[:10]) + "。取り込んでいません。",
            reasons=[{"en": en, "ja": ja} for en, ja in reasons],
        )


@dataclass(frozen=True)
class ImportReport:
    name: str
    sha256: str
    run_id: int
    programme_id: str
    period: str
    attempt: int
    paid: int
    failed: int
    failures: list[dict[str, Any]] = field(default_factory=list)  # instruction, entitlement, code, reason
    already_imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_results(
    db: Session,
    ctx: PaymentsContext,
    data: bytes,
    *,
    name: str,
    imported_by: str,
    spec_for: SpecFor,
    reader: results.ResultReader | None = None,
) -> ImportReport:
    """Import ``data`` (the bank's result file named ``name``) in the caller's transaction."""
    digest = hashlib.sha256(data).hexdigest()
    seen = db.scalar(select(ResultFile).where(ResultFile.sha256 == digest))
    if seen is not None:
        r = db.get_one(Run, seen.run_id)
        return ImportReport(
            seen.name, digest, r.id, r.programme_id, r.period, r.attempt, seen.paid, seen.failed, [], True
        )
    try:
        batches = (reader or results.MirrorReader()).read(data)
    except results.ResultFileError as exc:
        raise ResultFileRefused(name, exc.reasons) from exc
    lines = [line for b in batches for line in b.lines]
    if not lines:
        raise ResultFileRefused(name, [("the file holds no transfers", "振込データがありません")])
    instructions = _instructions(db, [line.instruction_id for line in lines])
    run = _check(db, name, batches, instructions)
    spec = spec_for(run.programme_id)
    paid = [line for line in lines if line.code is results.ResultCode.PAID]
    failed = [line for line in lines if line.code is not results.ResultCode.PAID]
    _apply(db, ctx, spec, run, instructions, paid, failed)
    db.add(
        ResultFile(
            sha256=digest,
            name=name[:200],
            run_id=run.id,
            paid=len(paid),
            failed=len(failed),
            imported_by=imported_by,
            imported_at=ctx.clock.now(),
        )
    )
    _maybe_reconciled(db, run)
    failures = [
        {
            "instruction": line.instruction_id,
            "entitlement": instructions[line.instruction_id].entitlement_id,
            "code": line.code.value,
            "reason": results.meaning(line.code),
        }
        for line in failed
    ]
    return ImportReport(
        name, digest, run.id, run.programme_id, run.period, run.attempt, len(paid), len(failed), failures
    )


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for at in range(0, len(ids), IN_CHUNK):
        yield ids[at : at + IN_CHUNK]


def _instructions(db: Session, ids: Sequence[int]) -> dict[int, Instruction]:
    found: dict[int, Instruction] = {}
    for part in _chunks(sorted(set(ids))):
        found.update((i.id, i) for i in db.scalars(select(Instruction).where(Instruction.id.in_(part))))
    return found


def _check(
    db: Session, name: str, batches: Sequence[results.ResultBatch], instructions: dict[int, Instruction]
) -> Run:
    reasons: list[tuple[str, str]] = []
    lines = [line for b in batches for line in b.lines]
    missing = [line for line in lines if line.instruction_id not in instructions]
    reasons += [
        (
            f"record {m.record}: no transfer {m.instruction_id} was instructed",
            f"{m.record}件目: 該当する振込がありません",
        )
        for m in missing[:20]
    ]
    runs = {i.run_id for i in instructions.values()}
    if len(runs) != 1:
        raise ResultFileRefused(name, reasons or [("the file mixes runs", "複数の支払処理が混在しています")])
    if reasons:
        raise ResultFileRefused(name, reasons)
    run = db.get_one(Run, runs.pop())
    if run.state == "instructing":
        reasons.append((f"run {run.id} has not finished writing its files", "支払処理が完了していません"))
    for line in lines:
        reasons += _line_problems(line, instructions[line.instruction_id])
    ids = [line.instruction_id for line in lines]
    if len(set(ids)) != len(ids):
        reasons.append(("a transfer appears twice", "同じ振込が2回含まれています"))
    for b in batches:
        reasons += _batch_problems(db, run, b, instructions)
    if reasons:
        raise ResultFileRefused(name, reasons)
    return run


def _line_problems(line: results.ResultLine, i: Instruction) -> list[tuple[str, str]]:
    t = line.transfer
    sent = (i.bank_code, i.branch_code, i.deposit_type, i.account_number, i.amount)
    back = (t.bank_code, t.branch_code, t.account_type, t.account_number, t.amount)
    out = []
    if sent != back:
        out.append(
            (
                f"record {line.record}: transfer {i.id} does not match what was sent (account or amount)",
                f"{line.record}件目: 振込 {i.id} の口座または金額が送付したものと一致しません",
            )
        )
    if i.state != "instructed":
        out.append(
            (
                f"record {line.record}: transfer {i.id} already has a result ({i.state})",
                f"{line.record}件目: 振込 {i.id} は結果取込済みです",
            )
        )
    return out


def _batch_problems(
    db: Session, run: Run, b: results.ResultBatch, instructions: dict[int, Instruction]
) -> list[tuple[str, str]]:
    out = []
    ids = [line.instruction_id for line in b.lines]
    banks = {instructions[i].remitter_bank for i in ids}
    if banks != {b.origin_bank}:
        out.append(
            (f"the header's bank {b.origin_bank} did not send these transfers", "仕向銀行が一致しません")
        )
    if b.value_date != f"{run.transfer_date:%m%d}":
        out.append(
            (
                f"the transfer date {b.value_date} is not the run's {run.transfer_date:%m%d}",
                "振込指定日が一致しません",
            )
        )
    sent = db.scalar(
        select(File).where(
            File.run_id == run.id,
            File.first_instruction == min(ids, default=0),
            File.last_instruction == max(ids, default=0),
        )
    )
    if sent is None or sent.records != len(ids) or ids != sorted(ids):
        out.append(
            ("the batch does not mirror a file this run wrote", "送付したファイルと内容が一致しません")
        )
    return out


def _apply(
    db: Session,
    ctx: PaymentsContext,
    spec: RunSpec,
    run: Run,
    instructions: dict[int, Instruction],
    paid: Sequence[results.ResultLine],
    failed: Sequence[results.ResultLine],
) -> None:
    now = ctx.clock.now()
    for part in _chunks([line.instruction_id for line in paid]):
        db.execute(
            update(Instruction)
            .where(Instruction.id.in_(part))
            .values(state="paid", result_code=results.ResultCode.PAID.value, result_at=now)
            .execution_options(synchronize_session=False)
        )
        entitlements = [instructions[i].entitlement_id for i in part]
        db.execute(
            update(Entitlement)
            .where(Entitlement.id.in_(entitlements))
            .values(state="paid", reason="", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    for line in failed:
        i = instructions[line.instruction_id]
        db.execute(
            update(Instruction)
            .where(Instruction.id == i.id)
            .values(state="failed", result_code=line.code.value, result_at=now, live_key=None)
            .execution_options(synchronize_session=False)
        )
        reason = f"{line.code.value}: {results.meaning(line.code)} / {results.meaning(line.code, 'ja')}"
        db.execute(
            update(Entitlement)
            .where(Entitlement.id == i.entitlement_id)
            .values(state="failed", reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    _notify(db, ctx, spec, run, [(instructions[line.instruction_id], line.code) for line in failed])


def _notify(
    db: Session,
    ctx: PaymentsContext,
    spec: RunSpec,
    run: Run,
    failed: Iterable[tuple[Instruction, results.ResultCode]],
) -> None:
    for i, code in failed:
        payee = db.scalar(select(Entitlement.payee_person_id).where(Entitlement.id == i.entitlement_id))
        assert payee is not None  # noqa: S101 - the instruction's entitlement exists (foreign key)
        linkage.send_to_code(
            db,
            ctx.keys,
            spec.agency,
            ctx.code_for(db, spec.agency, payee),
            f"{spec.name_ja}の振込ができませんでした",
            f"{spec.name_en}: the transfer failed",
            f"{spec.name_ja}（{run.period}）{i.amount:,}円を登録されている公金受取口座"
            f"（金融機関コード {i.bank_code}、口座番号末尾 {i.account_number[-3:]}）に振り込みましたが、"
            f"金融機関から返却されました。理由: {results.meaning(code, 'ja')}。"
            "公金受取口座の登録内容をご確認のうえ、必要であれば変更してください。確認後にあらためてお振込みします。",
            f"The {spec.name_en} ({run.period}) transfer of ¥{i.amount:,} to your registered public-fund account "
            f"(bank {i.bank_code}, account ending {i.account_number[-3:]}) was returned by the bank. "
            f"Reason: {results.meaning(code)}. Please check your registered account and update it if needed; "
            "the payment will be made again once it is checked.",
            ACCOUNT_PAGE,
            clock=ctx.clock,
        )


def _maybe_reconciled(db: Session, run: Run) -> None:
    db.flush()
    waiting = db.scalar(
        select(func.count()).where(Instruction.run_id == run.id, Instruction.state == "instructed")
    )
    if not waiting:
        db.execute(update(Run).where(Run.id == run.id).values(state="reconciled"))


def run_of(db: Session, data: bytes, reader: results.ResultReader | None = None) -> Run | None:
    """The run a result file answers (from its first line), to pick the programme before importing; ``None`` if
    the file cannot be read or names no instruction."""
    try:
        batches = (reader or results.MirrorReader()).read(data)
    except results.ResultFileError:
        return None
    first = next((line for b in batches for line in b.lines), None)
    if first is None:
        return None
    i = db.get(Instruction, first.instruction_id)
    return None if i is None else db.get(Run, i.run_id)
