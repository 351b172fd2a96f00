"""Reconciliation (消込) of a programme's period: what each run and each file instructed, what the banks paid,
what came back, what has no result yet — counts and yen — and the entitlements with no live transfer and why.

The report is a JSON-able dataclass (:meth:`Report.as_dict`), with a text rendering for the CLI
(:meth:`Report.text`) and a CSV for spreadsheets (:meth:`Report.csv`: UTF-8 with a BOM, so Excel reads the
Japanese correctly)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from tsunagu.payments.models import Entitlement, File, Instruction, Run

STATES = ("instructed", "paid", "failed")  # instructed = outstanding: no result yet
EXAMPLES = 20  # entitlement ids shown per reason
WHY: dict[str, tuple[str, str]] = {  # reason key → (en, ja)
    "declined": ("declined by the person", "受給辞退"),
    "no_account": ("no registered account", "口座登録なし"),
    "stale": ("account changed since the lookup (look it up again)", "照会後に口座が変更（再照会が必要）"),
    "waiting": ("notified, the deadline has not passed", "通知済み（期限前）"),
    "payable": ("payable, not yet in a run", "支払可能（未処理）"),
    "failed": ("transfer failed, account to be checked", "振込不能（口座確認待ち）"),
    "other": ("other state", "その他"),
}


@dataclass(frozen=True)
class Figures:
    count: int = 0
    yen: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.count + other.count, self.yen + other.yen)


@dataclass(frozen=True)
class Tally:
    instructed: Figures = Figures()  # every transfer written
    paid: Figures = Figures()
    failed: Figures = Figures()
    outstanding: Figures = Figures()  # no result yet

    @classmethod
    def of(cls, by_state: dict[str, Figures]) -> Tally:
        paid, failed = by_state.get("paid", Figures()), by_state.get("failed", Figures())
        waiting = by_state.get("instructed", Figures())
        return cls(paid + failed + waiting, paid, failed, waiting)


@dataclass(frozen=True)
class FileTally:
    name: str
    remitter_bank: str
    seq: int
    tally: Tally


@dataclass(frozen=True)
class RunTally:
    run_id: int
    attempt: int
    transfer_date: dt.date
    state: str
    tally: Tally
    files: list[FileTally] = field(default_factory=list)


@dataclass(frozen=True)
class Unpaid:
    reason: str
    en: str
    ja: str
    figures: Figures
    examples: list[int]  # entitlement ids (at most EXAMPLES)


@dataclass(frozen=True)
class Report:
    programme_id: str
    period: str
    entitlements: Figures
    runs: list[RunTally]
    not_instructed: list[Unpaid]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for r in out["runs"]:
            r["transfer_date"] = r["transfer_date"].isoformat()
        return out

    def text(self) -> str:
        lines = [
            f"{self.programme_id} {self.period}: {self.entitlements.count:,} entitlements, "
            f"{self.entitlements.yen:,} yen"
        ]
        for r in self.runs:
            lines.append(
                f"attempt {r.attempt} (run {r.run_id}, {r.transfer_date}, {r.state}): {_tally(r.tally)}"
            )
            lines += [f"  {f.name}: {_tally(f.tally)}" for f in r.files]
        if self.not_instructed:
            lines.append("no live transfer:")
            lines += [
                f"  {u.en} / {u.ja}: {u.figures.count:,} ({u.figures.yen:,} yen)" for u in self.not_instructed
            ]
        return "\n".join(lines)

    def csv(self) -> bytes:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        heads = [
            f"{s}_{k}" for s in ("instructed", "paid", "failed", "outstanding") for k in ("count", "yen")
        ]
        w.writerow(["programme", "period", "level", "attempt", "file", "reason", *heads])
        for r in self.runs:
            w.writerow([self.programme_id, self.period, "run", r.attempt, "", "", *_cells(r.tally)])
            for f in r.files:
                w.writerow([self.programme_id, self.period, "file", r.attempt, f.name, "", *_cells(f.tally)])
        for u in self.not_instructed:
            w.writerow(
                [
                    self.programme_id,
                    self.period,
                    "not_instructed",
                    "",
                    "",
                    f"{u.reason} ({u.ja})",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    u.figures.count,
                    u.figures.yen,
                ]
            )
        return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _tally(t: Tally) -> str:
    return (
        f"instructed {t.instructed.count:,} ({t.instructed.yen:,} yen), paid {t.paid.count:,} ({t.paid.yen:,}), "
        f"failed {t.failed.count:,} ({t.failed.yen:,}), outstanding {t.outstanding.count:,} ({t.outstanding.yen:,})"
    )


def _cells(t: Tally) -> list[int]:
    return [v for f in (t.instructed, t.paid, t.failed, t.outstanding) for v in (f.count, f.yen)]


def reconcile(db: Session, programme: str, period: str, *, today: dt.date | None = None) -> Report:
    """The figures of ``programme`` for ``period`` (``today`` tells a waiting notice from a payable one)."""
    runs = db.scalars(
        select(Run).where(Run.programme_id == programme, Run.period == period).order_by(Run.attempt)
    ).all()
    tallies = [_run_tally(db, r) for r in runs]
    e = Entitlement
    total = db.execute(
        select(func.count(), func.coalesce(func.sum(e.amount), 0)).where(
            e.programme_id == programme, e.period == period
        )
    ).one()
    return Report(
        programme,
        period,
        Figures(int(total[0]), int(total[1])),
        tallies,
        _unpaid(db, programme, period, today),
    )


def _run_tally(db: Session, r: Run) -> RunTally:
    i = Instruction
    by_state = {
        state: Figures(int(n), int(yen))
        for state, n, yen in db.execute(
            select(i.state, func.count(), func.coalesce(func.sum(i.amount), 0))
            .where(i.run_id == r.id)
            .group_by(i.state)
        )
    }
    per_file: dict[int, dict[str, Figures]] = {}
    rows = db.execute(
        select(File.id, i.state, func.count(), func.coalesce(func.sum(i.amount), 0))
        .join(
            i,
            and_(
                i.run_id == File.run_id,
                i.remitter_bank == File.remitter_bank,
                i.id.between(File.first_instruction, File.last_instruction),
            ),
        )
        .where(File.run_id == r.id)
        .group_by(File.id, i.state)
    )
    for file_id, state, n, yen in rows:
        per_file.setdefault(file_id, {})[state] = Figures(int(n), int(yen))
    files = db.scalars(select(File).where(File.run_id == r.id).order_by(File.remitter_bank, File.seq)).all()
    return RunTally(
        r.id,
        r.attempt,
        r.transfer_date,
        r.state,
        Tally.of(by_state),
        [FileTally(f.name, f.remitter_bank, f.seq, Tally.of(per_file.get(f.id, {}))) for f in files],
    )


def _unpaid(db: Session, programme: str, period: str, today: dt.date | None) -> list[Unpaid]:
    e = Entitlement
    no_account = e.account["bank_code"].as_string().is_(None)
    waiting = e.deadline >= today if today is not None else e.deadline.is_not(None)
    kind = case(
        (e.state == "declined", "declined"),
        (e.state == "failed", "failed"),
        (or_(e.state == "no_account", no_account), "no_account"),
        (e.account_stale.is_(True), "stale"),
        (and_(e.state == "notified", waiting), "waiting"),
        (e.state.in_(("confirmed", "notified")), "payable"),
        else_="other",
    )
    live = exists().where(Instruction.live_key == e.id)
    rows = db.execute(
        select(kind, func.count(), func.coalesce(func.sum(e.amount), 0), func.min(e.id))
        .where(e.programme_id == programme, e.period == period, ~live, e.state.not_in(("paid", "instructed")))
        .group_by(kind)
        .order_by(kind)
    ).all()
    out = []
    for key, n, yen, _first in rows:
        examples = db.scalars(
            select(e.id)
            .where(e.programme_id == programme, e.period == period, ~live, kind == key)
            .order_by(e.id)
            .limit(EXAMPLES)
        ).all()
        en, ja = WHY[key]
        out.append(Unpaid(key, en, ja, Figures(int(n), int(yen)), list(examples)))
    return out
