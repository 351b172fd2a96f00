"""Fixtures of the exchange tests: a platform with every agency provisioned, residents with codes and copies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in

from tsunagu.kernel.clock import Clock
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

EXCHANGE_NUMBERS = [my_number_from_serial(n) for n in (310_001, 310_002, 310_003)]
CITY, TAX, PENSION, ACCOUNTS, PORTAL = "LG-142051", "LG-142051-TAX", "JPS", "DA-KOKIN", "MYNAPORTAL"


@dataclass
class World:
    platform: linkage.ExchangePlatform
    keys: linkage.LinkageKeys
    people: list[int]
    city_codes: list[str]  # 藤沢市's code of each person

    def code(self, agency: str, person: int) -> str:
        with self.platform.uow() as db:
            return linkage.code_for(db, self.keys, agency, self.people[person])


@pytest.fixture
def world(
    session_factory: sessionmaker[Session], settings: Settings, clock: Clock, ctx: registry.RegistryContext
) -> World:
    keys = linkage.linkage_keys(settings)
    trust = pki.trust_services(settings, clock)
    platform = linkage.build_exchange(session_factory, trust, keys, clock=clock)
    people = []
    with platform.uow() as db:
        for n, number in enumerate(EXCHANGE_NUMBERS):
            who = registry.NewPerson(
                "佐藤", f"花子{n}", "サトウ", "ハナコ", dt.date(1985, 5, 5), registry.Sex.FEMALE, number
            )
            people.append(
                move_in(
                    db,
                    ctx,
                    who,
                    on=dt.date(2021, 4, 1),
                    address=registry.NewAddress("本町", f"{n + 1}番3号", ""),
                )
            )
        linkage.provision_all(db, trust, keys, clock)
        city_codes = [linkage.code_for(db, keys, CITY, p) for p in people]
        for n, person in enumerate(people):
            tax = linkage.code_for(db, keys, TAX, person)
            linkage.put_copy(
                db,
                TAX,
                tax,
                {"local_tax.income": 3_200_000 + n, "local_tax.deductions": {"basic": 430_000}},
                clock=clock,
            )
            pension = linkage.code_for(db, keys, PENSION, person)
            linkage.put_copy(
                db,
                PENSION,
                pension,
                {"pension.insured_status": "1", "pension.status": "not-receiving"},
                withhold=("pension.status",),
                clock=clock,
            )
    return World(platform, keys, people, city_codes)
