"""``registry.residents_on``: the municipality's roll on a reference date, in household order, audited once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import OTHER_CITY, move_in, person

from tsunagu.audit.models import AuditEntry
from tsunagu.registry import api as registry
from tsunagu.registry.services.records import RegistryContext


def test_the_roll_on_a_date(session_factory: sessionmaker[Session], ctx: RegistryContext) -> None:
    with session_factory() as db:
        first = move_in(db, ctx, person("山田", "太郎", "ヤマダ", "タロウ"), on=dt.date(2020, 4, 1))
        hid = registry.basic_facts(db, first).household_id
        child = move_in(
            db,
            ctx,
            person("山田", "一郎", "ヤマダ", "イチロウ", dt.date(2019, 5, 5)),
            registry.Placement(hid, registry.Relationship.CHILD),
            on=dt.date(2020, 4, 1),
        )
        later = move_in(db, ctx, person("佐藤", "花子", "サトウ", "ハナコ"), on=dt.date(2026, 11, 2))
        gone = move_in(db, ctx, person("鈴木", "次郎", "スズキ", "ジロウ"), on=dt.date(2021, 1, 1))
        registry.record_move_out(db, ctx, gone, OTHER_CITY, dt.date(2026, 10, 1), registry.Filing("clerk"))
        db.commit()
    with session_factory() as db:
        roll = list(
            registry.residents_on(db, ctx.municipality_code, dt.date(2026, 11, 1), actor="agency:LG-142051")
        )
        assert [(r.person_id, r.household_id, r.relationship) for r in roll] == [
            (first, hid, "head"),
            (child, hid, "child"),
        ]
        assert roll[1].birth_date == dt.date(2019, 5, 5)
        # the day before the move-out: still on that day's roll; the day of the move-in: on it
        assert gone in {
            r.person_id for r in registry.residents_on(db, ctx.municipality_code, dt.date(2026, 9, 30))
        }
        assert later in {
            r.person_id for r in registry.residents_on(db, ctx.municipality_code, dt.date(2026, 11, 2))
        }
        assert list(registry.residents_on(db, OTHER_CITY, dt.date(2026, 11, 1))) == []
        entries = db.scalars(select(AuditEntry).where(AuditEntry.subject.like("roll:%"))).all()
        assert (entries[0].actor, entries[0].action, entries[0].subject) == (
            "agency:LG-142051",
            "registry:data:export",
            f"roll:{ctx.municipality_code}",
        )
        assert len(entries) == 4  # one per read, whatever its size
