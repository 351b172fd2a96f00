"""Fixtures of the credentials integration tests: a resident with recorded doses and the credentials context on a
clock the test can move forward (cards and revocations are whole seconds apart)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in

from tsunagu.credentials.context import CredentialsContext, credentials_context
from tsunagu.health import api as health
from tsunagu.kernel.clock import Clock
from tsunagu.registry.api import RegistryContext
from tsunagu.settings import Settings

FUJISAWA = "142051"


@dataclass
class MovingTime:
    at: dt.datetime = NOW

    def advance(self, seconds: int) -> None:
        self.at += dt.timedelta(seconds=seconds)


@pytest.fixture
def moving() -> MovingTime:
    return MovingTime()


@pytest.fixture
def cctx(settings: Settings, moving: MovingTime) -> CredentialsContext:
    public = settings.model_copy(update={"public_url": "https://city.example.jp"})
    return credentials_context(public, Clock(lambda: moving.at))


def dose(person_id: int, on: dt.date, cvx: str = "208", lot: str = "FA5829") -> health.DoseInput:
    return health.DoseInput(person_id, on, cvx, "PFR" if cvx in {"208", "217"} else "MOD", lot, FUJISAWA)


@pytest.fixture
def vaccinated(session_factory: sessionmaker[Session], ctx: RegistryContext) -> Callable[[int], int]:
    """A new resident with ``n`` recorded doses (a month apart from June 2021); returns the person id."""

    def make(n: int = 2) -> int:
        with session_factory.begin() as db:
            person = move_in(db, ctx)
            for i in range(n):
                on = dt.date(2021, 6, 1) + dt.timedelta(days=30 * i)
                health.record_dose(db, dose(person, on), actor="test:hoken", now=NOW)
        return person

    return make
