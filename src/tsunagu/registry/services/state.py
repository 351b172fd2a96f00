"""Mapping between the projection row and the pure :class:`PersonState`, and event (de)serialisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tsunagu.registry.core.types import Address, Event, EventKind, PersonState, Relationship, Sex, Status
from tsunagu.registry.models import Person, PersonEvent


def state_of(row: Person) -> PersonState:
    return PersonState(
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        sex=Sex(row.sex),
        address=Address(row.lg_code, row.town, row.block, row.building or ""),
        household_id=row.household_id,
        relationship=Relationship(row.relationship),
        status=Status(row.status),
        registered_on=row.registered_on,
        left_on=row.left_on,
        last_event_on=row.last_event_on,
    )


def row_values(state: PersonState) -> dict[str, Any]:
    return {
        "family_name": state.family_name,
        "given_name": state.given_name,
        "family_name_kana": state.family_name_kana,
        "given_name_kana": state.given_name_kana,
        "birth_date": state.birth_date,
        "sex": state.sex.value,
        "lg_code": state.address.lg_code,
        "town": state.address.town,
        "block": state.address.block,
        "building": state.address.building,
        "household_id": state.household_id,
        "relationship": state.relationship.value,
        "status": state.status.value,
        "registered_on": state.registered_on,
        "left_on": state.left_on,
        "last_event_on": state.last_event_on,
    }


def write_state(row: Person, state: PersonState) -> None:
    for key, value in row_values(state).items():
        setattr(row, key, value)


def payload_of(event: Event) -> dict[str, Any]:
    return {"changes": dict(event.changes), "details": dict(event.details)}


def event_of(row: PersonEvent) -> Event:
    payload = row.payload or {}
    return Event(
        kind=EventKind(row.kind),
        effective_date=_as_date(row.effective_date),
        changes=dict(payload.get("changes", {})),
        details=dict(payload.get("details", {})),
    )


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
