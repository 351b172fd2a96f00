"""Recording 異動 (movement events). Each function validates, folds the event into the current state through
:func:`apply_event`, updates the projection row and appends the event, all in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import Conflict, EventOutOfOrder, InvalidInput, NotFound
from tsunagu.kernel.identifiers import IdentifierKind, check_my_number
from tsunagu.registry.core.projection import apply_event
from tsunagu.registry.core.types import Event, EventKind, RegistryChange, Relationship, Sex, Status
from tsunagu.registry.core.validation import MAX_NAME, check_birth_date, clean_kana, clean_text, parse_date
from tsunagu.registry.models import Household, Person, PersonEvent, SupportMeasure
from tsunagu.registry.municipalities import known_municipality
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.registry.services.state import payload_of, row_values, state_of, write_state

ChangeListener = Callable[[Session, RegistryChange], None]
MOVE_OUT_NOTICE_DAYS = 14  # 転出届 may be filed up to 14 days before the move (住民基本台帳法 24条, 事前届)


@dataclass(frozen=True)
class RegistryContext:
    keys: RegistryKeys
    clock: Clock
    municipality_code: str
    # Called in the recording transaction after each event (e.g. identity revokes a signature certificate on a
    # 転居); wired by the application shell, so the registry knows no other domain.
    listeners: tuple[ChangeListener, ...] = ()


@dataclass(frozen=True)
class NewPerson:
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: Sex
    my_number: str | None = None


@dataclass(frozen=True)
class NewAddress:
    town: str
    block: str
    building: str = ""


@dataclass(frozen=True)
class Placement:
    """Where a person goes: an existing household with a relationship, or a new household as its head."""

    household_id: int | None = None
    relationship: Relationship = Relationship.HEAD


@dataclass(frozen=True)
class Filing:
    """Who records, and the 届出 that groups events (one filing can move a whole household)."""

    recorded_by: str
    reason: str = ""
    filing_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _clean_person(p: NewPerson, today: dt.date) -> NewPerson:
    return NewPerson(
        family_name=clean_text(p.family_name, "family_name", max_len=MAX_NAME),
        given_name=clean_text(p.given_name, "given_name", max_len=MAX_NAME),
        family_name_kana=clean_kana(p.family_name_kana, "family_name_kana"),
        given_name_kana=clean_kana(p.given_name_kana, "given_name_kana"),
        birth_date=check_birth_date(p.birth_date, today),
        sex=Sex(p.sex),
        my_number=check_my_number(p.my_number) if p.my_number else None,
    )


def clean_address(a: NewAddress) -> NewAddress:
    return NewAddress(
        town=clean_text(a.town, "town", max_len=100),
        block=clean_text(a.block, "block", max_len=50),
        building=clean_text(a.building, "building", max_len=100, required=False),
    )


def _not_after(date: dt.date, limit: dt.date, what: str) -> None:
    if date > limit:
        raise InvalidInput(
            f"The {what} date {date} is too far in the future (latest {limit}).",
            ja=f"日付が先すぎます（{limit} までの日付を入力してください）。",
            field="effective_date",
        )


def _new_resident_code(db: Session) -> str:
    while True:
        code = f"{secrets.randbelow(10**11):011d}"
        if db.scalar(select(Person.id).where(Person.resident_code == code)) is None:
            return code


def already_filed(db: Session, filing: Filing) -> list[int]:
    """The people a filing has already moved. Recording the same filing again (a form sent twice, an API call
    retried with the same Idempotency-Key) returns them and writes nothing."""
    return list(
        db.scalars(
            select(PersonEvent.person_id)
            .where(PersonEvent.filing_id == filing.filing_id)
            .distinct()
            .order_by(PersonEvent.person_id)
        )
    )


def filing_key(text: str | None) -> str:
    """A client-supplied filing id (hidden form field or Idempotency-Key): a UUID, or a fresh one."""
    try:
        return str(uuid.UUID(text or ""))
    except ValueError:
        return str(uuid.uuid4())


def _recorded(
    db: Session, person_id: int, kind: EventKind, people: list[int], filing: Filing, **detail: object
) -> list[int]:
    audit.record(
        db,
        filing.recorded_by,
        audit.AuditAction.EVENT_RECORDED,
        f"person:{person_id}",
        kind=kind.value,
        persons=people,
        filing=filing.filing_id,
        **detail,
    )
    return people


def _append(db: Session, ctx: RegistryContext, person_id: int, event: Event, filing: Filing) -> None:
    now = ctx.clock.now()
    db.add(
        PersonEvent(
            person_id=person_id,
            kind=event.kind.value,
            effective_date=event.effective_date,
            recorded_at=now,
            recorded_by=filing.recorded_by,
            filing_id=filing.filing_id,
            payload=payload_of(event),
            reason=filing.reason,
        )
    )
    if ctx.listeners:
        change = RegistryChange.of(person_id, event, now)
        for listener in ctx.listeners:
            listener(db, change)


def start_record(
    db: Session,
    ctx: RegistryContext,
    kind: EventKind,
    person: NewPerson,
    address: NewAddress,
    placement: Placement,
    effective_date: dt.date,
    filing: Filing,
    from_lg_code: str | None = None,
) -> int:
    """出生 or 転入: create the record (and a household if needed) and append the first event."""
    if done := already_filed(db, filing):
        return done[0]
    today = ctx.clock.today()
    p = _clean_person(person, today)
    a = clean_address(address)
    details: dict[str, str] = {}
    if kind is EventKind.BIRTH:
        effective_date = p.birth_date
    elif kind is EventKind.MOVE_IN:
        _not_after(effective_date, today, "move-in")
        if effective_date < p.birth_date:
            raise InvalidInput(
                "The move-in date is before the birth date.",
                ja="転入した日が生年月日より前になっています。",
                field="effective_date",
            )
        if not from_lg_code:
            raise InvalidInput(
                "A move-in (転入) needs the previous municipality (転入前住所).",
                ja="転入前の市区町村を選んでください。",
                field="from_lg_code",
            )
        origin = known_municipality(from_lg_code)
        if origin.lg_code == ctx.municipality_code:
            raise InvalidInput(
                "A move-in comes from another municipality; use 転居 within this one.",
                ja="転入前の市区町村が当市区町村です。市区町村内の移動は転居として記録してください。",
                field="from_lg_code",
            )
        details["from_lg_code"] = origin.lg_code
    else:
        raise InvalidInput(f"{kind} does not start a record.")
    household_id = _place(db, ctx, placement)
    sealed = index = None
    if p.my_number:
        sealed, index = ctx.keys.seal(p.my_number)
        if db.scalar(select(Person.id).where(Person.my_number_index == index)) is not None:
            raise Conflict(
                "This My Number is already registered to another person.",
                ja="この個人番号は別の住民に登録されています。",
                kind=IdentifierKind.MY_NUMBER,
                field="my_number",
            )
    changes: dict[str, object] = {
        "family_name": p.family_name,
        "given_name": p.given_name,
        "family_name_kana": p.family_name_kana,
        "given_name_kana": p.given_name_kana,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex.value,
        "lg_code": ctx.municipality_code,
        "town": a.town,
        "block": a.block,
        "building": a.building,
        "household_id": household_id,
        "relationship": placement.relationship.value,
    }
    event = Event(kind, effective_date, changes, details)
    state = apply_event(None, event)
    row = Person(
        resident_code=_new_resident_code(db),
        my_number_sealed=sealed,
        my_number_index=index,
        address_suppressed=False,
        **row_values(state),
    )
    db.add(row)
    db.flush()
    _append(db, ctx, row.id, event, filing)
    audit.record(
        db, filing.recorded_by, audit.AuditAction.RESIDENT_REGISTERED, f"person:{row.id}", kind=kind.value
    )
    return row.id


def _place(db: Session, ctx: RegistryContext, placement: Placement) -> int:
    if placement.household_id is None:
        if placement.relationship is not Relationship.HEAD:
            raise InvalidInput(
                "A person starting a new household is its head (世帯主).", field="relationship"
            )
        household = Household(created_at=ctx.clock.now())
        db.add(household)
        db.flush()
        return household.id
    if placement.relationship is Relationship.HEAD:
        raise InvalidInput("The household already has a head; choose the relationship to the head.")
    members = db.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.household_id == placement.household_id, Person.status == Status.RESIDENT.value)
    )
    if not members:
        raise NotFound(f"Household {placement.household_id} has no current members.")
    return placement.household_id


def _person(db: Session, person_id: int) -> Person:
    row = db.get(Person, person_id)
    if row is None:
        raise NotFound(f"No resident with id {person_id}.")
    return row


def _apply(db: Session, ctx: RegistryContext, row: Person, event: Event, filing: Filing) -> None:
    new = apply_event(state_of(row), event)
    write_state(row, new)
    _append(db, ctx, row.id, event, filing)


def _members(db: Session, row: Person, whole_household: bool) -> list[Person]:
    """The people a filing moves: the whole household, or the person alone (never a head leaving others)."""
    others = list(
        db.scalars(
            select(Person)
            .where(
                Person.household_id == row.household_id,
                Person.id != row.id,
                Person.status == Status.RESIDENT.value,
            )
            .order_by(Person.id)
        )
    )
    if whole_household:
        return [row, *others]
    if row.relationship == Relationship.HEAD.value and others:
        raise EventOutOfOrder(
            "The head of a household with other members cannot move alone: move the whole household, "
            "or record a new head first (職権修正).",
            ja="世帯員がいる世帯主だけを移すことはできません。世帯全員で移すか、先に世帯主を変更してください。",
        )
    return [row]


def record_move_within(
    db: Session,
    ctx: RegistryContext,
    person_id: int,
    address: NewAddress,
    effective_date: dt.date,
    filing: Filing,
    *,
    whole_household: bool = False,
) -> list[int]:
    """転居: a new address inside this municipality. A person moving alone starts a new household."""
    if done := already_filed(db, filing):
        return done
    _not_after(effective_date, ctx.clock.today(), "move")
    a = clean_address(address)
    row = _person(db, person_id)
    if row.status != Status.RESIDENT.value:
        raise EventOutOfOrder(
            f"A 転居 needs a current resident; this person's status is {row.status}.",
            ja="転居は現在の住民についてのみ記録できます。",
        )
    movers = _members(db, row, whole_household)
    changes: dict[str, object] = {"town": a.town, "block": a.block, "building": a.building}
    solo = not whole_household and len(movers) == 1 and row.relationship != Relationship.HEAD.value
    if solo:
        household = Household(created_at=ctx.clock.now())
        db.add(household)
        db.flush()
        changes |= {"household_id": household.id, "relationship": Relationship.HEAD.value}
    for member in movers:
        _apply(db, ctx, member, Event(EventKind.MOVE_WITHIN, effective_date, changes), filing)
    return _recorded(db, person_id, EventKind.MOVE_WITHIN, [m.id for m in movers], filing)


def record_move_out(
    db: Session,
    ctx: RegistryContext,
    person_id: int,
    to_lg_code: str,
    effective_date: dt.date,
    filing: Filing,
    *,
    whole_household: bool = False,
) -> list[int]:
    """転出: the person (or household) leaves for another municipality."""
    if done := already_filed(db, filing):
        return done
    _not_after(effective_date, ctx.clock.today() + dt.timedelta(days=MOVE_OUT_NOTICE_DAYS), "move-out")
    destination = known_municipality(to_lg_code)
    if destination.lg_code == ctx.municipality_code:
        raise InvalidInput(
            "A move-out goes to another municipality; use 転居 within this one.",
            ja="転出先が当市区町村です。市区町村内の移動は転居として記録してください。",
            field="to_lg_code",
        )
    row = _person(db, person_id)
    movers = _members(db, row, whole_household) if row.status == Status.RESIDENT.value else [row]
    for member in movers:
        event = Event(EventKind.MOVE_OUT, effective_date, {}, {"to_lg_code": destination.lg_code})
        _apply(db, ctx, member, event, filing)
    return _recorded(db, person_id, EventKind.MOVE_OUT, [m.id for m in movers], filing)


def record_death(
    db: Session, ctx: RegistryContext, person_id: int, effective_date: dt.date, filing: Filing
) -> None:
    """死亡."""
    if already_filed(db, filing):
        return
    _not_after(effective_date, ctx.clock.today(), "death")
    _apply(db, ctx, _person(db, person_id), Event(EventKind.DEATH, effective_date), filing)
    _recorded(db, person_id, EventKind.DEATH, [person_id], filing)


# The events a staff member records for an existing resident, by the slug pages and the CLI use for them.
EVENT_SLUGS = {"move": EventKind.MOVE_WITHIN, "move-out": EventKind.MOVE_OUT, "death": EventKind.DEATH}


def record_event(
    db: Session,
    ctx: RegistryContext,
    person_id: int,
    kind: EventKind,
    effective_date: dt.date,
    filing: Filing,
    *,
    address: NewAddress | None = None,
    to_lg_code: str = "",
    whole_household: bool = False,
) -> list[int]:
    """One entry point for 転居, 転出 and 死亡 (pages, API and CLI all record through it)."""
    if kind is EventKind.MOVE_WITHIN:
        return record_move_within(
            db,
            ctx,
            person_id,
            address or NewAddress("", ""),
            effective_date,
            filing,
            whole_household=whole_household,
        )
    if kind is EventKind.MOVE_OUT:
        return record_move_out(
            db, ctx, person_id, to_lg_code, effective_date, filing, whole_household=whole_household
        )
    if kind is EventKind.DEATH:
        record_death(db, ctx, person_id, effective_date, filing)
        return [person_id]
    raise InvalidInput(f"{kind} is not recorded for an existing resident here.")


def record_correction(
    db: Session,
    ctx: RegistryContext,
    person_id: int,
    changes: dict[str, object],
    filing: Filing,
) -> None:
    """職権修正: correct recorded attributes; the reason is required and kept with the event."""
    if not filing.reason.strip():
        raise InvalidInput("A correction (職権修正) needs a reason.", field="reason")
    if not changes:
        raise InvalidInput("A correction needs at least one changed field.")
    cleaned = dict(changes)
    for f in ("family_name", "given_name"):
        if f in cleaned:
            cleaned[f] = clean_text(str(cleaned[f]), f, max_len=MAX_NAME)
    for f in ("family_name_kana", "given_name_kana"):
        if f in cleaned:
            cleaned[f] = clean_kana(str(cleaned[f]), f)
    if "birth_date" in cleaned:
        birth = parse_date(str(cleaned["birth_date"]), "birth_date")
        cleaned["birth_date"] = check_birth_date(birth, ctx.clock.today()).isoformat()
    _apply(db, ctx, _person(db, person_id), Event(EventKind.CORRECTION, ctx.clock.today(), cleaned), filing)
    _recorded(db, person_id, EventKind.CORRECTION, [person_id], filing, fields=sorted(cleaned))


def set_support_measure(
    db: Session,
    ctx: RegistryContext,
    person_id: int,
    reason: str,
    recorded_by: str,
    *,
    household: bool = True,
) -> list[int]:
    """支援措置: from today, the address of the person (and by default every household member) is suppressed.
    Idempotent: people already under a measure are left as they are. Returns the people newly protected."""
    row = _person(db, person_id)
    people = [row]
    if household:
        people += list(
            db.scalars(select(Person).where(Person.household_id == row.household_id, Person.id != row.id))
        )
    people = [p for p in people if not p.address_suppressed]
    for p in people:
        db.add(
            SupportMeasure(
                person_id=p.id,
                starts_on=ctx.clock.today(),
                ends_on=None,
                reason=reason,
                created_by=recorded_by,
                created_at=ctx.clock.now(),
            )
        )
        p.address_suppressed = True
    if people:
        audit.record(
            db,
            recorded_by,
            audit.AuditAction.SUPPORT_MEASURE_SET,
            f"person:{person_id}",
            persons=[p.id for p in people],
            reason=reason,
        )
    return [p.id for p in people]


def suppressed_households(db: Session, household_ids: set[int]) -> set[int]:
    """Which of these households have a member under 支援措置 (one query for a page of results)."""
    if not household_ids:
        return set()
    return set(
        db.scalars(
            select(Person.household_id)
            .distinct()
            .where(Person.household_id.in_(household_ids), Person.address_suppressed.is_(True))
        )
    )
