"""Entitlements (受給権): computing them from the roll, and the person's push-type decision.

``entitle`` streams the roll of the programme's municipality (``registry.residents_on``) through the pure rules
(``core/eligibility``) and inserts the entitlements in chunks, each committed on its own with
``INSERT … ON CONFLICT DO NOTHING`` on (programme, period, person): a run that dies half-way loses nothing and a
re-run completes it without duplicates; a second run adds nothing.

States (``pay_entitlements.state``)::

    new ──lookup + notice──▶ notified ──confirm──▶ confirmed ──run──▶ instructed ──▶ paid / failed
     │                        │  ▲        (deadline passed: notified counts as confirmed)
     │                        │  └──────────── account registered, looked up again ─┐
     └──no account found──▶ no_account ◀──account deleted, looked up again──────────┘
    new / notified / confirmed / no_account ──decline──▶ declined

Push-type (プッシュ型): the agency pays into the looked-up account unless the person asks for a change or declines
before the deadline. ``due_for_payment`` is what a payment run takes: confirmed, or notified past the deadline;
with an account snapshot that is not stale."""

from __future__ import annotations

import datetime as dt
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from tsunagu.kernel.errors import Conflict, NotFound
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core.eligibility import entitlements
from tsunagu.payments.core.masks import mask_account_number
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.models import Entitlement
from tsunagu.payments.sources import programmes
from tsunagu.registry import api as registry

Uow = Callable[[], AbstractContextManager[Session]]
TABLE = cast("Table", Entitlement.__table__)
Progress = Callable[[int], None]
CHUNK = 20_000


class State:
    NEW = "new"
    NOTIFIED = "notified"
    NO_ACCOUNT = "no_account"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    INSTRUCTED = "instructed"  # the payment run's states
    PAID = "paid"
    FAILED = "failed"


DECLINABLE = (State.NEW, State.NOTIFIED, State.CONFIRMED, State.NO_ACCOUNT)
LOOKED_UP = (State.NEW, State.NOTIFIED, State.CONFIRMED, State.NO_ACCOUNT)  # states whose account may change


class EntitlementNotFound(NotFound):
    """No such entitlement, or one that is not the person's (the two are not told apart)."""

    code = "entitlement-not-found"
    title = "Benefit not found"


class EntitlementClosed(Conflict):
    """The entitlement's state does not allow the decision (already declined, instructed or paid)."""

    code = "entitlement-closed"
    title = "This benefit can no longer be changed"


@dataclass(frozen=True)
class Entitled:
    """What ``entitle`` did: roll rows read, entitlements computed and newly inserted, and their total."""

    programme: str
    period: str
    on: dt.date
    roll: int
    computed: int
    inserted: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "on": self.on.isoformat()}


COLUMNS = (
    "programme_id",
    "period",
    "person_id",
    "payee_person_id",
    "amount",
    "basis",
    "state",
    "account_stale",
    "reason",
    "created_at",
    "updated_at",
)


def _insert_sql(dialect: str) -> str:
    """``INSERT … ON CONFLICT (programme_id, period, person_id) DO NOTHING`` in the driver's own parameter style:
    the hot path hands the driver ready tuples (SQLAlchemy's per-value processing cost 12 µs a row)."""
    mark, json = ("%s", "CAST(%s AS JSON)") if dialect == "postgresql" else ("?", "?")
    values = ", ".join(json if c == "basis" else mark for c in COLUMNS)
    return (
        f"INSERT INTO pay_entitlements ({', '.join(COLUMNS)}) VALUES ({values}) "  # noqa: S608 - fixed names
        "ON CONFLICT (programme_id, period, person_id) DO NOTHING"
    )


