"""Load a generated population into the database in one transaction, in batches, with history.

Each household arrives by 転入 from another real municipality (or is born here), some later 転居 within the
municipality, some people have already left (転出) or died, and a few households are under 支援措置.
Everything runs in the caller's transaction, so a crash leaves nothing half-seeded.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert

from tsunagu.kernel.clock import JST
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.registry.models import Household, Person, PersonEvent, SupportMeasure
from tsunagu.registry.municipalities import demo_towns, municipalities
from tsunagu.registry.seed.population import PopulationGenerator, SeedHousehold
from tsunagu.registry.services.keys import RegistryKeys

BATCH_PEOPLE = 20_000
MOVED_WITHIN_SHARE = 0.15
FORMER_SHARE = 0.02
DV_SHARE = 0.001
RESIDENT_CODE_MULTIPLIER = 27_182_818_283  # coprime to 10: a bijection on 11-digit codes
RESIDENT_CODE_OFFSET = 14_142_135_623


@dataclass
class SeedReport:
    residents: int = 0
    households: int = 0
    former: int = 0
    events: int = 0
    suppressed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def resident_code(serial: int) -> str:
    return f"{(serial * RESIDENT_CODE_MULTIPLIER + RESIDENT_CODE_OFFSET) % 10**11:011d}"


class Loader:
    def __init__(self, conn: Connection, keys: RegistryKeys, lg_code: str, as_of: dt.date, seed: int) -> None:
        self.conn = conn
        self.keys = keys
        self.lg_code = lg_code
        self.as_of = as_of
        self.rng = random.Random(seed ^ 0x5EED)
        self.origins = [
            m.lg_code for m in municipalities().values() if not m.is_prefecture and m.lg_code != lg_code
        ]
        self.recorded_at = dt.datetime.combine(as_of, dt.time(9, 0), JST)
        self.report = SeedReport()
        self.next_person = 1
        self.next_household = 1
        self._reset()

    def _reset(self) -> None:
        self.households: list[dict[str, Any]] = []
        self.persons: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.measures: list[dict[str, Any]] = []

    def _event(
        self,
        pid: int,
        kind: str,
        date: dt.date,
        changes: dict[str, Any],
        details: dict[str, str],
        filing: str,
    ) -> None:
        self.events.append(
            {
                "person_id": pid,
                "kind": kind,
                "effective_date": date,
                "recorded_at": self.recorded_at,
                "recorded_by": "seed",
                "filing_id": filing,
                "payload": {"changes": changes, "details": details},
                "reason": "",
            }
        )

    def _date_between(self, low: dt.date, high: dt.date) -> dt.date:
        span = (high - low).days
        return low + dt.timedelta(days=self.rng.randrange(span + 1)) if span > 0 else low

    def add_household(self, h: SeedHousehold, *, former: bool = False) -> None:
        rng = self.rng
        hid = self.next_household
        self.next_household += 1
        self.households.append({"id": hid, "created_at": self.recorded_at})
        oldest = min(m.birth_date for m in h.members)
        arrival = self._date_between(
            max(oldest + dt.timedelta(days=365 * 18), self.as_of - dt.timedelta(days=365 * 40)),
            self.as_of - dt.timedelta(days=30),
        )
        origin = rng.choice(self.origins)
        youngest = max(m.birth_date for m in h.members)
        moved_on = None
        first_address = {"town": h.town, "block": h.block, "building": h.building}
        if not former and rng.random() < MOVED_WITHIN_SHARE:
            moved_on = self._date_between(max(arrival, youngest) + dt.timedelta(days=1), self.as_of)
            first_address = {
                "town": rng.choice(demo_towns()).town,
                "block": f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
                "building": "",
            }
        left = None
        if former:
            left = self._date_between(max(arrival, youngest) + dt.timedelta(days=1), self.as_of)
        dv = not former and rng.random() < DV_SHARE
        for m in h.members:
            self._person(hid, m, arrival, origin, first_address, h, moved_on, left, dv)

    def _person(
        self,
        hid: int,
        m: Any,
        arrival: dt.date,
        origin: str,
        first: dict[str, str],
        h: SeedHousehold,
        moved_on: dt.date | None,
        left: dt.date | None,
        dv: bool,
    ) -> None:
        pid = self.next_person
        self.next_person += 1
        number = my_number_from_serial(pid)
        sealed, index = self.keys.seal(number)
        born_here = m.birth_date >= arrival
        start = m.birth_date if born_here else arrival
        changes = {
            "family_name": m.family[0],
            "given_name": m.given[0],
            "family_name_kana": m.family[1],
            "given_name_kana": m.given[1],
            "birth_date": m.birth_date.isoformat(),
            "sex": m.sex,
            "lg_code": self.lg_code,
            **first,
            "household_id": hid,
            "relationship": m.relationship,
        }
        filing = f"seed-{hid}"
        if born_here:
            self._event(pid, "birth", start, changes, {}, f"{filing}-b{pid}")
        else:
            self._event(pid, "move_in", start, changes, {"from_lg_code": origin}, f"{filing}-in")
        last = start
        status, left_on = "resident", None
        address = first
        if moved_on is not None:
            when = max(moved_on, start)
            address = {"town": h.town, "block": h.block, "building": h.building}
            self._event(pid, "move_within", when, dict(address), {}, f"{filing}-mv")
            last = when
        if left is not None:
            when = max(left, start)
            elderly = (self.as_of - m.birth_date).days > 365 * 75
            if elderly and self.rng.random() < 0.6:
                self._event(pid, "death", when, {}, {}, f"{filing}-d{pid}")
                status = "deceased"
            else:
                self._event(
                    pid, "move_out", when, {}, {"to_lg_code": self.rng.choice(self.origins)}, f"{filing}-out"
                )
                status = "moved_out"
            last = left_on = when
            self.report.former += 1
        else:
            self.report.residents += 1
        self.persons.append(
            {
                "id": pid,
                "resident_code": resident_code(pid),
                "my_number_sealed": sealed,
                "my_number_index": index,
                "family_name": m.family[0],
                "given_name": m.given[0],
                "family_name_kana": m.family[1],
                "given_name_kana": m.given[1],
                "birth_date": m.birth_date,
                "sex": m.sex,
                "lg_code": self.lg_code,
                "town": address["town"],
                "block": address["block"],
                "building": address["building"],
                "household_id": hid,
                "relationship": m.relationship,
                "status": status,
                "registered_on": start,
                "left_on": left_on,
                "last_event_on": last,
                "address_suppressed": dv,
                "version": 1,
            }
        )
        if dv:
            self.report.suppressed += 1
            self.measures.append(
                {
                    "person_id": pid,
                    "starts_on": self.as_of - dt.timedelta(days=90),
                    "ends_on": None,
                    "reason": "dv",
                    "created_by": "seed",
                    "created_at": self.recorded_at,
                }
            )

    def flush(self) -> None:
        c = self.conn
        if self.households:
            c.execute(insert(Household), self.households)
        if self.persons:
            c.execute(insert(Person), self.persons)
        if self.events:
            c.execute(insert(PersonEvent), self.events)
        if self.measures:
            c.execute(insert(SupportMeasure), self.measures)
        self.report.events += len(self.events)
        self.report.households += len(self.households)
        self._reset()


def seed_population(
    conn: Connection,
    keys: RegistryKeys,
    lg_code: str,
    residents: int,
    as_of: dt.date,
    seed: int = 2022,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Insert ``residents`` current residents (plus about 2 % former residents) deterministically."""
    towns = [t.town for t in demo_towns() if t.lg_code == lg_code] or [t.town for t in demo_towns()]
    gen = PopulationGenerator(seed, as_of, towns)
    loader = Loader(conn, keys, lg_code, as_of, seed)
    pending = 0
    for i, h in enumerate(gen.households(residents)):
        dv_forced = i == 3  # every seeded municipality has at least one household under 支援措置
        if dv_forced:
            before = loader.report.suppressed
            loader.add_household(h)
            if loader.report.suppressed == before:
                for p in loader.persons[-len(h.members) :]:
                    p["address_suppressed"] = True
                    loader.measures.append(
                        {
                            "person_id": p["id"],
                            "starts_on": as_of - dt.timedelta(days=90),
                            "ends_on": None,
                            "reason": "dv",
                            "created_by": "seed",
                            "created_at": loader.recorded_at,
                        }
                    )
                    loader.report.suppressed += 1
        else:
            loader.add_household(h)
        pending += len(h.members)
        if loader.rng.random() < FORMER_SHARE * len(h.members):
            loader.add_household(gen.household(), former=True)
        if pending >= BATCH_PEOPLE:
            loader.flush()
            if progress:
                progress(pending)
            pending = 0
    loader.flush()
    if progress and pending:
        progress(pending)
    return loader.report
