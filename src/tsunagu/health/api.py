"""Public interface of the health domain (the only module other packages may import): the vaccination registry.

``doses_of`` gives a person's current doses (what a vaccination credential shows). ``record_dose`` and
``correct_dose`` validate, append and audit in the caller's transaction; a correction supersedes the old entry (kept
in the history). Both take ``listeners`` (wired by the shell): each hears a :class:`DoseChange` naming the new dose
and, for a correction, the superseded dose id, so another domain can revoke what showed the old one."""

from __future__ import annotations

from tsunagu.health.core.vaccines import MANUFACTURERS, Problem, Vaccine
from tsunagu.health.seed import demo_doses as seed_demo_doses
from tsunagu.health.services.doses import (
    DoseChange,
    DoseEntry,
    DoseInput,
    DoseListener,
    DoseRecord,
    InvalidDose,
    correct_dose,
    doses_of,
    history_of,
    record_dose,
    vaccines,
)

__all__ = [
    "MANUFACTURERS",
    "DoseChange",
    "DoseEntry",
    "DoseInput",
    "DoseListener",
    "DoseRecord",
    "InvalidDose",
    "Problem",
    "Vaccine",
    "correct_dose",
    "doses_of",
    "history_of",
    "record_dose",
    "seed_demo_doses",
    "vaccines",
]
