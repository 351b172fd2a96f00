"""Benchmark: a benefit payment from the database — eligibility, instructions and Zengin files — for N residents.

Target (issue 6): N = 1,000,000 residents, eligibility + instructions + Zengin files ≤ 30 s end to end on the
2-core machine, peak memory ≤ 1 GB. The payment run's own part (instructions + files) should be well under 15 s.

Steps, each timed (the pipeline runs in a child process so its peak RSS is its own):

1. seed the registry with ``tsunagu demo --no-serve --residents N`` (not part of the target; skipped with
   ``--data-dir`` pointing at a seeded directory);
2. eligibility: ``entitle`` for the flat programme ``emergency-2026`` (period ``once``) over the roll; skipped with
   ``--synthetic``, which inserts N confirmed entitlements straight into ``pay_entitlements`` instead;
3. accounts: a stand-in for the agency's lookups through the hub (one SQL UPDATE giving every entitlement an
   account snapshot and the state ``confirmed``) — not part of the target, reported apart;
4. the payment run: instructions (chunked INSERT … SELECT), files (one per remitting bank, split at the record
   limit, fsynced), and the re-read + ``zengin.validate`` of every file.

Baseline, measured in the same run: a bare loop writing N 120-byte records (f-string, cp932 encode, buffered write,
fsync), the floor for the file part on this machine at this moment.

    python bench/payments_run.py [--residents 1000000] [--synthetic] [--data-dir DIR] [--record-limit 9999]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 30.0
TARGET_RUN_SECONDS = 15.0
TARGET_PEAK_MB = 1024.0
PROGRAMME = "emergency-2026"
PERIOD = "once"
SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # noqa: S105 - a fixed secret for a throwaway bench database


def seed(residents: int, data_dir: Path) -> float:
    exe = Path(sys.executable).with_name("tsunagu")
    start = time.perf_counter()
    subprocess.run(
        [
            str(exe),
            "demo",
            "--data-dir",
            str(data_dir),
            "--residents",
            str(residents),
            "--no-serve",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"TSUNAGU_SECRET_KEY": SECRET},
    )
    return time.perf_counter() - start


def baseline(records: int, path: Path) -> float:
    start = time.perf_counter()
    with path.open("wb", buffering=1 << 20) as out:
        for i in range(records):
            line = f"2000512345678901234567890123{i:07d}ﾔﾏﾀﾞ ﾀﾛｳ{'':22}{i:010d}1{i:010d}{'':10}7 {'':7}\r\n"
            out.write(line.encode("cp932"))
        out.flush()
        os.fsync(out.fileno())
    return time.perf_counter() - start


RESET = (  # an already seeded directory is reused: earlier runs' payments are removed first (untimed)
    "DELETE FROM pay_result_files",
    "DELETE FROM pay_files",
    "DELETE FROM pay_instructions",
    "DELETE FROM pay_runs",
    "DELETE FROM pay_entitlements",
)


def pipeline(
    data_dir: Path, residents: int, *, synthetic: bool, record_limit: int, reset: bool = False
) -> dict[str, Any]:
    """Steps 2–4 in this process; the figures and this process's peak RSS."""
    from sqlalchemy import func, select, text  # noqa: PLC0415

    from tsunagu import wiring  # noqa: PLC0415
    from tsunagu.payments import api as payments  # noqa: PLC0415
    from tsunagu.payments import sources  # noqa: PLC0415
    from tsunagu.payments.models import Entitlement  # noqa: PLC0415
    from tsunagu.settings import load_settings  # noqa: PLC0415

    ctx = wiring.payments_context(load_settings(data_dir=data_dir))
    uow = ctx.platform.uow
    programme = sources.programme(PROGRAMME)
    spec = programme.run_spec()
    spec = payments.RunSpec(
        spec.programme_id, spec.agency, spec.remitter, spec.name_ja, spec.name_en, record_limit=record_limit
    )
    figures: dict[str, Any] = {}
    if reset:
        with uow() as db:
            for statement in RESET:
                db.execute(text(statement))
        shutil.rmtree(data_dir / "zengin", ignore_errors=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    if synthetic:
        _synthetic_entitlements(uow, residents)
        figures["eligibility"] = None
        figures["synthetic_insert_s"] = time.perf_counter() - start
    else:
        from tsunagu.payments.services import entitlements  # noqa: PLC0415

        entitled = entitlements.entitle(uow, ctx, programme, PERIOD)
        figures["eligibility_s"] = time.perf_counter() - start
        figures["eligibility_cpu_s"] = time.process_time() - cpu_start
        figures["entitled"] = entitled.inserted if hasattr(entitled, "inserted") else None
    with uow() as db:
        figures["entitlements"] = db.scalar(select(func.count()).select_from(Entitlement))
        start = time.perf_counter()
        db.execute(text(ACCOUNTS), {"programme": PROGRAMME})
    figures["accounts_stand_in_s"] = time.perf_counter() - start

    stages: dict[str, float] = {}
    cpu: dict[str, float] = {}
    begun, cpu_begun = time.perf_counter(), time.process_time()

    def progress(stage: str, _done: int, _total: int | None) -> None:
        stages[stage] = time.perf_counter() - begun
        cpu[stage] = time.process_time() - cpu_begun

    out_dir = data_dir / "zengin"
    report = payments.run(uow, ctx, spec, PERIOD, out_dir=out_dir, started_by="bench", progress=progress)
    run_s = time.perf_counter() - begun
    figures |= {
        "instructions": report.instructions,
        "files": len(report.files),
        "total_yen": report.total,
        "instruct_s": stages.get("instruct", 0.0),
        "write_s": stages.get("write", 0.0) - stages.get("instruct", 0.0),
        "verify_and_finish_s": run_s - stages.get("write", 0.0),
        "run_s": run_s,
        "bytes": sum((out_dir / f.name).stat().st_size for f in report.files),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "checker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "instruct_cpu_s": cpu.get("instruct", 0.0),
        "write_cpu_s": cpu.get("write", 0.0) - cpu.get("instruct", 0.0),
        "run_cpu_s": time.process_time() - cpu_begun,
        "checker_cpu_s": _children_cpu(),
        "load_average": os.getloadavg(),
    }
    return figures


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


ACCOUNTS = """
UPDATE pay_entitlements SET state = 'confirmed', account_stale = 0, account = json_object(
    'bank_code', CASE id % 3 WHEN 0 THEN '0138' WHEN 1 THEN '0001' ELSE '0005' END,
    'bank_name', 'ギンコウ', 'branch_code', printf('%03d', id % 997), 'branch_name', 'シテン',
    'deposit_type', '1', 'account_number', printf('%07d', id % 10000000), 'holder_kana', 'ﾔﾏﾀﾞ ﾀﾛｳ')
WHERE programme_id = :programme
"""


def _synthetic_entitlements(uow: Any, n: int) -> None:
    from sqlalchemy import text  # noqa: PLC0415

    with uow() as db:
        db.execute(
            text(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
                "INSERT INTO pay_entitlements (programme_id, period, person_id, payee_person_id, amount, basis, "
                "state, account_stale, reason, created_at, updated_at) "
                "SELECT :programme, :period, i, i, 30000, '{}', 'new', 0, '', '2026-11-26 00:00:00', "
                "'2026-11-26 00:00:00' FROM s"
            ),
            {"n": n, "programme": PROGRAMME, "period": PERIOD},
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--synthetic", action="store_true", help="entitlements inserted directly (no registry)")
    ap.add_argument("--data-dir", type=Path, help="an already seeded data directory (skips seeding)")
    ap.add_argument("--record-limit", type=int, default=9_999)
    ap.add_argument("--pipeline", type=Path, help=argparse.SUPPRESS)  # the child process
    ap.add_argument("--reset", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pipeline is not None:
        figures = pipeline(
            args.pipeline,
            args.residents,
            synthetic=args.synthetic,
            record_limit=args.record_limit,
            reset=args.reset,
        )
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    os.environ["TSUNAGU_SECRET_KEY"] = SECRET
    os.environ.pop("TSUNAGU_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="bench-pay-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        seed_s = None
        if args.data_dir is None:
            if args.synthetic:
                exe = Path(sys.executable).with_name("tsunagu")
                subprocess.run([str(exe), "db", "upgrade", "--data-dir", str(data_dir)], check=True)
            else:
                seed_s = seed(args.residents, data_dir)
        child = [sys.executable, __file__, "--pipeline", str(data_dir), "--residents", str(args.residents)]
        child += ["--record-limit", str(args.record_limit)] + (["--synthetic"] if args.synthetic else [])
        child += ["--reset"] if args.data_dir is not None else []
        done = subprocess.run(child, check=True, capture_output=True, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        base = baseline(figures["instructions"], Path(tmp) / "baseline.txt")
    report(args, seed_s, figures, base)


def report(args: argparse.Namespace, seed_s: float | None, f: dict[str, Any], base: float) -> None:
    n = f["instructions"]
    end_to_end = (f.get("eligibility_s") or 0.0) + f["run_s"]
    rows = [
        ("residents", f"{args.residents:,}" + (" (synthetic entitlements)" if args.synthetic else "")),
        ("seed registry (not in target)", "-" if seed_s is None else f"{seed_s:.1f} s"),
        (
            "eligibility (entitle)",
            "-"
            if f.get("eligibility_s") is None
            else f"{f['eligibility_s']:.2f} s, CPU {f['eligibility_cpu_s']:.2f} s",
        ),
        ("accounts stand-in (not in target)", f"{f['accounts_stand_in_s']:.2f} s"),
        (
            "instructions",
            f"{f['instruct_s']:.2f} s ({n / max(f['instruct_s'], 1e-9):,.0f}/s), CPU {f['instruct_cpu_s']:.2f} s",
        ),
        (
            "files written",
            f"{f['write_s']:.2f} s ({f['files']} files, {n / max(f['write_s'], 1e-9):,.0f} records/s), "
            f"CPU {f['write_cpu_s']:.2f} s + re-read/validate in the 2nd process {f['checker_cpu_s']:.2f} s",
        ),
        ("re-read + validate + finish", f"{f['verify_and_finish_s']:.2f} s"),
        ("payment run total", f"{f['run_s']:.2f} s (target < {TARGET_RUN_SECONDS:.0f} s)"),
        ("end to end (eligibility + run)", f"{end_to_end:.2f} s (target ≤ {TARGET_SECONDS:.0f} s)"),
        (
            "peak RSS",
            f"pipeline {f['peak_rss_mb']:.0f} MB, checker {f['checker_peak_rss_mb']:.0f} MB "
            f"(target ≤ {TARGET_PEAK_MB:.0f} MB)",
        ),
        ("load average during the run", ", ".join(f"{x:.1f}" for x in f["load_average"])),
        ("baseline: bare loop, same records", f"{base:.2f} s ({n / max(base, 1e-9):,.0f} records/s)"),
        ("files / baseline", f"{f['write_s'] / max(base, 1e-9):.1f}×"),
    ]
    width = max(len(k) for k, _ in rows)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in rows) + "\n")
    sys.stdout.write(json.dumps({"figures": f, "baseline_s": base, "seed_s": seed_s}) + "\n")


if __name__ == "__main__":
    main()