class _Writer:
    """Bound values prepared once per run (the instant, the false flag), the basis serialised once per distinct
    rule object (a flat benefit shares one), and chunks inserted in their own units of work."""

    def __init__(self, uow: Uow, programme_id: str, period: str, now: dt.datetime) -> None:
        self.uow = uow
        self.head = (programme_id, period)
        self.now = now
        self.sql: str | None = None
        self.stamp: Any = None
        self.shared: dict[int, tuple[dict[str, Any], str]] = {}

    def _prepare(self, db: Session) -> None:
        dialect = db.get_bind().dialect
        self.sql = _insert_sql(dialect.name)
        column = TABLE.c.created_at
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)  # SQLite: text, once
        self.stamp = processor(self.now) if processor else self.now

    def basis(self, basis: dict[str, Any]) -> str:
        found = self.shared.get(id(basis))
        if found is not None and found[0] is basis:
            return found[1]
        text = json.dumps(basis, ensure_ascii=False, separators=(",", ":"))
        if len(self.shared) < 64:
            self.shared[id(basis)] = (basis, text)
        return text

    def write(self, rows: list[tuple[int, int, int, str]]) -> int:
        """Insert ``(person, payee, amount, basis json)`` rows; return how many were new."""
        with self.uow() as db:
            if self.sql is None:
                self._prepare(db)
            assert self.sql is not None  # noqa: S101 - set by _prepare
            stamp, (programme_id, period) = self.stamp, self.head
            params = [
                (programme_id, period, person, payee, amount, basis, State.NEW, False, "", stamp, stamp)
                for person, payee, amount, basis in rows
            ]
            result = db.connection().exec_driver_sql(self.sql, params)
            return int(result.rowcount)


def entitle(
    uow: Uow,
    ctx: PaymentsContext,
    programme: Programme,
    period: str,
    *,
    incomes: Mapping[int, int] | None = None,
    chunk: int = CHUNK,
    progress: Progress | None = None,
) -> Entitled:
    """Compute and insert the entitlements of ``programme`` for ``period``; idempotent and resumable.

    The roll is read in its own read transaction (its audit entry committed first) while the chunks commit in
    their own units of work. ``progress`` is called with the number of roll rows read after each chunk."""
    programme.check_period(period)
    on = programme.roll_date(period)
    writer = _Writer(uow, programme.id, period, ctx.clock.now())
    counter = _Counter()
    computed = total = 0
    background = _Background(writer, progress)
    try:
        with uow() as reader:
            roll = registry.residents_on(
                reader, programme.lg_code, on, actor=f"agency:{programme.agency}", purpose=programme.id
            )
            reader.commit()  # the audit entry; the rows stream in a fresh read transaction
            batch: list[tuple[int, int, int, str]] = []
            for e in entitlements(programme, period, counter.count(roll), incomes):
                batch.append((e.person_id, e.payee_person_id, e.amount, writer.basis(e.basis)))
                total += e.amount
                if len(batch) >= chunk:
                    background.put(batch, counter.n)
                    computed += len(batch)
                    batch = []
            background.put(batch, counter.n)  # the last (possibly empty) chunk reports the final count
            computed += len(batch)
    finally:
        inserted = background.close()
    return Entitled(programme.id, period, on, counter.n, computed, inserted, total)


