"""Payment runs (支払処理): from payable entitlements to transfer instructions, then to Zengin files.

A run is one ``pay_runs`` row per (programme, period, attempt). It goes in two steps, each safe to repeat:

1. **Instruct** — in chunked transactions, one ``INSERT … SELECT`` per chunk turns payable entitlements (confirmed,
   or notified past their deadline, with a fresh account snapshot) into ``pay_instructions`` rows, and the same
   transaction moves those entitlements to ``instructed``. The instruction's unique ``live_key`` (the entitlement id)
   with ``ON CONFLICT DO NOTHING`` is the database's guarantee that nobody gets two live transfers, whatever a
   re-run or a concurrent run does.
2. **Write** — :mod:`tsunagu.payments.services.files` writes the files from the database, ordered by instruction id,
   so a re-run after a crash produces the same bytes; then every file is re-read and validated before the run is
   marked ``written``.

Running the same programme and period again resumes the unfinished attempt, or reports the written one; it never
creates a second attempt. :func:`retry` opens attempt n+1 for what became payable again (failed transfers whose
entitlement went back to ``confirmed``, and late confirmations)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core import calendar
from tsunagu.payments.core.runspec import RunSpec
from tsunagu.payments.models import Entitlement, File, Instruction, Run
from tsunagu.payments.services import files
from tsunagu.payments.services.files import RunFileMismatch, RunRefused

__all__ = ["RunFileMismatch", "RunRefused", "RunReport", "payable", "report", "retry", "run", "value_date"]

Uow = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[str, int, int | None], None]  # (stage, done so far, total if known)
CHUNK = 50_000  # entitlements instructed per transaction
INSTRUCTING, WRITTEN = "instructing", "written"
PAYABLE_NOW = "confirmed"
PUSH_NOTIFIED = (
    "notified"  # push-type: paid once the deadline has passed unless the person changed or declined
)
INSTRUCTED = "instructed"


@dataclass(frozen=True)
class RunReport:
    run_id: int
    programme_id: str
    period: str
    attempt: int
    transfer_date: dt.date
    state: str
    instructions: int
    total: int  # yen
    files: list[files.WrittenFile] = field(default_factory=list)
    resumed: bool = False  # an earlier, unfinished (or already written) attempt was picked up

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["transfer_date"] = self.transfer_date.isoformat()
        return out


def payable(programme_id: str, period: str, today: dt.date, state: str | None = None) -> ColumnElement[bool]:
    """The entitlements a run pays: confirmed, or notified with the deadline passed; with an account snapshot that
    is not stale; and no live transfer yet. (The same rule as the programmes side's ``due_for_payment``, in SQL so
    that a run can ``INSERT … SELECT`` it.) ``state``: one of the two states only — each is one index range in id
    order, where the two together would make the database sort every payable row for each chunk."""
    e = Entitlement
    live = exists().where(Instruction.live_key == e.id)
    confirmed = e.state == PAYABLE_NOW
    lapsed = and_(e.state == PUSH_NOTIFIED, e.deadline < today)
    states = {PAYABLE_NOW: confirmed, PUSH_NOTIFIED: lapsed, None: or_(confirmed, lapsed)}[state]
    return and_(
        e.programme_id == programme_id,
        e.period == period,
        states,
        e.account["bank_code"].as_string().is_not(None),
        e.account_stale.is_(False),
        ~live,
    )


def run(
    uow: Uow,
    ctx: PaymentsContext,
    spec: RunSpec,
    period: str,
    *,
    out_dir: Path,
    transfer_date: dt.date | None = None,
    started_by: str,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> RunReport:
    """Pay ``spec``'s programme for ``period``: attempt 1, or the unfinished attempt, or the written one's report."""
    with uow() as db:
        opened, resumed = _latest(db, spec, period), True
        if opened is None:
            _refuse_if_nothing_payable(db, ctx, spec, period)
            opened, resumed = _create(db, ctx, spec, period, 1, transfer_date, started_by), False
        elif opened.state == INSTRUCTING:
            _check_date(opened, transfer_date)
        run_id, state = opened.id, opened.state
    if state != INSTRUCTING:  # written (or reconciled): report it; later payables go to retry()
        return report(uow, run_id, resumed=True)
    return _complete(uow, ctx, spec, run_id, out_dir, progress, chunk, resumed=resumed)


def retry(
    uow: Uow,
    ctx: PaymentsContext,
    spec: RunSpec,
    period: str,
    *,
    out_dir: Path,
    transfer_date: dt.date | None = None,
    started_by: str,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> RunReport:
    """Attempt n+1: the entitlements payable again (failed transfers put back to ``confirmed``, late confirmations).
    An unfinished attempt is resumed instead; with nothing payable, nothing is created."""
    with uow() as db:
        latest = _latest(db, spec, period)
        if latest is None:
            raise RunRefused(
                f"No run of {spec.programme_id} for {period} yet: run it first.",
                ja=f"{spec.programme_id}（{period}）はまだ支払処理されていません。先に実行してください。",
            )
        if latest.state == INSTRUCTING:
            _check_date(latest, transfer_date)
            run_id, resumed = latest.id, True
        else:
            _refuse_if_nothing_payable(db, ctx, spec, period, again=True)
            made = _create(db, ctx, spec, period, latest.attempt + 1, transfer_date, started_by)
            run_id, resumed = made.id, False
    return _complete(uow, ctx, spec, run_id, out_dir, progress, chunk, resumed=resumed)


def _refuse_if_nothing_payable(
    db: Session, ctx: PaymentsContext, spec: RunSpec, period: str, *, again: bool = False
) -> None:
    """No attempt is opened with nobody to pay (an empty attempt 1 would hide the later confirmations)."""
    rule = payable(spec.programme_id, period, ctx.clock.today())
    if db.scalar(select(Entitlement.id).where(rule).limit(1)) is not None:
        return
    if again:
        raise RunRefused(
            f"Nothing to retry for {spec.programme_id} {period}: no entitlement is payable again.",
            ja=f"{spec.programme_id}（{period}）に再振込の対象はありません。",
        )
    raise RunRefused(
        f"Nothing to pay for {spec.programme_id} {period}: no entitlement is confirmed (or past its deadline) "
        "with a current account.",
        ja=f"{spec.programme_id}（{period}）に支払可能な受給権がありません。",
    )


def _complete(
    uow: Uow,
    ctx: PaymentsContext,
    spec: RunSpec,
    run_id: int,
    out_dir: Path,
    progress: Progress | None,
    chunk: int,
    *,
    resumed: bool,
) -> RunReport:
    instruct(uow, ctx, spec, run_id, progress=progress, chunk=chunk)
    files.write_run(uow, ctx, spec, run_id, out_dir, progress=progress)  # re-reads and validates every file
    with uow() as db:
        db.execute(update(Run).where(Run.id == run_id).values(state=WRITTEN, written_at=ctx.clock.now()))
    return report(uow, run_id, resumed=resumed)


def instruct(
    uow: Uow,
    ctx: PaymentsContext,
    spec: RunSpec,
    run_id: int,
    *,
    progress: Progress | None = None,
    chunk: int,
) -> int:
    """Create the run's instructions, one transaction per ``chunk`` of entitlement ids; the number created now.
    Chunks are id ranges (no counting query per chunk), each state's own index range in id order."""
    e = Entitlement
    with uow() as db:
        period = db.get_one(Run, run_id).period
        scope = and_(
            e.programme_id == spec.programme_id, e.period == period, e.state.in_((PAYABLE_NOW, PUSH_NOTIFIED))
        )
        total, lo, hi = db.execute(select(func.count(), func.min(e.id), func.max(e.id)).where(scope)).one()
    created = 0
    if lo is None:
        return created
    for state in (PAYABLE_NOW, PUSH_NOTIFIED):
        after = lo - 1
        while after < hi:
            last = min(after + chunk, hi)
            with uow() as db:
                created += _instruct_chunk(db, ctx, spec, run_id, period, after, last, state)
            after = last
            if progress is not None:
                progress("instruct", created, total)
    return created


