"""Fixtures of the law-review tests: a unit of work per file, row counts of every laws table, and a synthetic law
with its items imported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.audit.models import AuditEntry
from tsunagu.db.engine import unit_of_work
from tsunagu.laws import api as laws
from tsunagu.laws.models import LawDocument, LawProvision, ReviewEvent, ReviewItem

from .synthetic import EYES, PAPER, PLAIN, POSTED, write

Uow = Callable[[], AbstractContextManager[Session]]
TABLES = {
    "documents": LawDocument,
    "provisions": LawProvision,
    "items": ReviewItem,
    "events": ReviewEvent,
    "audit": AuditEntry,
}


def rows(factory: sessionmaker[Session]) -> dict[str, int]:
    """Committed row counts of the laws tables and the audit trail."""
    with factory() as db:
        return {
            name: db.scalar(select(func.count()).select_from(model)) or 0 for name, model in TABLES.items()
        }


def items_state(factory: sessionmaker[Session]) -> set[tuple[str, str, str, bool, str]]:
    """(law, address, category, present, status) of every item."""
    with factory() as db:
        return {
            (i.law_id, i.address, i.category, i.present, i.status) for i in db.scalars(select(ReviewItem))
        }


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> Uow:
    @contextmanager
    def make() -> Iterator[Session]:
        with unit_of_work(session_factory) as db:
            yield db

    return make


@pytest.fixture
def imported(uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path) -> list[laws.ItemSummary]:
    """The synthetic law (three findings and a plain article) imported; its items in law order."""
    path = write(tmp_path, "20200101", [EYES, POSTED, PAPER, PLAIN])
    report = laws.import_files(uow, [path], actor="test:import")
    assert report.imported == 1
    with session_factory() as db:
        page = laws.list_items(db, laws.ItemFilter())
    assert page.total >= 3
    return list(page.items)
