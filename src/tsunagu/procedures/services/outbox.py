"""The durable fan-out of one-stops: every derived application is an outbox row written in the bundle's
transaction, and created here exactly once.

One row is worked per transaction: the application is created (or found: ``(bundle_id, bundle_key)`` is unique)
and the row marked done in the same commit, so a worker killed at any point leaves either both or neither, and a
restart carries on. A failure is recorded in a transaction of its own and retried with exponential backoff
(2, 4, 8 … seconds, at most an hour); after :data:`MAX_ATTEMPTS` the row is dead and shows on the staff's
dead-letter page, where it can be retried. On PostgreSQL, concurrent workers skip each other's rows
(``FOR UPDATE SKIP LOCKED``); on SQLite the writer lock serialises them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.models import Outbox
from tsunagu.procedures.services.bundles import create_from_payload

A = audit.AuditAction
MAX_ATTEMPTS = 8
MAX_BACKOFF = 3600
log = logging.getLogger("tsunagu.procedures.outbox")
Uow = Callable[[], AbstractContextManager[Session]]


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2**attempts, MAX_BACKOFF))


def _next(db: Session, now: dt.datetime, bundle_id: str | None) -> Outbox | None:
    stmt = (
        select(Outbox)
        .where(Outbox.state == "pending", Outbox.next_attempt_at <= now)
        .order_by(Outbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if bundle_id is not None:
        stmt = stmt.where(Outbox.bundle_id == bundle_id)
    return db.scalar(stmt)


@dataclass
class Pass:
    done: int = 0
    failed: int = 0
    dead: int = 0


def _ids(uow: Uow, now: dt.datetime, bundle_id: str | None, limit: int) -> Iterator[int]:
    with uow() as db:
        stmt = (
            select(Outbox.id)
            .where(Outbox.state == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.id)
        )
        if bundle_id is not None:
            stmt = stmt.where(Outbox.bundle_id == bundle_id)
        ids = list(db.scalars(stmt.limit(limit)))
    yield from ids


def work_one(uow: Uow, pctx: ProceduresContext, outbox_id: int) -> str:
    """Work one row in its own transaction; return ``done``, ``skipped`` (taken by another worker or done),
    ``failed`` or ``dead``."""
    try:
        with uow() as db:
            row = db.scalar(select(Outbox).where(Outbox.id == outbox_id).with_for_update(skip_locked=True))
            if row is None or row.state != "pending":
                return "skipped"
            create_from_payload(db, pctx, row.bundle_id, row.key, row.payload)
            row.state = "done"
            row.attempts += 1
            row.done_at = pctx.clock.now()
            return "done"
    except Exception as exc:
        log.warning("outbox row %s failed: %s", outbox_id, type(exc).__name__)
        return _failed(uow, pctx, outbox_id, exc)


def _failed(uow: Uow, pctx: ProceduresContext, outbox_id: int, exc: Exception) -> str:
    with uow() as db:
        row = db.get(Outbox, outbox_id)
        if row is None or row.state != "pending":
            return "skipped"
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.state = "dead"
            audit.record(
                db,
                "system:outbox",
                A.OUTBOX_DEAD,
                f"bundle:{row.bundle_id}",
                key=row.key,
                attempts=row.attempts,
            )
            return "dead"
        row.next_attempt_at = pctx.clock.now() + backoff(row.attempts)
        audit.record(
            db,
            "system:outbox",
            A.OUTBOX_FAILED,
            f"bundle:{row.bundle_id}",
            key=row.key,
            attempts=row.attempts,
        )
        return "failed"


def work(
    uow: Uow,
    pctx: ProceduresContext,
    *,
    bundle_id: str | None = None,
    limit: int = 500,
    after_each: Callable[[str], None] | None = None,
) -> Pass:
    """Work the due rows (of one bundle, or all), each in its own transaction."""
    result = Pass()
    for outbox_id in _ids(uow, pctx.clock.now(), bundle_id, limit):
        outcome = work_one(uow, pctx, outbox_id)
        if outcome == "done":
            result.done += 1
        elif outcome == "failed":
            result.failed += 1
        elif outcome == "dead":
            result.dead += 1
        if after_each is not None:
            after_each(outcome)
    return result


def dead_letters(db: Session, limit: int = 200) -> list[Outbox]:
    return list(
        db.scalars(select(Outbox).where(Outbox.state == "dead").order_by(Outbox.id.desc()).limit(limit))
    )


def pending_count(db: Session) -> int:
    return len(db.scalars(select(Outbox.id).where(Outbox.state == "pending")).all())


def retry(db: Session, pctx: ProceduresContext, outbox_id: int, actor: str) -> bool:
    """Put a dead row back in the queue (staff, after fixing the cause)."""
    row = db.get(Outbox, outbox_id)
    if row is None or row.state != "dead":
        return False
    row.state, row.attempts, row.next_attempt_at = "pending", 0, pctx.clock.now()
    audit.record(db, actor, A.OUTBOX_RETRIED, f"bundle:{row.bundle_id}", key=row.key)
    return True
