"""Fold movement events into the current state of a person. The only place the history rules live.

Rules (a violation raises :class:`EventOutOfOrder` and nothing is written):
- 出生 / 転入 start a record (転入 may also re-open the record of someone who had moved out);
- 転居, 転出, 死亡 need a current resident; 死亡 and 転出 close the record;
- 職権修正 corrects attributes of any record;
- effective dates never go backwards within one person's history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from tsunagu.kernel.errors import EventOutOfOrder, InvalidInput
from tsunagu.registry.core.types import Address, Event, EventKind, PersonState, Relationship, Sex, Status

ATTRIBUTE_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date", "sex")
ADDRESS_FIELDS = ("lg_code", "town", "block", "building")
HOUSEHOLD_FIELDS = ("household_id", "relationship")
CORRECTABLE = ATTRIBUTE_FIELDS + ADDRESS_FIELDS + HOUSEHOLD_FIELDS


def _address(changes: dict[str, object], base: Address | None) -> Address:
    values = {
        f: str(changes[f]) if f in changes else (getattr(base, f) if base else "") for f in ADDRESS_FIELDS
    }
    return Address(**values)


def _start(event: Event) -> PersonState:
    c = event.changes
    missing = [f for f in (*ATTRIBUTE_FIELDS, "lg_code", "town", "block", *HOUSEHOLD_FIELDS) if f not in c]
    if missing:
        raise InvalidInput(f"The event is missing: {', '.join(missing)}.", missing=missing)
    return PersonState(
        family_name=str(c["family_name"]),
        given_name=str(c["given_name"]),
        family_name_kana=str(c["family_name_kana"]),
        given_name_kana=str(c["given_name_kana"]),
        birth_date=dt.date.fromisoformat(str(c["birth_date"])),
        sex=Sex(str(c["sex"])),
        address=_address(c, None),
        household_id=int(str(c["household_id"])),
        relationship=Relationship(str(c["relationship"])),
        status=Status.RESIDENT,
        registered_on=event.effective_date,
        last_event_on=event.effective_date,
    )


def _update(state: PersonState, event: Event) -> PersonState:
    c = event.changes
    unknown = sorted(set(c) - set(CORRECTABLE))
    if unknown:
        raise InvalidInput(f"These fields cannot be changed by an event: {', '.join(unknown)}.")
    values: dict[str, object] = {}
    for f in ("family_name", "given_name", "family_name_kana", "given_name_kana"):
        if f in c:
            values[f] = str(c[f])
    if "birth_date" in c:
        values["birth_date"] = dt.date.fromisoformat(str(c["birth_date"]))
    if "sex" in c:
        values["sex"] = Sex(str(c["sex"]))
    if any(f in c for f in ADDRESS_FIELDS):
        values["address"] = _address(c, state.address)
    if "household_id" in c:
        values["household_id"] = int(str(c["household_id"]))
    if "relationship" in c:
        values["relationship"] = Relationship(str(c["relationship"]))
    return dataclasses.replace(state, **values)  # type: ignore[arg-type]


def apply_event(state: PersonState | None, event: Event) -> PersonState:
    """Return the state after ``event``; raise if the event does not fit the history."""
    kind = event.kind
    if state is not None and state.last_event_on and event.effective_date < state.last_event_on:
        raise EventOutOfOrder(
            f"The effective date {event.effective_date} is before the last recorded event "
            f"({state.last_event_on}); record events in date order or use a correction.",
            ja=f"日付が最後の異動（{state.last_event_on}）より前です。異動は日付順に記録してください。",
        )
    if kind is EventKind.BIRTH:
        if state is not None:
            raise EventOutOfOrder("A birth can only start a new record.")
        return _start(event)
    if kind is EventKind.MOVE_IN:
        if state is not None and state.status is not Status.MOVED_OUT:
            raise EventOutOfOrder(
                f"A move-in (転入) needs a person who is not resident here; status is {state.status}.",
                ja="この人はすでに住民です。転入は記録できません。",
            )
        new = _start(event)
        return new if state is None else dataclasses.replace(new, left_on=None)
    if state is None:
        raise EventOutOfOrder(f"A {kind} event needs an existing record.")
    if kind is EventKind.CORRECTION:
        if state.status is Status.DECEASED and any(f in event.changes for f in ADDRESS_FIELDS):
            raise EventOutOfOrder(
                "The address of a deceased person cannot be changed.", ja="死亡した人の住所は変更できません。"
            )
        return dataclasses.replace(_update(state, event), last_event_on=event.effective_date)
    if state.status is not Status.RESIDENT:
        raise EventOutOfOrder(
            f"A {kind} event needs a current resident; this person's status is {state.status}.",
            ja="この人は現在の住民ではありません（転出または死亡が記録済みです）。",
        )
    if kind is EventKind.MOVE_WITHIN:
        if not any(f in event.changes for f in ("town", "block", "building")):
            raise InvalidInput(
                "A move within the municipality (転居) needs the new address.",
                ja="転居先の住所を入力してください。",
            )
        return dataclasses.replace(_update(state, event), last_event_on=event.effective_date)
    closed = Status.MOVED_OUT if kind is EventKind.MOVE_OUT else Status.DECEASED
    return dataclasses.replace(
        state,
        status=closed,
        left_on=event.effective_date,
        last_event_on=event.effective_date,
    )


def fold(events: Iterable[Event]) -> PersonState | None:
    """Replay a person's whole history; the result must equal the stored current state."""
    state: PersonState | None = None
    for event in events:
        state = apply_event(state, event)
    return state
