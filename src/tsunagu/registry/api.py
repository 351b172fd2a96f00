"""Public interface of the registry domain (住民基本台帳). Other domains import only this module."""

from __future__ import annotations

from tsunagu.kernel.clock import Clock
from tsunagu.registry.core.types import Address, EventKind, Relationship, Sex, Status
from tsunagu.registry.municipalities import Municipality, known_municipality, municipalities
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.registry.services.queries import (
    EventView,
    ResidentView,
    Stats,
    get_resident,
    history,
    search,
    stats,
)
from tsunagu.registry.services.records import (
    Filing,
    NewAddress,
    NewPerson,
    Placement,
    RegistryContext,
    record_death,
    record_event,
    record_move_out,
    record_move_within,
    start_record,
)
from tsunagu.settings import Settings


def registry_context(settings: Settings, clock: Clock) -> RegistryContext:
    return RegistryContext(
        RegistryKeys.from_master(settings.master_secret()), clock, settings.municipality_code
    )


__all__ = [
    "Address",
    "EventKind",
    "EventView",
    "Filing",
    "Municipality",
    "NewAddress",
    "NewPerson",
    "Placement",
    "RegistryContext",
    "Relationship",
    "ResidentView",
    "Sex",
    "Stats",
    "Status",
    "get_resident",
    "history",
    "known_municipality",
    "municipalities",
    "record_death",
    "record_event",
    "record_move_out",
    "record_move_within",
    "registry_context",
    "search",
    "start_record",
    "stats",
]
