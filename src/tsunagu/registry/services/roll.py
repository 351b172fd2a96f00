"""The roll (名簿) of a municipality on a reference date, streamed: what a benefit programme's eligibility reads.

Everyone in the municipality's register on ``on``: registered on or before it and not left by then (a person who
died or moved out after the date still counts, as the 2020 特別定額給付金 counted everyone in the register on
2020-04-27). Only the columns eligibility needs, as plain tuples through a Core select with ``yield_per``, in
household order, so a million rows stream in a few seconds with flat memory.

Limitation: the roll is read from the current projection (``registry_persons``). A person who left this
municipality after ``on`` and was re-registered elsewhere on the platform (特例転入 re-opens the same record with
the destination's code) is missed; an exact past roll would fold the events instead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.registry.models import Person

CHUNK = 20_000


class RollRow(NamedTuple):
    """One person on the roll (a plain tuple: a million of these cost microseconds each)."""

    person_id: int
    household_id: int
    relationship: str  # 続柄 (a :class:`~tsunagu.registry.core.types.Relationship` value)
    birth_date: dt.date
    status: str  # the status now (resident, moved_out, deceased), not on ``on``


def residents_on(
    db: Session, lg_code: str, on: dt.date, *, actor: str = "system", purpose: str = ""
) -> Iterator[RollRow]:
    """Stream the roll of ``lg_code`` on ``on``, ordered by household then person. The read is audited once
    (who, which municipality and date, for what) in the caller's transaction when this is called; the rows are
    read when the iterator is first advanced, so a caller may commit the entry first and stream in a fresh
    read transaction (which, on SQLite, holds no write lock while other sessions write)."""
    audit.record(
        db,
        actor,
        audit.AuditAction.RESIDENTS_EXPORTED,
        f"roll:{lg_code}",
        on=on.isoformat(),
        purpose=purpose[:64],
    )
    return _stream(db, lg_code, on)


def _stream(db: Session, lg_code: str, on: dt.date) -> Iterator[RollRow]:
    sqlite = db.get_bind().dialect.name == "sqlite"
    # SQLite keeps dates as ISO text: parsing them with the C ``fromisoformat`` beats SQLAlchemy's processor 3:1.
    birth = type_coerce(Person.birth_date, String) if sqlite else Person.birth_date
    stmt = (
        select(Person.id, Person.household_id, Person.relationship, birth, Person.status)
        .where(
            Person.lg_code == lg_code,
            Person.registered_on <= on,
            or_(Person.left_on.is_(None), Person.left_on > on),
        )
        .order_by(Person.household_id, Person.id)  # served by ix_registry_persons_household_id (+ rowid)
    )
    parse = dt.date.fromisoformat
    result: Any = db.connection().execute(stmt, execution_options={"yield_per": CHUNK})  # born: str or date
    for part in result.partitions():
        for pid, hid, rel, born, status in part:
            yield RollRow(pid, hid, rel, parse(born) if sqlite else born, status)
