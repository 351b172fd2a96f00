"""Replay the append-only history and compare it with the stored current state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.registry.core.projection import fold
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.registry.services.state import event_of, state_of

BATCH = 5000


@dataclass
class VerifyReport:
    checked: int = 0
    mismatches: list[int] = field(default_factory=list)


def replay_all(db: Session, progress: Callable[[int], None] | None = None) -> VerifyReport:
    report = VerifyReport()
    last = 0
    while True:
        people = list(db.scalars(select(Person).where(Person.id > last).order_by(Person.id).limit(BATCH)))
        if not people:
            return report
        ids = [p.id for p in people]
        events: dict[int, list[PersonEvent]] = {i: [] for i in ids}
        for ev in db.scalars(
            select(PersonEvent).where(PersonEvent.person_id.in_(ids)).order_by(PersonEvent.id)
        ):
            events[ev.person_id].append(ev)
        for p in people:
            replayed = fold(event_of(e) for e in events[p.id])
            if replayed != state_of(p):
                report.mismatches.append(p.id)
            report.checked += 1
        if progress:
            progress(len(people))
        last = ids[-1]
        db.expunge_all()
