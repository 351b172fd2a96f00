"""The vaccination registry on a real database (SQLite and PostgreSQL): a dose is recorded and audited, bad input
writes nothing, a correction supersedes the old entry and keeps it, rows are append-only, and listeners hear of
each change in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in

from tsunagu.audit.models import AuditEntry
from tsunagu.health import api as health
from tsunagu.health.models import Dose
from tsunagu.kernel.errors import Conflict, NotFound
from tsunagu.registry.api import RegistryContext

FUJISAWA = "142051"  # 神奈川県藤沢市


def entry(person_id: int, **changes: object) -> health.DoseInput:
    values: dict[str, object] = {
        "person_id": person_id,
        "occurrence": dt.date(2021, 6, 1),
        "cvx": "208",
        "manufacturer": "PFR",
        "lot": "fa5829",
        "municipality_code": FUJISAWA,
    }
    values.update(changes)
    return health.DoseInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def resident(session_factory: sessionmaker[Session], ctx: RegistryContext) -> int:
    with session_factory.begin() as db:
        return move_in(db, ctx)


def doses(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(Dose)) or 0


def test_a_recorded_dose_is_current_audited_and_named(
    session_factory: sessionmaker[Session], resident: int
) -> None:
    with session_factory.begin() as db:
        rec = health.record_dose(db, entry(resident), actor="staff:hoken", now=NOW)
    assert rec.lot == "FA5829"  # lots are kept in capitals
    assert rec.performer == "神奈川県藤沢市"
    assert rec.vaccine_name.startswith("コミナティ")
    with session_factory() as db:
        assert health.doses_of(db, resident) == [rec]
        audited = db.scalars(select(AuditEntry).where(AuditEntry.action == "health:dose:record")).all()
    assert [(a.actor, a.subject, a.detail) for a in audited] == [
        ("staff:hoken", f"person:{resident}", {"dose": rec.dose_id})
    ]


def test_doses_are_listed_by_date(session_factory: sessionmaker[Session], resident: int) -> None:
    with session_factory.begin() as db:
        later = health.record_dose(
            db, entry(resident, occurrence=dt.date(2022, 1, 5)), actor="staff:a", now=NOW
        )
        first = health.record_dose(db, entry(resident), actor="staff:a", now=NOW)
    with session_factory() as db:
        assert [d.dose_id for d in health.doses_of(db, resident)] == [first.dose_id, later.dose_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurrence": dt.date(2026, 11, 27)}, "occurrence"),  # tomorrow in Japan
        ({"occurrence": dt.date(2021, 2, 16)}, "occurrence"),
        ({"cvx": "999"}, "cvx"),
        ({"manufacturer": "MOD"}, "manufacturer"),
        ({"lot": "  "}, "lot"),
        ({"lot": "X" * 21}, "lot"),
        ({"municipality_code": "142052"}, "municipality_code"),  # wrong check digit
        ({"municipality_code": "140007"}, "municipality_code"),  # a prefecture, not a municipality
    ],
)
def test_bad_input_writes_nothing(
    session_factory: sessionmaker[Session], resident: int, changes: dict[str, object], field: str
) -> None:
    with session_factory() as db:
        with pytest.raises(health.InvalidDose) as info:
            health.record_dose(db, entry(resident, **changes), actor="staff:a", now=NOW)
        db.rollback()
    assert info.value.field == field
    assert info.value.message_ja
    assert info.value.message_en
    assert doses(session_factory) == 0


def test_an_unknown_person_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db, pytest.raises(NotFound):
        health.record_dose(db, entry(987654), actor="staff:a", now=NOW)


def test_a_correction_supersedes_and_keeps_the_history(
    session_factory: sessionmaker[Session], resident: int
) -> None:
    heard: list[health.DoseChange] = []
    with session_factory.begin() as db:
        old = health.record_dose(db, entry(resident), actor="staff:a", now=NOW)
    with session_factory.begin() as db:
        new = health.correct_dose(
            db,
            old.dose_id,
            entry(resident, lot="FF2782"),
            actor="staff:b",
            now=NOW,
            reason="ロット番号の誤記",
            listeners=[lambda _db, change: heard.append(change)],
        )
    assert heard == [health.DoseChange(resident, new.dose_id, old.dose_id)]
    with session_factory() as db:
        assert health.doses_of(db, resident) == [new]
        history = health.history_of(db, resident)
        assert [(h.dose.lot, h.supersedes, h.action) for h in history] == [
            ("FA5829", None, "recorded"),
            ("FF2782", old.dose_id, "corrected"),
        ]
        assert history[1].reason == "ロット番号の誤記"
        assert history[1].recorded_by == "staff:b"
        assert db.scalar(select(func.count()).where(AuditEntry.action == "health:dose:correct")) == 1


def test_a_dose_is_corrected_once(session_factory: sessionmaker[Session], resident: int) -> None:
    with session_factory.begin() as db:
        old = health.record_dose(db, entry(resident), actor="staff:a", now=NOW)
        health.correct_dose(db, old.dose_id, entry(resident, lot="B1"), actor="staff:a", now=NOW)
    with session_factory() as db, pytest.raises(Conflict):
        health.correct_dose(db, old.dose_id, entry(resident, lot="B2"), actor="staff:a", now=NOW)
    assert doses(session_factory) == 2


def test_a_dose_of_someone_else_is_not_corrected(
    session_factory: sessionmaker[Session], resident: int, ctx: RegistryContext
) -> None:
    with session_factory.begin() as db:
        other = move_in(db, ctx)
        old = health.record_dose(db, entry(other), actor="staff:a", now=NOW)
    with session_factory() as db, pytest.raises(NotFound):
        health.correct_dose(db, old.dose_id, entry(resident), actor="staff:a", now=NOW)


@pytest.mark.parametrize("statement", ["UPDATE health_doses SET lot = 'X'", "DELETE FROM health_doses"])
def test_dose_rows_are_append_only(
    session_factory: sessionmaker[Session], resident: int, statement: str
) -> None:
    with session_factory.begin() as db:
        health.record_dose(db, entry(resident), actor="staff:a", now=NOW)
    with session_factory() as db, pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    assert doses(session_factory) == 1


def test_the_catalogue_is_offered() -> None:
    codes = {v.cvx for v in health.vaccines()}
    assert {"207", "208", "210", "211"} <= codes
