"""Recording and correcting doses (接種記録), and reading a person's current doses.

A dose row is never rewritten (``health_doses`` is append-only by trigger): a correction appends a new row that
supersedes the old one, so the history is kept. Every write is validated first (bad input writes nothing), then
audited in the caller's transaction; listeners wired by the shell (e.g. credentials, to revoke a card that shows a
superseded dose) are called in the same transaction. Services never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from tsunagu.audit import api as audit
from tsunagu.health.core.vaccines import CATALOGUE, Problem, Vaccine, check_entry, vaccine
from tsunagu.health.models import Dose
from tsunagu.kernel.clock import JST
from tsunagu.kernel.errors import Conflict, InvalidInput, NotFound
from tsunagu.registry import api as registry


@dataclass(frozen=True)
class DoseRecord:
    """A current dose, as other domains and pages see it."""

    dose_id: int
    person_id: int
    occurrence: dt.date
    cvx: str  # e.g. "208"
    manufacturer: str  # MVX code e.g. "PFR"
    lot: str
    municipality_code: str  # 6 digits, where it was given
    performer: str  # display name of the municipality, for FHIR performer.actor.display
    vaccine_name: str  # Japanese name for pages


@dataclass(frozen=True)
class DoseInput:
    person_id: int
    occurrence: dt.date
    cvx: str
    manufacturer: str
    lot: str
    municipality_code: str


@dataclass(frozen=True)
class DoseChange:
    """What a listener hears: a person's doses changed. ``superseded_dose_id`` is the entry a correction replaced
    (a credential showing it is out of date); None for a new dose."""

    person_id: int
    dose_id: int
    superseded_dose_id: int | None


DoseListener = Callable[[Session, DoseChange], None]


class InvalidDose(InvalidInput):
    """A dose entry with one or more problems, each tied to its form field (nothing was written)."""

    code = "invalid-dose"
    title = "Invalid vaccination entry"

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message_en, ja=first.message_ja, field=first.field)
        self.problems = tuple(problems)

    @property
    def message_ja(self) -> str:
        return self.problems[0].message_ja

    @property
    def message_en(self) -> str:
        return self.problems[0].message_en


def vaccines() -> list[Vaccine]:
    """The catalogue, for forms (in the order to show)."""
    return list(CATALOGUE)


def _performer(code: str) -> str:
    found = registry.municipalities().get(code)
    return found.full_name if found is not None else code


def _record(row: Dose) -> DoseRecord:
    known = vaccine(row.cvx)
    return DoseRecord(
        dose_id=row.id,
        person_id=row.person_id,
        occurrence=row.occurrence,
        cvx=row.cvx,
        manufacturer=row.manufacturer,
        lot=row.lot,
        municipality_code=row.municipality_code,
        performer=_performer(row.municipality_code),
        vaccine_name=known.name_ja if known is not None else row.cvx,
    )


def _current() -> ColumnElement[bool]:
    """Rows that no later row supersedes."""
    later = aliased(Dose)
    return ~exists().where(later.supersedes == Dose.id)


def doses_of(db: Session, person_id: int) -> list[DoseRecord]:
    """The person's current (non-superseded) doses, oldest first."""
    rows = db.scalars(
        select(Dose).where(Dose.person_id == person_id, _current()).order_by(Dose.occurrence, Dose.id)
    )
    return [_record(r) for r in rows]


@dataclass(frozen=True)
class DoseEntry:
    """One entry of a person's history: a dose as recorded, and what it corrected."""

    dose: DoseRecord
    supersedes: int | None  # the entry this one corrected
    action: str  # recorded | corrected
    reason: str
    recorded_by: str
    recorded_at: dt.datetime


def history_of(db: Session, person_id: int) -> list[DoseEntry]:
    """Every entry of the person, current or superseded, in the order they were made."""
    rows = db.scalars(select(Dose).where(Dose.person_id == person_id).order_by(Dose.id))
    return [
        DoseEntry(_record(r), r.supersedes, r.action, r.reason, r.recorded_by, r.recorded_at) for r in rows
    ]


