"""The demo municipality: migrate, then seed staff and a synthetic population exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.db.engine import make_engine
from tsunagu.db.meta import get_meta, set_meta
from tsunagu.db.migrate import upgrade
from tsunagu.identity import api as identity
from tsunagu.registry.seed.loader import seed_population
from tsunagu.registry.services.keys import RegistryKeys
from tsunagu.settings import Settings

SEED_KEY = "demo_seed"
DEMO_STAFF = (
    ("clerk", "住民記録 太郎 (demo)", "demo-clerk-pass", [identity.Role.REGISTRY_CLERK]),
    ("counter", "窓口 花子 (demo)", "demo-counter-pass", [identity.Role.COUNTER_STAFF]),
    ("auditor", "監査 一郎 (demo)", "demo-auditor-pass", [identity.Role.AUDITOR]),
)


@dataclass(frozen=True)
class DemoResult:
    seeded_now: bool
    info: dict[str, Any]


def prepare(
    settings: Settings,
    residents: int,
    as_of: dt.date,
    seed: int = 2022,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Migrate and seed once. The seed runs in one transaction: after a crash, re-running starts clean."""
    upgrade(settings)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            if settings.is_sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            db = Session(bind=conn)
            existing = get_meta(db, SEED_KEY)
            if existing is not None:
                return DemoResult(False, existing)
            for username, name, password, roles in DEMO_STAFF:
                identity.create_staff(db, username, name, password, roles)
            db.flush()
            keys = RegistryKeys.from_master(settings.master_secret())
            report = seed_population(conn, keys, settings.municipality_code, residents, as_of, seed, progress)
            info = {
                "residents": report.residents,
                "households": report.households,
                "former": report.former,
                "events": report.events,
                "suppressed": report.suppressed,
                "seed": seed,
                "as_of": as_of.isoformat(),
            }
            set_meta(db, SEED_KEY, info)
            db.flush()
            # Fresh statistics so the query planner picks the name indexes (SQLite has none until ANALYZE).
            conn.exec_driver_sql("ANALYZE")
            return DemoResult(True, info)
    finally:
        engine.dispose()
