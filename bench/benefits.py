"""Benchmark: benefit eligibility (issue 6). Three figures, each beside a baseline measured in the same run:

1. ``eligibility``: the pure rules over a synthetic roll of N residents held in memory (households of one to six,
   ages 0–104), for the flat emergency benefit (paid to the household head) and for 児童手当; the baseline is a bare
   loop grouping the same tuples by household.
2. ``entitle`` (with ``--data-dir`` of a seeded demo, e.g. ``tsunagu demo --residents 1000000 --no-serve``): the
   roll streamed from the database, the rules, and the chunked inserts, end to end; a second run shows the cost of an
   idempotent re-run (every row already there).
3. ``lookup`` (with ``--lookups N``, on the same data directory): account lookups through the hub for the first N
   payees of the emergency benefit (a separate step from the 1,000,000-resident path: one signed, logged exchange per
   payee). Entitlements of the programme are removed first, so the lookups are real.

    .venv/bin/python bench/benefits.py [--residents 1000000] [--data-dir DIR] [--lookups 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from tsunagu.payments.core.eligibility import entitlements
from tsunagu.payments.sources import programme

RELS = ("head", "spouse", "child", "child", "child", "parent")


def roll(n: int, seed: int = 7) -> list[tuple[int, int, str, dt.date, str]]:
    rng = random.Random(seed)
    out: list[tuple[int, int, str, dt.date, str]] = []
    hid = 0
    while len(out) < n:
        hid += 1
        size = min(rng.choice((1, 1, 2, 2, 3, 4, 5, 6)), n - len(out))
        for i in range(size):
            rel = RELS[i]
            age = rng.randint(0, 22) if rel == "child" else rng.randint(20, 104)
            born = dt.date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
            out.append((len(out) + 1, hid, rel, born, "resident"))
    return out


def in_memory(n: int) -> None:
    rows = roll(n)
    start = time.perf_counter()
    groups = sum(1 for _h, g in groupby(rows, key=itemgetter(1)) for _ in g)
    base = time.perf_counter() - start
    print(f"baseline: grouping {groups:,} tuples by household: {base:.2f} s ({n / base:,.0f} rows/s)")
    for pid, period in (("emergency-2026", "once"), ("child-allowance", "2026-12")):
        p = programme(pid)
        start = time.perf_counter()
        found = total = 0
        for e in entitlements(p, period, rows):
            found += 1
            total += e.amount
        took = time.perf_counter() - start
        print(
            f"eligibility {pid}: {n:,} residents → {found:,} entitlements, {total:,} yen in {took:.2f} s "
            f"({n / took:,.0f} rows/s, {took / n * 1e6:.2f} µs a resident)"
        )


def on_database(data_dir: Path, lookups_n: int) -> None:
    from sqlalchemy import delete  # noqa: PLC0415 - only with --data-dir

    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.kernel.clock import Clock  # noqa: PLC0415
    from tsunagu.linkage import api as linkage  # noqa: PLC0415
    from tsunagu.payments.context import payments_context  # noqa: PLC0415
    from tsunagu.payments.models import Entitlement  # noqa: PLC0415
    from tsunagu.payments.services import entitlements as ents  # noqa: PLC0415
    from tsunagu.payments.services import lookups, notify  # noqa: PLC0415
    from tsunagu.pki import api as pki  # noqa: PLC0415
    from tsunagu.settings import load_settings  # noqa: PLC0415

    settings = load_settings(data_dir=data_dir)
    clock = Clock()
    sessions = make_session_factory(make_engine(settings))
    trust = pki.trust_services(settings, clock)
    platform = linkage.build_exchange(sessions, trust, linkage.linkage_keys(settings), clock=clock)
    ctx = payments_context(settings, clock, platform)
    p = programme("emergency-2026")

    def uow():  # type: ignore[no-untyped-def]
        return unit_of_work(sessions)

    with uow() as db:
        db.execute(delete(Entitlement).where(Entitlement.programme_id == p.id))
    start = time.perf_counter()
    done = ents.entitle(uow, ctx, p, "once")
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"entitle {p.id}: {done.roll:,} on the roll → {done.inserted:,} inserted in {took:.1f} s "
        f"({done.roll / took:,.0f} rows/s; peak RSS {peak:,.0f} MB)"
    )
    start = time.perf_counter()
    again = ents.entitle(uow, ctx, p, "once")
    print(f"entitle again (idempotent, {again.inserted} new): {time.perf_counter() - start:.1f} s")
    if lookups_n:
        with uow() as db:  # keep the first N payees' households only: the lookup asks every payee due
            first = db.scalars(
                Entitlement.__table__.select()
                .with_only_columns(Entitlement.payee_person_id)
                .where(Entitlement.programme_id == p.id)
                .group_by(Entitlement.payee_person_id)
                .order_by(Entitlement.payee_person_id)
                .offset(lookups_n)
                .limit(1)
            ).first()
            if first is not None:
                db.execute(
                    delete(Entitlement).where(
                        Entitlement.programme_id == p.id, Entitlement.payee_person_id >= first
                    )
                )
        looked = lookups.lookup(uow, ctx, p, "once")
        print(
            f"lookup: {looked.asked:,} payees asked through the hub ({looked.found:,} accounts, "
            f"{looked.not_registered:,} not registered) in {looked.seconds:.1f} s: {looked.rate:,.0f} lookups/s"
        )
        start = time.perf_counter()
        told = notify.notify(uow, ctx, p, "once")
        took = time.perf_counter() - start
        sent = told.notified + told.invited
        print(
            f"notify: {sent:,} notices ({told.entitlements:,} entitlements) in {took:.1f} s: {sent / took:,.0f}/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--lookups", type=int, default=0)
    args = parser.parse_args()
    in_memory(args.residents)
    if args.data_dir:
        on_database(args.data_dir, args.lookups)


if __name__ == "__main__":
    main()