def _validate(db: Session, entry: DoseInput, now: dt.datetime) -> DoseInput:
    lot = entry.lot.strip().upper()
    problems = check_entry(
        occurrence=entry.occurrence,
        cvx=entry.cvx,
        manufacturer=entry.manufacturer,
        lot=lot,
        today=now.astimezone(JST).date(),
    )
    code = entry.municipality_code.strip()
    try:
        code = registry.known_municipality(code).lg_code
    except InvalidInput:
        problems.append(
            Problem(
                "municipality_code",
                "接種した市区町村の地方公共団体コード（6桁）を確かめてください。",
                "Check the 6-digit local-government code of the municipality where the dose was given.",
            )
        )
    if problems:
        raise InvalidDose(problems)
    if registry.name_and_status(db, entry.person_id) is None:
        raise NotFound("No such resident.", ja="該当する住民はいません。")
    return DoseInput(entry.person_id, entry.occurrence, entry.cvx, entry.manufacturer, lot, code)


def _insert(
    db: Session, entry: DoseInput, *, actor: str, now: dt.datetime, supersedes: int | None, reason: str
) -> Dose:
    row = Dose(
        person_id=entry.person_id,
        occurrence=entry.occurrence,
        cvx=entry.cvx,
        manufacturer=entry.manufacturer,
        lot=entry.lot,
        municipality_code=entry.municipality_code,
        supersedes=supersedes,
        action="corrected" if supersedes is not None else "recorded",
        reason=reason,
        recorded_by=actor[:64],
        recorded_at=now,
    )
    db.add(row)
    db.flush()
    return row


def record_dose(
    db: Session,
    entry: DoseInput,
    *,
    actor: str,
    now: dt.datetime,
    listeners: Sequence[DoseListener] = (),
) -> DoseRecord:
    """Validate and append a dose, audited; raises :class:`InvalidDose` (nothing written) or ``NotFound``."""
    clean = _validate(db, entry, now)
    row = _insert(db, clean, actor=actor, now=now, supersedes=None, reason="")
    audit.record(db, actor, audit.AuditAction.HEALTH_DOSE_RECORDED, f"person:{clean.person_id}", dose=row.id)
    for listener in listeners:
        listener(db, DoseChange(clean.person_id, row.id, None))
    return _record(row)


def correct_dose(
    db: Session,
    dose_id: int,
    entry: DoseInput,
    *,
    actor: str,
    now: dt.datetime,
    reason: str = "",
    listeners: Sequence[DoseListener] = (),
) -> DoseRecord:
    """Append a corrected entry that supersedes ``dose_id`` (the old row is kept). Only a current dose of the same
    person can be corrected (``Conflict`` otherwise: it was corrected already)."""
    old = db.get(Dose, dose_id)
    if old is None or old.person_id != entry.person_id:
        raise NotFound("No such dose for this resident.", ja="この方の該当する接種記録はありません。")
    if db.scalar(select(Dose.id).where(Dose.supersedes == dose_id)) is not None:
        raise Conflict(
            "This dose was corrected already: correct its current entry.",
            ja="この接種記録はすでに訂正されています。最新の記録を訂正してください。",
        )
    clean = _validate(db, entry, now)
    try:
        with db.begin_nested():
            row = _insert(db, clean, actor=actor, now=now, supersedes=dose_id, reason=reason.strip()[:500])
    except IntegrityError as exc:  # a concurrent correction of the same row won the unique key
        raise Conflict(
            "This dose was corrected at the same time by someone else.",
            ja="この接種記録は同時に別の担当者が訂正しました。",
        ) from exc
    audit.record(
        db,
        actor,
        audit.AuditAction.HEALTH_DOSE_CORRECTED,
        f"person:{clean.person_id}",
        dose=row.id,
        supersedes=dose_id,
    )
    for listener in listeners:
        listener(db, DoseChange(clean.person_id, row.id, dose_id))
    return _record(row)