def _instruct_chunk(
    db: Session,
    ctx: PaymentsContext,
    spec: RunSpec,
    run_id: int,
    period: str,
    after: int,
    last: int,
    state: str,
) -> int:
    """One transaction's worth: instructions for the payable entitlements in ``state`` with ids in
    (``after``, ``last``], in id order, and those entitlements marked instructed; the number created."""
    e = Entitlement
    rule = and_(payable(spec.programme_id, period, ctx.clock.today(), state), e.id > after)
    codes = [b.bank_code for b in spec.remitter.banks]
    bank = e.account["bank_code"].as_string()
    source = (
        select(
            literal(run_id),
            e.id,
            e.id,
            case((bank.in_(codes), bank), else_=literal(codes[0])),
            bank,
            e.account["branch_code"].as_string(),
            e.account["deposit_type"].as_string(),
            e.account["account_number"].as_string(),
            e.account["holder_kana"].as_string(),
            e.amount,
            literal(INSTRUCTED),
            literal(""),
        )
        .where(rule, e.id <= last)
        .order_by(e.id)
    )
    columns = [
        "run_id",
        "entitlement_id",
        "live_key",
        "remitter_bank",
        "bank_code",
        "branch_code",
        "deposit_type",
        "account_number",
        "holder_kana",
        "amount",
        "state",
        "result_code",
    ]
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Instruction)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["live_key"])
    )
    made = int(getattr(db.execute(statement), "rowcount", -1))
    if made < 0:  # a driver that does not count an INSERT … SELECT (psycopg when every row was skipped)
        made = (  # this run's instructions in the range whose entitlement is not yet marked: the new ones
            db.scalar(
                select(func.count())
                .select_from(Instruction)
                .join(e, e.id == Instruction.entitlement_id)
                .where(
                    Instruction.run_id == run_id,
                    Instruction.live_key > after,
                    Instruction.live_key <= last,
                    e.state == state,
                )
            )
            or 0
        )
    mine = exists().where(Instruction.live_key == e.id, Instruction.run_id == run_id)
    db.execute(
        update(e)
        .where(e.id > after, e.id <= last, e.state == state, mine)
        .values(state=INSTRUCTED, updated_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    )
    return made


def _latest(db: Session, spec: RunSpec, period: str) -> Run | None:
    return db.scalar(
        select(Run)
        .where(Run.programme_id == spec.programme_id, Run.period == period)
        .order_by(Run.attempt.desc())
        .limit(1)
    )


def _create(
    db: Session,
    ctx: PaymentsContext,
    spec: RunSpec,
    period: str,
    attempt: int,
    transfer_date: dt.date | None,
    started_by: str,
) -> Run:
    made = Run(
        programme_id=spec.programme_id,
        period=period,
        attempt=attempt,
        transfer_date=value_date(ctx.clock.today(), spec, transfer_date),
        state=INSTRUCTING,
        record_limit=spec.record_limit,
        started_by=started_by,
        started_at=ctx.clock.now(),
    )
    db.add(made)
    db.flush()
    return made


def value_date(today: dt.date, spec: RunSpec, wanted: dt.date | None) -> dt.date:
    """The 振込指定日: ``wanted`` if it is a bank business day far enough ahead, else a refusal; by default the
    first business day ``spec.lead_days`` business days after today."""
    earliest = calendar.add_business_days(today, spec.lead_days)
    if wanted is None:
        return earliest
    if not calendar.is_business_day(wanted):
        raise RunRefused(
            f"{wanted} is not a bank business day (weekend, national holiday or 12/31–1/3); "
            f"the next one is {calendar.next_business_day(wanted)}.",
            ja=f"{wanted} は銀行営業日ではありません（次の営業日は {calendar.next_business_day(wanted)}）。",
            field="transfer_date",
        )
    if wanted < earliest:
        raise RunRefused(
            f"{wanted} is too soon: the banks need the files {spec.lead_days} business days ahead "
            f"(the earliest transfer date is {earliest}).",
            ja=f"{wanted} は早すぎます（最も早い振込指定日は {earliest}）。",
            field="transfer_date",
        )
    return wanted


def _check_date(opened: Run, wanted: dt.date | None) -> None:
    if wanted is not None and wanted != opened.transfer_date:
        raise RunRefused(
            f"Attempt {opened.attempt} is already being written for {opened.transfer_date}; "
            f"it is resumed with that date, not {wanted}.",
            ja=f"第{opened.attempt}回は振込指定日 {opened.transfer_date} で処理中です。",
            field="transfer_date",
        )


def report(uow: Uow, run_id: int, *, resumed: bool = False) -> RunReport:
    with uow() as db:
        r = db.get_one(Run, run_id)
        count, total = db.execute(
            select(func.count(), func.coalesce(func.sum(Instruction.amount), 0)).where(
                Instruction.run_id == run_id
            )
        ).one()
        rows = db.scalars(
            select(File).where(File.run_id == run_id).order_by(File.remitter_bank, File.seq)
        ).all()
        return RunReport(
            run_id=r.id,
            programme_id=r.programme_id,
            period=r.period,
            attempt=r.attempt,
            transfer_date=r.transfer_date,
            state=r.state,
            instructions=int(count),
            total=int(total),
            files=[files.WrittenFile.of(row) for row in rows],
            resumed=resumed,
        )
