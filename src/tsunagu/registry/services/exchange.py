"""CSV import and export of residents (UTF-8 with header). Import is all-or-nothing and idempotent per file."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.errors import DomainError, InvalidInput
from tsunagu.registry.core.types import EventKind, Relationship, Sex, Status
from tsunagu.registry.core.validation import parse_date
from tsunagu.registry.models import Person, PersonEvent, RegistryImport
from tsunagu.registry.services.queries import may_see_address, require
from tsunagu.registry.services.records import (
    Filing,
    NewAddress,
    NewPerson,
    Placement,
    RegistryContext,
    set_support_measure,
    start_record,
    suppressed_households,
)

IMPORT_COLUMNS = (
    "household_key",
    "relationship",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "town",
    "block",
    "building",
    "event",
    "effective_date",
    "from_lg_code",
    "my_number",
)
EXPORT_COLUMNS = ("resident_code", *IMPORT_COLUMNS[:-1], "status", "address_suppressed")
REQUIRED = set(IMPORT_COLUMNS) - {"building", "from_lg_code", "my_number"}
MAX_ERRORS = 50
IMPORT_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4f0e-9d55-2b8f4f0c9a11")  # filing ids of CSV rows


@dataclass(frozen=True)
class ImportResult:
    persons: int
    households: int
    already_imported: bool
    sha256: str


class ImportRejected(InvalidInput):
    code = "import-rejected"
    title = "The file was not imported"


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(text.splitlines())
    header = list(reader.fieldnames or [])
    missing = sorted(REQUIRED - set(header))
    if missing:
        raise ImportRejected(f"The CSV header is missing columns: {', '.join(missing)}.", missing=missing)
    return header, [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def import_csv(
    db: Session,
    ctx: RegistryContext,
    viewer: Principal,
    data: bytes,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import residents. Every row is checked; any error rejects the whole file and nothing is written.
    Importing the same file (same SHA-256) again does nothing."""
    require(viewer, Permission.REGISTRY_DATA_IMPORT)
    digest = hashlib.sha256(data).hexdigest()
    if db.scalar(select(RegistryImport.id).where(RegistryImport.sha256 == digest)) is not None:
        return ImportResult(0, 0, already_imported=True, sha256=digest)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected("The file is not UTF-8 text.") from None
    _header, rows = _rows(text)
    errors: list[str] = []
    households: dict[str, int] = {}
    filing = Filing(recorded_by=viewer.username, reason=f"CSV import {digest[:12]}")
    count = 0
    for line, row in enumerate(rows, start=2):
        try:
            with db.begin_nested():
                # One filing per row, derived from the file and the line: stable if the same file is replayed.
                row_filing = dataclasses.replace(
                    filing, filing_id=str(uuid.uuid5(IMPORT_NAMESPACE, f"{digest}:{line}"))
                )
                _import_row(db, ctx, row, households, row_filing)
            count += 1
        except DomainError as exc:
            errors.append(f"line {line}: {exc.detail}")
        except (ValueError, KeyError) as exc:
            errors.append(f"line {line}: {exc}")
        if progress:
            progress(1)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ImportRejected(
            f"{len(errors)} row(s) have errors; nothing was imported. " + "; ".join(errors[:10]),
            errors=errors,
        )
    db.add(
        RegistryImport(sha256=digest, imported_by=viewer.username, imported_at=ctx.clock.now(), persons=count)
    )
    audit.record(db, viewer.username, audit.AuditAction.RESIDENTS_IMPORTED, persons=count, sha256=digest)
    return ImportResult(count, len(households), already_imported=False, sha256=digest)


def _import_row(
    db: Session, ctx: RegistryContext, row: dict[str, str], households: dict[str, int], filing: Filing
) -> None:
    kind = EventKind(row["event"])
    rel = Relationship(row["relationship"])
    key = row["household_key"]
    if not key:
        raise InvalidInput("household_key is required.")
    placement = Placement(households.get(key), rel)
    if key not in households and rel is not Relationship.HEAD:
        raise InvalidInput(f"The first row of household {key!r} must be its head.")
    person = NewPerson(
        row["family_name"],
        row["given_name"],
        row["family_name_kana"],
        row["given_name_kana"],
        parse_date(row["birth_date"], "birth_date"),
        Sex(row["sex"]),
        row.get("my_number") or None,
    )
    pid = start_record(
        db,
        ctx,
        kind,
        person,
        NewAddress(row["town"], row["block"], row.get("building", "")),
        placement,
        parse_date(row["effective_date"], "effective_date"),
        filing,
        from_lg_code=row.get("from_lg_code") or None,
    )
    if key not in households:
        households[key] = db.get_one(Person, pid).household_id
    if row.get("address_suppressed") == "1":  # keep a 支援措置 across an export/import round trip
        set_support_measure(db, ctx, pid, "imported", filing.recorded_by, household=False)


def export_csv(
    db: Session,
    viewer: Principal,
    out: IO[str],
    *,
    include_former: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write residents as CSV (no My Number). Suppressed addresses are blank unless the viewer may see them."""
    require(viewer, Permission.REGISTRY_DATA_EXPORT)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for row, first, hidden in _export_rows(db, include_former):
        show = may_see_address(viewer, hidden)
        details = (first.payload or {}).get("details", {}) if first else {}
        writer.writerow(
            [
                row.resident_code,
                row.household_id,
                row.relationship,
                row.family_name,
                row.given_name,
                row.family_name_kana,
                row.given_name_kana,
                row.birth_date.isoformat(),
                row.sex,
                row.town if show else "",
                row.block if show else "",
                row.building if show else "",
                first.kind if first else "",
                row.registered_on.isoformat(),
                details.get("from_lg_code", ""),
                row.status,
                "1" if row.address_suppressed else "0",
            ]
        )
        n += 1
        if progress:
            progress(1)
    audit.record(
        db, viewer.username, audit.AuditAction.RESIDENTS_EXPORTED, rows=n, include_former=include_former
    )
    return n


def _export_rows(db: Session, include_former: bool) -> Iterator[tuple[Person, PersonEvent | None, bool]]:
    """Each person with their first event and whether their address is withheld (one query per batch)."""
    stmt = select(Person).order_by(Person.household_id, Person.id)
    if not include_former:
        stmt = stmt.where(Person.status == Status.RESIDENT.value)
    first_events = select(PersonEvent).where(
        PersonEvent.kind.in_([EventKind.BIRTH.value, EventKind.MOVE_IN.value])
    )
    for batch in db.scalars(stmt.execution_options(yield_per=2000)).partitions():
        ids = [p.id for p in batch]
        firsts: dict[int, PersonEvent] = {}
        for ev in db.scalars(
            first_events.where(PersonEvent.person_id.in_(ids)).order_by(PersonEvent.id.desc())
        ):
            firsts[ev.person_id] = ev
        hidden = suppressed_households(db, {p.household_id for p in batch})
        for p in batch:
            yield p, firsts.get(p.id), p.address_suppressed or p.household_id in hidden
