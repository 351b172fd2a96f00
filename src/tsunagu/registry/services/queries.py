"""Read side: search, detail, history and statistics, presented with the least data the viewer may see.

Every read goes through :func:`present`, the single place where a suppressed address (支援措置) is withheld
from a viewer without ``registry:suppressed_address:read``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.errors import Forbidden, InvalidIdentifier, NotFound
from tsunagu.kernel.identifiers import is_valid_my_number, mask_my_number, normalize_digits
from tsunagu.registry.core.types import EventKind, Relationship, Status
from tsunagu.registry.core.validation import age_on, is_kana, to_katakana
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.registry.municipalities import municipalities
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.registry.services.records import suppressed_households
from tsunagu.registry.services.state import event_of

ADDRESS_KEYS = ("lg_code", "town", "block", "building")
MAX_RESULTS = 50


@dataclass(frozen=True)
class ResidentView:
    """What a viewer sees of one person. ``address`` is ``None`` when withheld."""

    id: int
    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    age: int
    sex: str
    status: str
    household_id: int
    relationship: str
    registered_on: dt.date
    left_on: dt.date | None
    address: str | None
    address_suppressed: bool
    my_number_masked: str | None = None


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    effective_date: dt.date
    recorded_at: dt.datetime
    recorded_by: str
    changes: dict[str, object]
    details: dict[str, str]
    reason: str


def may_see_address(viewer: Principal | None, suppressed: bool) -> bool:
    return not suppressed or (viewer is not None and viewer.can(Permission.REGISTRY_SUPPRESSED_ADDRESS_READ))


def format_address(lg_code: str, town: str, block: str, building: str) -> str:
    m = municipalities().get(lg_code)
    city = m.full_name if m else lg_code
    return f"{city}{town}{block}" + (f" {building}" if building else "")


def present(
    row: Person,
    viewer: Principal | None,
    today: dt.date,
    *,
    suppressed: bool | None = None,
    keys: RegistryKeys | None = None,
) -> ResidentView:
    hidden = row.address_suppressed if suppressed is None else suppressed
    address = (
        format_address(row.lg_code, row.town, row.block, row.building)
        if may_see_address(viewer, hidden)
        else None
    )
    masked = mask_my_number(keys.reveal(row.my_number_sealed)) if keys and row.my_number_sealed else None
    return ResidentView(
        id=row.id,
        resident_code=row.resident_code,
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        age=age_on(row.birth_date, today),
        sex=row.sex,
        status=row.status,
        household_id=row.household_id,
        relationship=row.relationship,
        registered_on=row.registered_on,
        left_on=row.left_on,
        address=address,
        address_suppressed=hidden,
        my_number_masked=masked,
    )


def require(viewer: Principal | None, permission: Permission) -> Principal:
    if viewer is None or not viewer.can(permission):
        raise Forbidden(f"This needs the permission {permission}.")
    return viewer


def search(
    db: Session,
    keys: RegistryKeys,
    viewer: Principal,
    text: str,
    today: dt.date,
    *,
    include_former: bool = False,
    limit: int = MAX_RESULTS,
) -> list[ResidentView]:
    """Find people by 住民票コード, My Number (exact, via the blind index) or a name/kana prefix."""
    require(viewer, Permission.REGISTRY_PERSON_READ)
    q = text.strip()
    if not q:
        return []
    stmt = select(Person)
    order: tuple[InstrumentedAttribute[Any], ...] = (Person.id,)
    try:
        digits = normalize_digits(q)
    except InvalidIdentifier:
        digits = ""
    by = "name"
    if len(digits) == 12 and is_valid_my_number(digits):
        by = "my_number"
        stmt = stmt.where(Person.my_number_index == keys.index.digest(digits.encode()))
    elif len(digits) == 11:
        by = "resident_code"
        stmt = stmt.where(Person.resident_code == digits)
    else:
        parts = q.replace("\u3000", " ").split()
        family, given = parts[0], (parts[1] if len(parts) > 1 else "")
        by = "kana" if is_kana(family) else "name"
        if is_kana(family):  # a reading: walk the kana index in order (fast even for common names)
            stmt = stmt.where(_prefix(Person.family_name_kana, to_katakana(family)))
            if given:
                stmt = stmt.where(_prefix(Person.given_name_kana, to_katakana(given)))
            order = (Person.family_name_kana, Person.given_name_kana, Person.id)
        else:
            stmt = stmt.where(_prefix(Person.family_name, family))
            if given:
                stmt = stmt.where(
                    or_(
                        _prefix(Person.given_name, given), _prefix(Person.given_name_kana, to_katakana(given))
                    )
                )
            order = (Person.family_name, Person.given_name, Person.id)
    if not include_former:
        stmt = stmt.where(Person.status == Status.RESIDENT.value)
    rows = list(db.scalars(stmt.order_by(*order).limit(limit)))
    hidden = suppressed_households(db, {r.household_id for r in rows})
    audit.record(db, viewer.username, audit.AuditAction.RESIDENTS_SEARCHED, by=by, results=len(rows))
    return [
        present(r, viewer, today, suppressed=r.address_suppressed or r.household_id in hidden) for r in rows
    ]


def _prefix(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """Prefix match that can use a B-tree index on both engines: a range (index) plus LIKE (exactness).
    SQLite applies its LIKE optimisation only to NOCASE indexes, so LIKE alone would scan the table."""
    return and_(column >= prefix, column < prefix + "\U0010ffff", column.startswith(prefix, autoescape=True))


def _hidden(db: Session, row: Person) -> bool:
    return row.address_suppressed or bool(suppressed_households(db, {row.household_id}))


def get_resident(
    db: Session,
    keys: RegistryKeys,
    viewer: Principal,
    person_id: int,
    today: dt.date,
) -> ResidentView:
    require(viewer, Permission.REGISTRY_PERSON_READ)
    row = db.get(Person, person_id)
    if row is None:
        raise NotFound(f"No resident with id {person_id}.")
    audit.record(db, viewer.username, audit.AuditAction.RESIDENT_VIEWED, f"person:{person_id}")
    return present(row, viewer, today, suppressed=_hidden(db, row), keys=keys)


def household_members(
    db: Session, viewer: Principal, household_id: int, today: dt.date, *, audited: bool = False
) -> list[ResidentView]:
    """Current members, head first. ``audited`` when the household is looked at on its own (the API)."""
    require(viewer, Permission.REGISTRY_PERSON_READ)
    head_first = case((Person.relationship == Relationship.HEAD.value, 0), else_=1)
    rows = list(
        db.scalars(
            select(Person)
            .where(Person.household_id == household_id, Person.status == Status.RESIDENT.value)
            .order_by(head_first, Person.id)
        )
    )
    if audited:
        audit.record(db, viewer.username, audit.AuditAction.HOUSEHOLD_VIEWED, f"household:{household_id}")
    hidden = any(r.address_suppressed for r in rows)
    return [present(r, viewer, today, suppressed=hidden or r.address_suppressed) for r in rows]


def history(db: Session, viewer: Principal, person_id: int, *, audited: bool = True) -> list[EventView]:
    """The person's 異動履歴, oldest first; addresses inside events are withheld as in :func:`present`.
    ``audited=False`` when the same request already recorded the view (through :func:`get_resident`)."""
    require(viewer, Permission.REGISTRY_PERSON_READ)
    row = db.get(Person, person_id)
    if row is None:
        raise NotFound(f"No resident with id {person_id}.")
    if audited:
        audit.record(
            db, viewer.username, audit.AuditAction.RESIDENT_VIEWED, f"person:{person_id}", part="history"
        )
    show = may_see_address(viewer, _hidden(db, row))
    out = []
    for ev in db.scalars(
        select(PersonEvent).where(PersonEvent.person_id == person_id).order_by(PersonEvent.id)
    ):
        e = event_of(ev)
        changes = {k: v for k, v in e.changes.items() if show or k not in ADDRESS_KEYS}
        out.append(
            EventView(
                ev.id,
                e.kind.value,
                e.effective_date,
                ev.recorded_at,
                ev.recorded_by,
                changes,
                dict(e.details),
                ev.reason,
            )
        )
    return out


@dataclass(frozen=True)
class Stats:
    residents: int
    households: int
    former: int
    by_sex: dict[str, int]
    by_age_band: dict[str, int]
    events: dict[str, int]
    suppressed: int


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def stats(db: Session, viewer: Principal | None, today: dt.date, *, with_events: bool = True) -> Stats:
    """Aggregate figures only (no person appears), from one scan of the people (and one of the events).

    Someone born on or before ``years_before(today, n)`` has had their n-th birthday: that is the age cut."""
    if viewer is not None:
        require(viewer, Permission.REGISTRY_STATS_READ)
    resident = Person.status == Status.RESIDENT.value

    def count_if(*conditions: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((and_(resident, *conditions), 1), else_=0)), 0)

    row = db.execute(
        select(
            count_if(),
            func.count(func.distinct(case((resident, Person.household_id)))),
            func.coalesce(func.sum(case((resident, 0), else_=1)), 0),
            count_if(Person.sex == "male"),
            count_if(Person.sex == "female"),
            count_if(Person.birth_date > years_before(today, 15)),
            count_if(Person.birth_date <= years_before(today, 65)),
            count_if(Person.address_suppressed.is_(True)),
        )
    ).one()
    residents, households, former, male, female, young, old, suppressed = (int(v) for v in row)
    by_sex = {k: v for k, v in (("male", male), ("female", female)) if v}
    bands = {"0-14": young, "15-64": residents - young - old, "65+": old}
    events = {kind.value: 0 for kind in EventKind}
    if with_events:
        for k, n in db.execute(select(PersonEvent.kind, func.count()).group_by(PersonEvent.kind)):
            events[str(k)] = int(n)
    return Stats(residents, households, former, by_sex, bands, events, suppressed)


def person_ids_by_my_number(db: Session, keys: RegistryKeys, numbers: list[str]) -> dict[str, int]:
    """The registry edge for other domains: My Number → registry person id, through the blind index (the number
    itself is never compared or stored). Numbers not on the register are absent from the result; a malformed
    number raises :class:`InvalidIdentifier`."""
    wanted: dict[bytes, str] = {}
    for raw in numbers:
        digits = normalize_digits(raw)
        if len(digits) != 12 or not is_valid_my_number(digits):
            raise InvalidIdentifier(
                "my_number", "check digit does not match" if len(digits) == 12 else "12 digits"
            )
        wanted[keys.index.digest(digits.encode())] = raw
    found: dict[str, int] = {}
    indexes = list(wanted)
    for lo in range(0, len(indexes), 500):
        chunk = indexes[lo : lo + 500]
        for pid, index in db.execute(
            select(Person.id, Person.my_number_index).where(Person.my_number_index.in_(chunk))
        ):
            if index is not None:
                found[wanted[bytes(index)]] = int(pid)
    return found
