"""Public interface of the procedures domain (the only module other packages may import): online procedures,
life-event one-stops, the back office and the fan-out worker."""

from __future__ import annotations

from tsunagu.procedures.context import ProceduresContext, procedures_context
from tsunagu.procedures.core.catalogue import Catalogue, Procedure, State
from tsunagu.procedures.services.backoffice import assign_office, offices_of
from tsunagu.procedures.services.outbox import Pass, work
from tsunagu.procedures.sources import catalogue, life_events

__all__ = [
    "Catalogue",
    "Pass",
    "Procedure",
    "ProceduresContext",
    "State",
    "assign_office",
    "catalogue",
    "life_events",
    "offices_of",
    "procedures_context",
    "work",
]
