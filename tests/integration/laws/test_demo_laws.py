"""The demo's law step: the laws in a folder are imported after the seed, a second start imports nothing new, a
missing folder is said and skipped, and the law reviewer's demo login exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu import demo
from tsunagu.identity.models import StaffUser
from tsunagu.kernel.clock import Clock
from tsunagu.laws import api as laws
from tsunagu.settings import Settings

from .conftest import rows
from .synthetic import EYES, POSTED, write

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)  # the seed is the same on both


def test_the_demo_imports_its_laws_once_and_says_so(
    settings: Settings, clock: Clock, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    write(tmp_path, "20200101", [EYES, POSTED])
    write(tmp_path, "20200101", [EYES], law_id="405AC0000000998")
    first = demo.prepare(settings, 30, clock.today(), laws_dir=tmp_path)
    assert first.laws.startswith("laws: 2 imported, 0 already there")
    with session_factory() as db:
        assert len(laws.laws(db)) == 2
        reviewer = db.scalars(select(StaffUser).where(StaffUser.username == "housei")).one()
        assert "law_reviewer" in str(reviewer.roles)
    before = rows(session_factory)
    again = demo.prepare(settings, 30, clock.today(), laws_dir=tmp_path)
    assert again.laws.startswith("laws: 0 imported, 2 already there")
    assert rows(session_factory) == before
    gone = demo.prepare(settings, 30, clock.today(), laws_dir=tmp_path / "nowhere")
    assert "not found" in gone.laws
    assert (
        demo.prepare(settings, 30, clock.today()).laws == ""
    )  # only the demo environment imports by default
