"""CSV export and import of residents: a faithful round trip, idempotent per file, all-or-nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.demo import prepare
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import Forbidden
from tsunagu.registry.api import registry_context
from tsunagu.registry.models import Person, PersonEvent, RegistryImport
from tsunagu.registry.services.exchange import IMPORT_COLUMNS, ImportRejected, export_csv, import_csv
from tsunagu.registry.services.records import RegistryContext
from tsunagu.registry.services.verify import replay_all
from tsunagu.settings import Settings

from .conftest import OTHER_CITY, counts, refuse, residents_snapshot

RESIDENTS = 300


def _export(factory: sessionmaker[Session], viewer: Principal) -> bytes:
    out = io.StringIO()
    with unit_of_work(factory) as db:
        export_csv(db, viewer, out)
    return out.getvalue().encode("utf-8")


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(dict.fromkeys(IMPORT_COLUMNS, "") | row)
    return out.getvalue().encode("utf-8")


def _row(
    household: str, relationship: str, given: str, given_kana: str, birth: str, **extra: str
) -> dict[str, str]:
    return {
        "household_key": household,
        "relationship": relationship,
        "family_name": "佐藤",
        "given_name": given,
        "family_name_kana": "サトウ",
        "given_name_kana": given_kana,
        "birth_date": birth,
        "sex": "female",
        "town": "本町",
        "block": "2番3号",
        "event": "move_in",
        "effective_date": "2024-04-01",
        "from_lg_code": OTHER_CITY,
    } | extra


GOOD_ROWS = [
    _row("A", "head", "花子", "ハナコ", "1970-01-01"),
    _row(
        "A",
        "child",
        "桜",
        "サクラ",
        "2024-05-05",
        event="birth",
        effective_date="2024-05-05",
        from_lg_code="",
    ),
    _row("B", "head", "恵", "メグミ", "1990-03-03", building="ハイツ本町 101号室"),
]


def test_export_then_import_into_a_fresh_database_reproduces_the_residents(
    settings: Settings,
    clean_settings: Callable[[str], Settings],
    clock: Clock,
    session_factory: sessionmaker[Session],
    clerk: Principal,
) -> None:
    prepare(settings, RESIDENTS, clock.today())
    data = _export(session_factory, clerk)
    assert data.decode().count("\n") == RESIDENTS + 1  # header, then current residents only

    target = clean_settings("other")
    engine = make_engine(target)
    try:
        factory = make_session_factory(engine)
        with unit_of_work(factory) as db:
            result = import_csv(db, registry_context(target, clock), clerk, data)
        assert not result.already_imported
        assert result.persons == RESIDENTS
        assert residents_snapshot(factory) == residents_snapshot(session_factory)
        with factory() as db:
            assert replay_all(db).mismatches == []
            suppressed = {
                p.resident_code for p in db.scalars(select(Person).where(Person.address_suppressed.is_(True)))
            }
        with session_factory() as db:
            source = {
                p.resident_code: (p.family_name, p.given_name, p.birth_date)
                for p in db.scalars(select(Person).where(Person.address_suppressed.is_(True)))
            }
        assert source, "the demo seed has at least one household under 支援措置"
        with factory() as db:
            imported = {
                (p.family_name, p.given_name, p.birth_date)
                for p in db.scalars(select(Person).where(Person.address_suppressed.is_(True)))
            }
        assert imported == set(source.values())  # the support measure survives the round trip
        assert len(suppressed) == len(source)
        with factory() as db:
            first_events = {kind for (kind,) in db.execute(select(PersonEvent.kind).distinct())}
            assert first_events == {"birth", "move_in"}

        after_first = counts(factory)
        with unit_of_work(factory) as db:
            again = import_csv(db, registry_context(target, clock), clerk, data)
        assert again.already_imported
        assert (again.persons, again.households, again.sha256) == (0, 0, result.sha256)
        assert counts(factory) == after_first
    finally:
        engine.dispose()


def test_importing_the_same_file_twice_imports_nothing_the_second_time(
    ctx: RegistryContext, session_factory: sessionmaker[Session], clerk: Principal
) -> None:
    data = _csv(GOOD_ROWS)
    with unit_of_work(session_factory) as db:
        first = import_csv(db, ctx, clerk, data)
    assert (first.persons, first.households, first.already_imported) == (3, 2, False)
    after_first = counts(session_factory)
    assert (after_first["persons"], after_first["events"], after_first["imports"]) == (3, 3, 1)
    with session_factory() as db:
        building = db.scalar(select(Person.building).where(Person.given_name == "恵"))
        assert building == "ハイツ本町 101号室"
        child = db.scalar(select(Person).where(Person.given_name == "桜"))
        head = db.scalar(select(Person).where(Person.given_name == "花子"))
        assert child is not None
        assert head is not None
        assert child.household_id == head.household_id
        assert db.scalar(select(RegistryImport.persons)) == 3

    with unit_of_work(session_factory) as db:
        second = import_csv(db, ctx, clerk, data)
    assert second.already_imported
    assert second.persons == 0
    assert counts(session_factory) == after_first


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param({"birth_date": "1990-02-30"}, "Date of birth must be a date", id="impossible-date"),
        pytest.param({"birth_date": "2099-01-01"}, "future", id="future-birth"),
        pytest.param({"given_name_kana": "Megumi"}, "katakana", id="kana-in-latin-letters"),
        pytest.param({"from_lg_code": "142051"}, "another municipality", id="move-in-from-here"),
        pytest.param({"my_number": "123456789012"}, "check digit", id="bad-my-number"),
        pytest.param({"relationship": "child", "household_key": "C"}, "must be its head", id="no-head-first"),
        pytest.param({"sex": "x"}, "line 4", id="unknown-sex"),
    ],
)
def test_one_bad_row_rejects_the_whole_file_and_names_its_line(
    ctx: RegistryContext,
    session_factory: sessionmaker[Session],
    clerk: Principal,
    bad: dict[str, str],
    message: str,
) -> None:
    rows = [*GOOD_ROWS[:2], GOOD_ROWS[2] | bad]  # the bad row is the fourth line of the file
    data = _csv(rows)
    for _ in range(2):  # a rejected file is not remembered as imported: it is rejected again
        info = refuse(
            session_factory,
            ImportRejected,
            lambda db: import_csv(db, ctx, clerk, data),
            untouched_transaction=False,  # the good rows are written, then rolled back with the transaction
        )
        rejected = info.value
        assert isinstance(rejected, ImportRejected)
        assert "line 4:" in rejected.detail
        assert message in rejected.detail
        assert rejected.extra["errors"][0].startswith("line 4:")
        assert len(rejected.extra["errors"]) == 1
        assert "123456789012" not in rejected.detail


def test_every_bad_row_is_reported(
    ctx: RegistryContext, session_factory: sessionmaker[Session], clerk: Principal
) -> None:
    rows = [GOOD_ROWS[0] | {"birth_date": "x"}, GOOD_ROWS[1], GOOD_ROWS[2] | {"sex": "x"}]
    info = refuse(session_factory, ImportRejected, lambda db: import_csv(db, ctx, clerk, _csv(rows)))
    errors = info.value.extra["errors"]  # type: ignore[attr-defined]
    # line 3 fails too: its household's head (line 2) was refused
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 3", "line 4"]


def test_a_file_without_the_required_columns_is_rejected(
    ctx: RegistryContext, session_factory: sessionmaker[Session], clerk: Principal
) -> None:
    info = refuse(
        session_factory,
        ImportRejected,
        lambda db: import_csv(db, ctx, clerk, b"family_name,given_name\n\xe4\xbd\x90\xe8\x97\xa4,x\n"),
    )
    assert "birth_date" in info.value.extra["missing"]  # type: ignore[attr-defined]
    refuse(session_factory, ImportRejected, lambda db: import_csv(db, ctx, clerk, b"\xff\xfe not utf-8"))


def test_export_and_import_need_their_permissions(
    ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    counter = Principal(2, "counter", "Counter", frozenset())
    refuse(session_factory, Forbidden, lambda db: import_csv(db, ctx, counter, _csv(GOOD_ROWS)))
    with pytest.raises(Forbidden), session_factory() as db:
        export_csv(db, counter, io.StringIO())
