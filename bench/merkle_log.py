"""Benchmark: the hub's exchange log (RFC 9162 Merkle tree, issue 4) on SQLite.

Targets: ≥ 20,000 appends/s when appended in batches (1,000 entries a transaction), and ≤ 2 ms per inclusion proof
in a 10,000,000-entry log (p50/p99 over 1,000 random proofs, each through ``services.inclusion_proof``: tree head,
entry, and the O(log n) stored subtrees in two queries).

Baselines measured in the same run: raw SHA-256 of a 100-byte entry, and raw ECDSA P-256 sign + verify.
The big logs are built fast, not through ``append``: the same frontier algorithm (``merkle.push``) computes leaf
hashes and completed subtrees, written with plain ``sqlite3`` executemany; the build time is printed too.

    python bench/merkle_log.py [--appends 100000] [--sizes 1000000,10000000] [--proofs 1000] [--markdown]
                               [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

With ``--postgres`` (a server URL; a scratch database is created there and dropped), appends and proofs are also
measured on PostgreSQL, the proofs over the log the appends built.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import create_engine, make_url, text

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.db.migrate import upgrade
from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core import merkle
from tsunagu.linkage.log import services
from tsunagu.linkage.log.signer import LogSigner
from tsunagu.settings import Settings

SECRET = base64.b64encode(bytes(range(32))).decode()
STAMP = "2026-11-26 01:00:00.000000"  # how SQLAlchemy stores a UTC instant in SQLite
TARGET_APPENDS = 20_000.0
TARGET_PROOF_MS = 2.0


def entry(i: int) -> bytes:
    return (
        f'{{"exchange":{i},"from":"agency-0001","to":"agency-0002","item":"income","basis":"別表第二-27"}}'
    ).encode()


def settings_in(path: Path, database_url: str | None = None) -> Settings:
    return Settings(data_dir=path, database_url=database_url, secret_key=SECRET, environment="test")  # type: ignore[arg-type]


def sha256_rate(seconds: float = 1.0) -> float:
    data = entry(12345)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10_000):
            hashlib.sha256(data).digest()
        n += 10_000
    return n / (time.perf_counter() - start)


def ecdsa_rate(seconds: float = 1.0) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    data = merkle.node_hash(b"a" * 32, b"b" * 32)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        n += 1
    return n / (time.perf_counter() - start)


def appends(total: int, batch: int, settings: Settings) -> float:
    """Entries per second through ``services.append``, one transaction per batch, a signed head at the end."""
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    for lo in range(0, total, batch):
        with unit_of_work(factory) as db:
            services.append(db, [entry(i) for i in range(lo, min(lo + batch, total))])
    rate = total / (time.perf_counter() - start)
    with unit_of_work(factory) as db:
        services.sign_tree_head(db, Clock(), LogSigner.from_settings(settings))
        assert services.verify_log(db).ok
    engine.dispose()
    return rate


def build(size: int, path: Path) -> float:
    """Write a log of ``size`` entries directly (same hashes and subtrees as ``append``); return seconds."""
    start = time.perf_counter()
    conn = sqlite3.connect(path / "tsunagu.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    frontier: list[tuple[int, bytes]] = []
    chunk = 200_000
    for lo in range(0, size, chunk):
        entries, nodes = [], []
        for index in range(lo, min(lo + chunk, size)):
            data = entry(index)
            leaf = merkle.leaf_hash(data)
            entries.append((index, data, leaf, STAMP))
            for level, digest in merkle.push(frontier, leaf):
                nodes.append((level, ((index + 1) >> level) - 1, digest))
        conn.executemany("INSERT INTO linkage_log_entries VALUES (?, ?, ?, ?)", entries)
        conn.executemany("INSERT INTO linkage_log_nodes VALUES (?, ?, ?)", nodes)
        conn.commit()
    conn.close()
    return time.perf_counter() - start


def proofs(size: int, count: int, root: Path) -> tuple[float, float, float]:
    """Build a log of ``size`` entries; p50 and p99 (ms) of ``count`` random inclusion proofs; build seconds."""
    settings = settings_in(root / f"log-{size}")
    upgrade(settings)
    built = build(size, settings.data_dir)
    p50, p99 = timed_proofs(settings, size, count)
    return p50, p99, built


def timed_proofs(settings: Settings, size: int, count: int) -> tuple[float, float]:
    """p50 and p99 (ms) of ``count`` random inclusion proofs in the log of ``settings`` (``size`` entries)."""
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as db:
        head = services.sign_tree_head(db, Clock(), LogSigner.from_settings(settings))
    pick = random.Random(size)
    times = []
    with unit_of_work(factory) as db:
        for _ in range(50):  # warm the page cache and the statement cache
            services.inclusion_proof(db, pick.randrange(size))
        for _ in range(count):
            index = pick.randrange(size)
            start = time.perf_counter()
            proof = services.inclusion_proof(db, index)
            times.append((time.perf_counter() - start) * 1000)
            assert merkle.verify_inclusion(
                merkle.leaf_hash(proof.entry), index, size, proof.inclusion_path, head.root_hash
            )
    engine.dispose()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def postgres(server: str, total: int, batch: int, count: int, root: Path) -> list[tuple[str, str]]:
    """Appends and proofs on a scratch PostgreSQL database (created, then dropped)."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = "tsunagu_bench_merkle"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        settings = settings_in(root / "postgres", url)
        rate = appends(total, batch, settings)
        p50, p99 = timed_proofs(settings, total, count)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return [
        (f"PostgreSQL: appends, batches of {batch:,} ({total:,} entries)", f"{rate:,.0f} /s"),
        (f"PostgreSQL: inclusion proof in {total:,} entries, p50 / p99", f"{p50:.2f} / {p99:.2f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appends", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: also measure there (scratch database)")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    rows.append(("baseline: raw SHA-256 of a 100-byte entry", f"{sha256_rate():,.0f} /s"))
    rows.append(("baseline: raw ECDSA P-256 sign + verify", f"{ecdsa_rate():,.0f} /s"))
    with tempfile.TemporaryDirectory(prefix="bench-merkle-") as tmp:
        root = Path(tmp)
        rate = appends(args.appends, args.batch, settings_in(root / "appends"))
        verdict = "PASS" if rate >= TARGET_APPENDS else "FAIL"
        rows.append(
            (
                f"appends, batches of {args.batch:,} ({args.appends:,} entries)",
                f"**{rate:,.0f} /s** ({verdict})",
            )
        )
        for size in (int(s) for s in args.sizes.split(",")):
            p50, p99, built = proofs(size, args.proofs, root)
            verdict = "PASS" if p99 <= TARGET_PROOF_MS else "FAIL"
            rows.append((f"log of {size:,} entries: direct build", f"{built:,.0f} s"))
            rows.append(
                (
                    f"inclusion proof in {size:,} entries, p50 / p99",
                    f"**{p50:.2f} / {p99:.2f} ms** ({verdict})",
                )
            )
            print(rows[-2], rows[-1], flush=True)
        if args.postgres:
            rows += postgres(args.postgres, args.appends, args.batch, args.proofs, root)
    if args.markdown:
        print("| measure | value |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
    else:
        for name, value in rows:
            print(f"{name:60} {value}")


if __name__ == "__main__":
    main()
