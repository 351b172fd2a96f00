"""Benchmark: `tsunagu demo --no-serve --residents N` (migrate + seed a synthetic municipality) on SQLite.

Target (issue: foundation): N = 1,000,000 in ≤ 120 s with peak memory ≤ 1.5 GB on the 2-core machine.
Baseline, measured in the same run: the floor for the same number of rows written with plain `sqlite3`
executemany (same tables' widths, no generation, no encryption, no indexes beyond the primary keys), so the
figure can be read as a ratio to what this machine's disk and SQLite can do at that moment.

    python bench/seed_registry.py [--residents 1000000] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 120.0
TARGET_PEAK_MB = 1536.0


def run_demo(residents: int, data_dir: Path) -> tuple[float, float, dict[str, object]]:
    exe = Path(sys.executable).with_name("tsunagu")
    cmd = [
        str(exe),
        "demo",
        "--data-dir",
        str(data_dir),
        "--residents",
        str(residents),
        "--no-serve",
        "--json",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_kb = max(peak_kb, before)
    return elapsed, peak_kb / 1024, json.loads(out.stdout)


def baseline(rows: int, path: Path) -> float:
    """Plain sqlite3: the same row counts (persons, ~1.24 events each, ~0.48 households each), WAL, one txn."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT, d TEXT, e TEXT, f TEXT, g BLOB)"
    )
    con.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, p INTEGER, k TEXT, d TEXT, j TEXT)")
    con.execute("CREATE TABLE h (id INTEGER PRIMARY KEY, t TEXT)")
    blob = os.urandom(40)
    start = time.perf_counter()
    con.execute("BEGIN")
    batch = 20_000
    for lo in range(0, rows, batch):
        ids = range(lo, min(rows, lo + batch))
        con.executemany(
            "INSERT INTO p VALUES (?,?,?,?,?,?,?,?)",
            (
                (i, "佐藤", "花子", "サトウ", "ハナコ", "1980-01-01", "鵠沼海岸一丁目1番1号", blob)
                for i in ids
            ),
        )
        con.executemany(
            "INSERT INTO e VALUES (?,?,?,?,?)",
            ((None, i, "move_in", "2001-01-01", '{"changes":{"town":"鵠沼"}}') for i in ids),
        )
        con.executemany("INSERT INTO h VALUES (?,?)", ((i, "2026-11-26") for i in ids if i % 2 == 0))
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def query_timings(data_dir: Path) -> list[tuple[str, str]]:
    """Median times of the registry's read paths on the seeded database, with a primary-key lookup as baseline."""
    import datetime as dt  # noqa: PLC0415
    import statistics  # noqa: PLC0415

    from tsunagu.db.engine import make_engine, make_session_factory  # noqa: PLC0415
    from tsunagu.identity.core.roles import Role, permissions_for  # noqa: PLC0415
    from tsunagu.kernel.access import Principal  # noqa: PLC0415
    from tsunagu.registry.models import Person  # noqa: PLC0415
    from tsunagu.registry.services import queries  # noqa: PLC0415
    from tsunagu.registry.services.keys import RegistryKeys  # noqa: PLC0415
    from tsunagu.settings import load_settings  # noqa: PLC0415

    settings = load_settings(data_dir=data_dir)
    engine = make_engine(settings)
    keys = RegistryKeys.from_master(settings.master_secret())
    clerk = Principal(1, "bench", "bench", permissions_for([Role.REGISTRY_CLERK]))
    today = dt.date.today()  # noqa: DTZ011 - the demo was seeded as of today

    def median_ms(fn: object, runs: int = 7) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    out = []
    with make_session_factory(engine)() as db:
        out.append(("baseline: primary-key lookup", f"{median_ms(lambda: db.get(Person, 500_000)):.2f} ms"))
        db.expunge_all()
        for q in ("スズキ", "すずき はなこ", "鈴木 花子"):
            ms = median_ms(lambda q=q: queries.search(db, keys, clerk, q, today))
            out.append((f"search {q!r} (first 50)", f"{ms:.1f} ms"))

        def detail() -> None:
            queries.get_resident(db, keys, clerk, 400_000, today)
            queries.history(db, clerk, 400_000)

        out.append(("resident detail + history", f"{median_ms(detail):.1f} ms"))
        out.append(
            (
                "public figures (one scan)",
                f"{median_ms(lambda: queries.stats(db, None, today, with_events=False), 3):.0f} ms",
            )
        )
        out.append(
            (
                "staff statistics (with events)",
                f"{median_ms(lambda: queries.stats(db, clerk, today), 3):.0f} ms",
            )
        )
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        base = baseline(args.residents, Path(tmp) / "baseline.db")
        elapsed, peak_mb, result = run_demo(args.residents, Path(tmp) / "demo")
        size_mb = (Path(tmp) / "demo" / "tsunagu.db").stat().st_size / 2**20
        reads = query_timings(Path(tmp) / "demo")
    seed = result["seed"]
    assert isinstance(seed, dict)
    ok = elapsed <= TARGET_SECONDS and peak_mb <= TARGET_PEAK_MB
    rows = [
        ("residents seeded", f"{seed['residents']:,} (+{seed['former']:,} former)"),
        ("households / events", f"{seed['households']:,} / {seed['events']:,}"),
        ("tsunagu demo --no-serve (wall)", f"{elapsed:.1f} s (target ≤ {TARGET_SECONDS:.0f} s)"),
        ("peak RSS", f"{peak_mb:.0f} MB (target ≤ {TARGET_PEAK_MB:.0f} MB)"),
        ("database size", f"{size_mb:.0f} MB"),
        ("baseline: plain sqlite3 rows, same run", f"{base:.1f} s"),
        ("ratio demo / baseline", f"{elapsed / base:.1f}x"),
        ("verdict", "PASS" if ok else "FAIL"),
        *reads,
    ]
    if args.markdown:
        print("| measure | value |\n|---|---|")
        for k, v in rows:
            print(f"| {k} | {v} |")
    else:
        for k, v in rows:
            print(f"{k:<40} {v}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