class _Background:
    """One writer thread: the next chunk is computed while the last one is inserted (the database drivers release
    the GIL while the database works). A failed chunk stops the run: the error is raised in the caller at the next
    chunk or at the end, and the chunks queued behind it are dropped (a re-run inserts them)."""

    def __init__(self, writer: _Writer, progress: Progress | None) -> None:
        self.writer = writer
        self.progress = progress
        self.queue: queue.Queue[tuple[list[tuple[int, int, int, str]], int] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.inserted = 0
        self.thread = threading.Thread(target=self._work, name="entitle-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the caller stops at its next put
            rows, read = item
            try:
                if rows:
                    self.inserted += self.writer.write(rows)
                if self.progress is not None:
                    self.progress(read)
            except BaseException as exc:
                self.error = exc

    def put(self, rows: list[tuple[int, int, int, str]], read: int) -> None:
        self._raise()
        self.queue.put((rows, read))

    def close(self) -> int:
        """Wait for the queued chunks; the rows inserted (raises the writer's error, if any, unless the caller is
        already raising)."""
        self.queue.put(None)
        self.thread.join()
        if sys.exc_info()[0] is None:
            self._raise()
        return self.inserted

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def count(self, rows: Iterator[registry.RollRow]) -> Iterator[registry.RollRow]:
        for row in rows:
            self.n += 1
            yield row


# --- the person's decision ---------------------------------------------------------------------------------------


def _own(db: Session, entitlement_id: int, person_id: int) -> Entitlement:
    row = db.get(Entitlement, entitlement_id, with_for_update=True)
    if row is None or row.payee_person_id != person_id:
        raise EntitlementNotFound(
            f"No benefit {entitlement_id} of yours.", ja=f"給付 {entitlement_id} は見つかりません。"
        )
    return row


def confirm(db: Session, ctx: PaymentsContext, entitlement_id: int, person_id: int) -> Entitlement:
    """The payee agrees to be paid into the notified account (idempotent once confirmed)."""
    row = _own(db, entitlement_id, person_id)
    if row.state == State.CONFIRMED:
        return row
    if row.state != State.NOTIFIED or row.account is None or row.account_stale:
        raise EntitlementClosed(
            f"Benefit {entitlement_id} cannot be confirmed in state {row.state}.",
            ja=_closed_ja(row.state),
            state=row.state,
        )
    now = ctx.clock.now()
    row.state, row.decided_at, row.updated_at = State.CONFIRMED, now, now
    db.flush()
    return row


def confirm_with_household(
    db: Session, ctx: PaymentsContext, entitlement_id: int, person_id: int
) -> list[Entitlement]:
    """:func:`confirm`, and the payee's other notified benefits of the same programme and period with it: one
    notice named the account for all of them (a head is paid for every member), so one answer confirms them."""
    row = confirm(db, ctx, entitlement_id, person_id)
    others = db.scalars(
        select(Entitlement.id).where(
            Entitlement.payee_person_id == person_id,
            Entitlement.programme_id == row.programme_id,
            Entitlement.period == row.period,
            Entitlement.state == State.NOTIFIED,
            Entitlement.id != entitlement_id,
        )
    ).all()
    return [row, *(confirm(db, ctx, other, person_id) for other in others)]


def decline(
    db: Session, ctx: PaymentsContext, entitlement_id: int, person_id: int, reason: str = ""
) -> Entitlement:
    """The payee declines the benefit (受給辞退) before any transfer is instructed (idempotent once declined)."""
    row = _own(db, entitlement_id, person_id)
    if row.state == State.DECLINED:
        return row
    if row.state not in DECLINABLE:
        raise EntitlementClosed(
            f"Benefit {entitlement_id} cannot be declined in state {row.state}.",
            ja=_closed_ja(row.state),
            state=row.state,
        )
    now = ctx.clock.now()
    row.state, row.decided_at, row.updated_at = State.DECLINED, now, now
    row.reason = reason[:500] or "declined by the payee"
    db.flush()
    return row


def _closed_ja(state: str) -> str:
    return {
        State.NO_ACCOUNT: "公金受取口座が登録されていないため、確認できません。口座を登録してください。",
        State.NEW: "まだお知らせしていない給付です。",
        State.DECLINED: "辞退済みの給付です。",
    }.get(state, "振込の手続に入ったため、変更できません。")


def lapse(db: Session, ctx: PaymentsContext, programme: Programme, period: str, today: dt.date) -> int:
    """Notified entitlements whose deadline has passed become confirmed (push-type); returns how many."""
    now = ctx.clock.now()
    result = db.execute(
        update(Entitlement)
        .where(
            Entitlement.programme_id == programme.id,
            Entitlement.period == period,
            Entitlement.state == State.NOTIFIED,
            Entitlement.deadline < today,
        )
        .values(state=State.CONFIRMED, decided_at=now, updated_at=now, reason="deadline passed")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- reading -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """An entitlement a payment run pays: the amount, the payee and the account snapshot looked up for them."""

    id: int
    person_id: int
    payee_person_id: int
    amount: int
    account: dict[str, Any]
    account_exchange: str | None


def due_for_payment(
    db: Session, programme: Programme, period: str, today: dt.date, *, chunk: int = 5_000
) -> Iterator[Due]:
    """Confirmed entitlements, and notified ones past their deadline (push-type), with an account that is not
    stale, by id. Streamed."""
    t = TABLE
    stmt = (
        select(t.c.id, t.c.person_id, t.c.payee_person_id, t.c.amount, t.c.account, t.c.account_exchange)
        .where(
            t.c.programme_id == programme.id,
            t.c.period == period,
            or_(t.c.state == State.CONFIRMED, and_(t.c.state == State.NOTIFIED, t.c.deadline < today)),
            t.c.account.is_not(None),
            t.c.account_stale.is_(False),
        )
        .order_by(t.c.id)
    )
    result = db.connection().execute(stmt, execution_options={"yield_per": chunk})
    for part in result.partitions():
        for eid, person, payee, amount, account, exchange in part:
            if account:  # a JSON null reads as None
                yield Due(eid, person, payee, amount, account, exchange)


@dataclass(frozen=True)
class EntitlementView:
    """A benefit as the citizen sees it (the account number masked)."""

    id: int
    programme_id: str
    name_ja: str
    name_en: str
    period: str
    person_id: int
    payee_person_id: int
    amount: int
    state: str
    account: dict[str, str] | None
    deadline: dt.date | None
    account_exchange: str | None
    notified_at: dt.datetime | None
    decided_at: dt.datetime | None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    def may_confirm(self) -> bool:
        return self.state == State.NOTIFIED and self.account is not None

    def may_decline(self) -> bool:
        return self.state in DECLINABLE


def mask_account(account: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The snapshot with the account number masked to its last three digits (``****567``)."""
    if not account:
        return None
    number = str(account.get("account_number", ""))
    return {
        "bank_code": str(account.get("bank_code", "")),
        "bank_name": str(account.get("bank_name", "")),
        "branch_code": str(account.get("branch_code", "")),
        "branch_name": str(account.get("branch_name", "")),
        "deposit_type": str(account.get("deposit_type", "")),
        "account_number": mask_account_number(number),
    }


def view(row: Entitlement) -> EntitlementView:
    p = programmes().get(row.programme_id)
    return EntitlementView(
        id=row.id,
        programme_id=row.programme_id,
        name_ja=p.name_ja if p else row.programme_id,
        name_en=p.name_en if p else row.programme_id,
        period=row.period,
        person_id=row.person_id,
        payee_person_id=row.payee_person_id,
        amount=row.amount,
        state=row.state,
        account=mask_account(row.account),
        deadline=row.deadline,
        account_exchange=row.account_exchange,
        notified_at=row.notified_at,
        decided_at=row.decided_at,
    )


def entitlements_of(db: Session, person_id: int) -> list[EntitlementView]:
    """The benefits a person is paid (as payee) or that are for them, newest first; not yet notified ones
    (``new``) are not shown."""
    rows = db.scalars(
        select(Entitlement)
        .where(
            or_(Entitlement.payee_person_id == person_id, Entitlement.person_id == person_id),
            Entitlement.state != State.NEW,
        )
        .order_by(Entitlement.id.desc())
        .limit(500)
    )
    return [view(r) for r in rows]


def entitlement_of(db: Session, entitlement_id: int, person_id: int) -> EntitlementView:
    """One benefit of the person (payee or the person it is for)."""
    row = db.get(Entitlement, entitlement_id)
    if row is None or person_id not in (row.payee_person_id, row.person_id) or row.state == State.NEW:
        raise EntitlementNotFound(
            f"No benefit {entitlement_id} of yours.", ja=f"給付 {entitlement_id} は見つかりません。"
        )
    return view(row)
