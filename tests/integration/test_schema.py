"""The migrated schema: one Alembic head, no drift from the models, and an append-only movement history."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, exc, select, text
from sqlalchemy.orm import Session

from tsunagu.db.migrate import alembic_config, upgrade
from tsunagu.db.models_registry import metadata
from tsunagu.registry.models import PersonEvent
from tsunagu.registry.services.records import Filing, NewAddress, RegistryContext, record_move_within
from tsunagu.settings import Settings

from .conftest import move_in


def test_the_migration_history_has_a_single_head(settings: Settings, engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(settings))
    heads = script.get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them"
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == heads[0]


def test_the_models_match_the_migrated_schema(engine: Engine) -> None:
    """What ``alembic check`` does: autogenerate against the migrated database must find nothing to do."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "target_metadata": metadata},
        )
        diffs = compare_metadata(context, metadata)
    assert diffs == []


def test_upgrading_an_up_to_date_database_changes_nothing(settings: Settings, engine: Engine) -> None:
    def tables() -> list[tuple[str, str]]:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT type, name FROM sqlite_master ORDER BY type, name"))
            else:
                rows = conn.execute(
                    text(
                        "SELECT 'table', tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal "
                        "ORDER BY 1, 2"
                    )
                )
            return [(str(a), str(b)) for a, b in rows]

    before = tables()
    upgrade(settings)
    assert tables() == before


@pytest.fixture
def recorded(db: Session, ctx: RegistryContext) -> int:
    """One person with two events in the history; returns the person's id."""
    pid = move_in(db, ctx)
    record_move_within(db, ctx, pid, NewAddress("辻堂", "5番6号"), dt.date(2026, 1, 5), Filing("test-clerk"))
    db.commit()
    return pid


def _history(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(PersonEvent.__table__).order_by(PersonEvent.id))]


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE registry_events SET reason = 'rewritten'", id="update"),
        pytest.param(
            "UPDATE registry_events SET effective_date = effective_date WHERE id = 1", id="noop-update"
        ),
        pytest.param("DELETE FROM registry_events", id="delete"),
        pytest.param("DELETE FROM registry_events WHERE id = 1", id="delete-one"),
    ],
)
def test_the_database_refuses_to_rewrite_the_history(engine: Engine, recorded: int, statement: str) -> None:
    before = _history(engine)
    assert len(before) == 2
    with pytest.raises(exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert _history(engine) == before


def test_the_orm_cannot_rewrite_the_history_either(engine: Engine, recorded: int) -> None:
    before = _history(engine)
    with Session(engine) as db:
        event = db.scalars(select(PersonEvent)).first()
        assert event is not None
        event.reason = "rewritten"
        with pytest.raises(exc.DBAPIError, match="append-only"):
            db.commit()
    with Session(engine) as db:
        db.delete(db.scalars(select(PersonEvent)).first())
        with pytest.raises(exc.DBAPIError, match="append-only"):
            db.commit()
    assert _history(engine) == before


def test_appending_to_the_history_is_allowed(db: Session, ctx: RegistryContext, recorded: int) -> None:
    record_move_within(
        db, ctx, recorded, NewAddress("鵠沼", "7番8号"), dt.date(2026, 2, 1), Filing("test-clerk")
    )
    db.commit()
    assert len(list(db.scalars(select(PersonEvent).where(PersonEvent.person_id == recorded)))) == 3


def test_a_released_savepoint_is_rolled_back_with_its_transaction(engine: Engine) -> None:
    """All-or-nothing work (the CSV import) relies on this; the sqlite3 module needs help to get it right."""
    with Session(engine) as db:
        db.execute(select(PersonEvent.id))  # a read first: the sqlite3 module would not begin a transaction
        with db.begin_nested():
            db.execute(text("INSERT INTO platform_meta (key, value) VALUES ('probe', '{}')"))
        db.rollback()
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM platform_meta")) == 0
