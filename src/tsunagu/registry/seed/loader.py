"""Load a generated population into the database in one transaction, in batches, with history.

Each household arrives by 転入 from another real municipality (or is born here), some later 転居 within the
municipality, some people have already left (転出) or died, and a few households are under 支援措置.
Everything runs in the caller's transaction, so a crash leaves nothing half-seeded.

Rows go to the database through the DB-API driver as tuples in a fixed column order: at a million residents the
ORM/Core parameter processing costs several times more than SQLite itself. Values are written in the form
SQLAlchemy itself stores and reads back (ISO dates, JSON text); ``tsunagu registry verify`` and the integration
tests read them back through the models.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from tsunagu.kernel.clock import JST
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.registry.models import Household, Person, PersonEvent, SupportMeasure
from tsunagu.registry.municipalities import demo_towns, municipalities
from tsunagu.registry.seed.population import Member, PopulationGenerator, SeedHousehold
from tsunagu.registry.services.keys import RegistryKeys

BATCH_PEOPLE = 20_000
MOVED_WITHIN_SHARE = 0.15
FORMER_SHARE = 0.02
DV_SHARE = 0.001
RESIDENT_CODE_MULTIPLIER = 27_182_818_283  # coprime to 10: a bijection on 11-digit codes
RESIDENT_CODE_OFFSET = 14_142_135_623

COLUMNS: dict[str, tuple[str, ...]] = {
    "registry_households": ("id", "created_at"),
    "registry_persons": (
        "id",
        "resident_code",
        "my_number_sealed",
        "my_number_index",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "lg_code",
        "town",
        "block",
        "building",
        "household_id",
        "relationship",
        "status",
        "registered_on",
        "left_on",
        "last_event_on",
        "address_suppressed",
        "version",
    ),
    "registry_events": (
        "person_id",
        "kind",
        "effective_date",
        "recorded_at",
        "recorded_by",
        "filing_id",
        "payload",
        "reason",
    ),
    "registry_support_measures": ("person_id", "starts_on", "ends_on", "reason", "created_by", "created_at"),
}


@dataclass
class SeedReport:
    residents: int = 0
    households: int = 0
    former: int = 0
    events: int = 0
    suppressed: int = 0


def resident_code(serial: int) -> str:
    return f"{(serial * RESIDENT_CODE_MULTIPLIER + RESIDENT_CODE_OFFSET) % 10**11:011d}"


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def seed_towns(lg_code: str) -> list[str]:
    """The 町字 a seeded municipality's residents live in: its own demo towns (the file also lists towns of other
    municipalities, as destinations of moves), or, for a municipality without any, the home demo towns of 藤沢市."""
    own = [t.town for t in demo_towns() if t.lg_code == lg_code]
    return own or [t.town for t in demo_towns() if t.lg_code == demo_towns()[0].lg_code]


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
        self.towns = seed_towns(lg_code)
        recorded = dt.datetime.combine(as_of, dt.time(9, 0), JST).astimezone(dt.UTC)
        self.sqlite = conn.dialect.name == "sqlite"
        # SQLAlchemy keeps aware datetimes on SQLite as naive text; PostgreSQL takes an explicit offset.
        self.recorded_at = recorded.strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if self.sqlite else "+00:00")
        self.measure_start = (as_of - dt.timedelta(days=90)).isoformat()
        self.report = SeedReport()
        # Continue after any rows already present (e.g. an earlier import), so explicit ids never collide.
        self.next_person = 1 + (conn.exec_driver_sql("SELECT MAX(id) FROM registry_persons").scalar() or 0)
        self.next_household = 1 + (
            conn.exec_driver_sql("SELECT MAX(id) FROM registry_households").scalar() or 0
        )
        self._check_columns()
        self._reset()

    def _check_columns(self) -> None:
        for model in (Household, Person, PersonEvent, SupportMeasure):
            table = model.metadata.tables[model.__tablename__]
            cols = COLUMNS[table.name]
            expected = {c.name for c in table.columns if not (c.primary_key and table.name in AUTO_ID)}
            if set(cols) != expected:
                msg = f"seed column list for {table.name} is out of date: {sorted(expected ^ set(cols))}"
                raise RuntimeError(msg)

    def _reset(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}

    def _event(self, pid: int, kind: str, date: str, payload: str, filing: str) -> None:
        self.rows["registry_events"].append((pid, kind, date, self.recorded_at, "seed", filing, payload, ""))

    def _date_between(self, low: dt.date, high: dt.date) -> dt.date:
        span = (high - low).days
        return low + dt.timedelta(days=self.rng.randrange(span + 1)) if span > 0 else low

    def add_household(self, h: SeedHousehold, *, former: bool = False, force_dv: bool = False) -> None:
        rng = self.rng
        hid = self.next_household
        self.next_household += 1
        self.rows["registry_households"].append((hid, self.recorded_at))
        oldest = min(m.birth_date for m in h.members)
        youngest = max(m.birth_date for m in h.members)
        arrival = self._date_between(
            max(oldest + dt.timedelta(days=365 * 18), self.as_of - dt.timedelta(days=365 * 40)),
            self.as_of - dt.timedelta(days=30),
        )
        origin = rng.choice(self.origins)
        final = (h.town, h.block, h.building)
        first = final
        moved_on = left = None
        if not former and rng.random() < MOVED_WITHIN_SHARE:
            moved_on = self._date_between(max(arrival, youngest) + dt.timedelta(days=1), self.as_of)
            first = (rng.choice(self.towns), f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号", "")
        if former:
            left = self._date_between(max(arrival, youngest) + dt.timedelta(days=1), self.as_of)
        dv = force_dv or (not former and rng.random() < DV_SHARE)
        for m in h.members:
            self._person(hid, m, arrival, origin, first, final, moved_on, left, dv)

    def _person(
        self,
        hid: int,
        m: Member,
        arrival: dt.date,
        origin: str,
        first: tuple[str, str, str],
        final: tuple[str, str, str],
        moved_on: dt.date | None,
        left: dt.date | None,
        dv: bool,
    ) -> None:
        pid = self.next_person
        self.next_person += 1
        sealed, index = self.keys.seal(my_number_from_serial(pid))
        born_here = m.birth_date >= arrival
        start = m.birth_date if born_here else arrival
        birth = m.birth_date.isoformat()
        changes = {
            "family_name": m.family[0],
            "given_name": m.given[0],
            "family_name_kana": m.family[1],
            "given_name_kana": m.given[1],
            "birth_date": birth,
            "sex": m.sex,
            "lg_code": self.lg_code,
            "town": first[0],
            "block": first[1],
            "building": first[2],
            "household_id": hid,
            "relationship": m.relationship,
        }
        filing = f"seed-{hid}"
        start_s = start.isoformat()
        if born_here:
            self._event(pid, "birth", start_s, _json({"changes": changes, "details": {}}), f"{filing}-b{pid}")
        else:
            payload = _json({"changes": changes, "details": {"from_lg_code": origin}})
            self._event(pid, "move_in", start_s, payload, f"{filing}-in")
        last, status, left_on, address = start, "resident", None, first
        if moved_on is not None:
            last = max(moved_on, start)
            address = final
            moved = {"town": final[0], "block": final[1], "building": final[2]}
            self._event(
                pid, "move_within", last.isoformat(), _json({"changes": moved, "details": {}}), f"{filing}-mv"
            )
        if left is not None:
            last = left_on = max(left, start)
            if (self.as_of - m.birth_date).days > 365 * 75 and self.rng.random() < 0.6:
                self._event(pid, "death", last.isoformat(), '{"changes":{},"details":{}}', f"{filing}-d{pid}")
                status = "deceased"
            else:
                dest = _json({"changes": {}, "details": {"to_lg_code": self.rng.choice(self.origins)}})
                self._event(pid, "move_out", last.isoformat(), dest, f"{filing}-out")
                status = "moved_out"
            self.report.former += 1
        else:
            self.report.residents += 1
        self.rows["registry_persons"].append(
            (
                pid,
                resident_code(pid),
                sealed,
                index,
                m.family[0],
                m.given[0],
                m.family[1],
                m.given[1],
                birth,
                m.sex,
                self.lg_code,
                address[0],
                address[1],
                address[2],
                hid,
                m.relationship,
                status,
                start_s,
                left_on.isoformat() if left_on else None,
                last.isoformat(),
                dv,
                1,
            )
        )
        if dv:
            self.report.suppressed += 1
            self.rows["registry_support_measures"].append(
                (pid, self.measure_start, None, "dv", "seed", self.recorded_at)
            )

    def advance_sequences(self) -> None:
        """PostgreSQL: rows were inserted with explicit ids, so move the id sequences past them."""
        if self.conn.dialect.name != "postgresql":
            return
        for table in EXPLICIT_ID:
            self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - constant names
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
            )

    def flush(self) -> None:
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        for name, rows in self.rows.items():
            if rows:
                cols = COLUMNS[name]
                sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"  # noqa: S608 - names from COLUMNS
                self.conn.exec_driver_sql(sql, rows)
        self.report.events += len(self.rows["registry_events"])
        self.report.households += len(self.rows["registry_households"])
        self._reset()


AUTO_ID = {"registry_events", "registry_support_measures"}
EXPLICIT_ID = ("registry_households", "registry_persons")


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
    gen = PopulationGenerator(seed, as_of, seed_towns(lg_code))
    loader = Loader(conn, keys, lg_code, as_of, seed)
    pending = 0
    for i, h in enumerate(gen.households(residents)):
        # Every seeded municipality has at least one household under 支援措置 (the fourth one).
        loader.add_household(h, force_dv=i == 3)
        pending += len(h.members)
        if loader.rng.random() < FORMER_SHARE * len(h.members):
            loader.add_household(gen.household(), former=True)
        if pending >= BATCH_PEOPLE:
            loader.flush()
            if progress:
                progress(pending)
            pending = 0
    loader.flush()
    loader.advance_sequences()
    if progress and pending:
        progress(pending)
    return loader.report
