"""特例転入 (住民基本台帳法 art. 24-2): the 転入 of a card holder who moved out of another municipality of this
platform. The record the origin closed with its 転出 is re-opened in the destination, as 住基ネット carries the
person over: the same row, 住民票コード and My Number, with the destination's code and the new address. The
event is an ordinary 転入 (:class:`EventKind.MOVE_IN`) folded by :func:`apply_event`, so ``tsunagu registry
verify`` replays it like any other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.kernel.errors import EventOutOfOrder, InvalidInput
from tsunagu.registry.core.types import Event, EventKind, Relationship, Status
from tsunagu.registry.models import Household, Person, PersonEvent
from tsunagu.registry.municipalities import known_municipality
from tsunagu.registry.services.records import (
    Filing,
    NewAddress,
    RegistryContext,
    _apply,
    _not_after,
    _person,
    _recorded,
    already_filed,
    clean_address,
)
from tsunagu.registry.services.state import event_of

# The relationship a mover keeps when the head of the new household is not the head they lived with: the
# registry cannot know how they are related to the new head, and staff correct it (職権修正) when they do.
UNKNOWN_RELATIONSHIP = Relationship.OTHER_RELATIVE


def _last_move_out(db: Session, person_id: int) -> Event | None:
    row = db.scalar(
        select(PersonEvent)
        .where(PersonEvent.person_id == person_id, PersonEvent.kind == EventKind.MOVE_OUT.value)
        .order_by(PersonEvent.id.desc())
        .limit(1)
    )
    return None if row is None else event_of(row)


def _check_moved_here(
    db: Session, ctx: RegistryContext, row: Person, from_lg_code: str, effective_date: dt.date
) -> None:
    """The person left ``from_lg_code`` for this municipality (their record is closed by that 転出), on or before
    ``effective_date``."""
    if row.status != Status.MOVED_OUT.value:
        raise EventOutOfOrder(
            f"A 特例転入 re-opens a record closed by a 転出; person {row.id}'s status is {row.status}.",
            ja="転出の記録がない人（または死亡した人）は特例転入できません。",
        )
    move_out = _last_move_out(db, row.id)
    if move_out is None or row.lg_code != from_lg_code:
        raise EventOutOfOrder(
            f"Person {row.id} did not move out of {from_lg_code}.",
            ja="転出元の市区町村の転出の記録と一致しません。",
        )
    if move_out.details.get("to_lg_code") != ctx.municipality_code:
        raise EventOutOfOrder(
            f"Person {row.id} moved out to {move_out.details.get('to_lg_code')}, not to "
            f"{ctx.municipality_code}.",
            ja="転出先がこの市区町村ではありません（転出届の転出先を確かめてください）。",
        )
    if effective_date < move_out.effective_date:
        raise InvalidInput(
            f"The move-in date {effective_date} is before the move-out ({move_out.effective_date}).",
            ja=f"転入した日が転出の日（{move_out.effective_date}）より前です。",
            field="effective_date",
        )


def _relationships(rows: list[Person]) -> dict[int, Relationship]:
    """The first mover who was a head (世帯主) heads the new household, else the first listed; the others keep
    their relationship if they lived with that head, else :data:`UNKNOWN_RELATIONSHIP`."""
    head = next((r for r in rows if r.relationship == Relationship.HEAD.value), rows[0])
    kept = head.relationship == Relationship.HEAD.value
    result: dict[int, Relationship] = {}
    for row in rows:
        if row is head:
            result[row.id] = Relationship.HEAD
        elif kept and row.household_id == head.household_id and row.relationship != Relationship.HEAD.value:
            result[row.id] = Relationship(row.relationship)
        else:
            result[row.id] = UNKNOWN_RELATIONSHIP
    return result


def record_move_in_existing(
    db: Session,
    ctx: RegistryContext,
    person_ids: Sequence[int],
    address: NewAddress,
    effective_date: dt.date,
    filing: Filing,
    *,
    from_lg_code: str,
) -> list[int]:
    """特例転入: re-open the records of people who moved out of ``from_lg_code`` to this municipality, all in one
    new household at ``address``. Returns the person ids (the same ones). Idempotent by ``filing.filing_id``."""
    if done := already_filed(db, filing):
        return done
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        raise InvalidInput("A move-in needs at least one person.", ja="転入する人を選んでください。")
    _not_after(effective_date, ctx.clock.today(), "move-in")
    origin = known_municipality(from_lg_code)
    if origin.lg_code == ctx.municipality_code:
        raise InvalidInput(
            "A move-in comes from another municipality; use 転居 within this one.",
            ja="転入前の市区町村が当市区町村です。市区町村内の移動は転居として記録してください。",
            field="from_lg_code",
        )
    a = clean_address(address)
    rows = [_person(db, pid) for pid in ids]
    for row in rows:
        _check_moved_here(db, ctx, row, origin.lg_code, effective_date)
    relationships = _relationships(rows)
    household = Household(created_at=ctx.clock.now())
    db.add(household)
    db.flush()
    for row in rows:
        changes: dict[str, object] = {
            "family_name": row.family_name,
            "given_name": row.given_name,
            "family_name_kana": row.family_name_kana,
            "given_name_kana": row.given_name_kana,
            "birth_date": row.birth_date.isoformat(),
            "sex": row.sex,
            "lg_code": ctx.municipality_code,
            "town": a.town,
            "block": a.block,
            "building": a.building,
            "household_id": household.id,
            "relationship": relationships[row.id].value,
        }
        event = Event(EventKind.MOVE_IN, effective_date, changes, {"from_lg_code": origin.lg_code})
        _apply(db, ctx, row, event, filing)
    return _recorded(db, ids[0], EventKind.MOVE_IN, ids, filing, special="art-24-2")
