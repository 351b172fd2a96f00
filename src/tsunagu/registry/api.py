"""Public interface of the registry domain (住民基本台帳). Other domains import only this module."""

from __future__ import annotations

from collections.abc import Sequence

from tsunagu.kernel.clock import Clock
from tsunagu.registry.core.types import Address, EventKind, RegistryChange, Relationship, Sex, Status
from tsunagu.registry.municipalities import Municipality, known_municipality, municipalities
from tsunagu.registry.services.addresses import check_address, towns_of
from tsunagu.registry.services.facts import BasicFacts, basic_facts, household_facts, name_and_status
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.registry.services.queries import (
    EventView,
    ResidentView,
    Stats,
    get_resident,
    history,
    person_ids_by_my_number,
    search,
    stats,
)
from tsunagu.registry.services.records import (
    ChangeListener,
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
from tsunagu.registry.services.roll import RollRow, residents_on
from tsunagu.registry.services.transfers import record_move_in_existing
from tsunagu.settings import Settings


def registry_context(
    settings: Settings,
    clock: Clock,
    listeners: Sequence[ChangeListener] = (),
    municipality_code: str | None = None,
) -> RegistryContext:
    """The context events are recorded in: this installation's municipality, or ``municipality_code``, another
    municipality of the platform (the destination of a 特例転入, whose staff record it)."""
    code = (
        settings.municipality_code
        if municipality_code is None
        else known_municipality(municipality_code).lg_code
    )
    return RegistryContext(
        RegistryKeys.from_master(settings.master_secret()),
        clock,
        code,
        tuple(listeners),
    )


__all__ = [
    "Address",
    "BasicFacts",
    "ChangeListener",
    "EventKind",
    "EventView",
    "Filing",
    "Municipality",
    "NewAddress",
    "NewPerson",
    "Placement",
    "RegistryChange",
    "RegistryContext",
    "Relationship",
    "ResidentView",
    "RollRow",
    "Sex",
    "Stats",
    "Status",
    "basic_facts",
    "check_address",
    "get_resident",
    "history",
    "household_facts",
    "known_municipality",
    "municipalities",
    "name_and_status",
    "person_ids_by_my_number",
    "record_death",
    "record_event",
    "record_move_in_existing",
    "record_move_out",
    "record_move_within",
    "registry_context",
    "residents_on",
    "search",
    "start_record",
    "stats",
    "towns_of",
]
