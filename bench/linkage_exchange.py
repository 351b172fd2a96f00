"""Benchmark: a full in-process exchange through the hub (issue 4: ≥ 1,500 exchanges/s on 2 cores, p99 ≤ 50 ms).

One exchange is what the portal or an in-process agency does: the requester signs its request (ES256 JWS); the
hub verifies it, checks the legal-basis table, translates the requester's 符号 into the provider's, signs a
forward; the provider verifies the forward, looks up its copy (副本) and signs its answer; the hub verifies the
answer, appends the exchange to the Merkle log, stores its record and signs the reply; the requester writes its
own log. In-process, the hub hands its forward to the provider as an object (the process is the trust boundary)
and the requester takes the reply from the hub in its process, so the crypto is three signatures (request,
answer, reply) and two verifications (request and answer: the issue's two and two, plus the signed reply kept as
evidence); over HTTP every hop is signed and verified (bench/linkage_http.py). Three log appends (requester,
provider, hub Merkle log + record), in two transactions (hub and provider in one, requester in the other).

Baseline, same run: the raw ECDSA P-256 sign+verify rate of `cryptography` on one core, and the crypto floor of
one exchange (3 signs + 2 verifies). 1 and 2 worker processes, each with its own engine; SQLite (WAL), and
PostgreSQL with `--postgres URL` (a scratch database is created and dropped).

Each configuration runs one request at a time (the portal's case) and as 一括照会 (a batch of requests in one hub
transaction and one requester transaction: group commit, one Merkle append per batch; a request's latency is its
batch's).

    python bench/linkage_exchange.py [--seconds 10] [--people 2000] [--batch 16]
                                     [--postgres postgresql+psycopg://…/postgres]
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.db.migrate import upgrade
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.settings import Settings

SECRET = base64.b64encode(bytes(range(32))).decode()
TARGET = 1500.0
TARGET_P99_MS = 50.0
CITY, TAX, BUSINESS, ITEMS = "LG-142051", "LG-142051-TAX", "CHILD-ALLOWANCE-01", ("local_tax.income",)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def settings_in(path: Path, database_url: str | None = None) -> Settings:
    return Settings(data_dir=path, database_url=database_url, secret_key=SECRET, environment="test")  # type: ignore[arg-type]


def ecdsa_rates(seconds: float = 1.0) -> tuple[float, float]:
    """(sign+verify pairs per second on one core, in-process exchanges per second the crypto alone would allow:
    3 signatures (request, answer, reply) and 2 verifications (the hub checks the request and the answer))."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    data = b"x" * 600  # about the size of a request's signing input
    algorithm = ec.ECDSA(hashes.SHA256())
    signature = key.sign(data, algorithm)

    def rate(op: Any) -> float:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            op()
            n += 1
        return n / (time.perf_counter() - start)

    signs = rate(lambda: key.sign(data, algorithm))
    verifies = rate(lambda: public.verify(signature, data, algorithm))
    pairs = 1 / (1 / signs + 1 / verifies)
    return pairs, 1 / (3 / signs + 2 / verifies)


def prepare(settings: Settings, people: int) -> list[str]:
    """Migrate, provision every agency, give ``people`` synthetic persons a city code and a tax copy."""
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    keys = linkage.linkage_keys(settings)
    trust = pki.trust_services(settings, Clock())
    codes = []
    with unit_of_work(factory) as db:
        linkage.provision_all(db, trust, keys)
    with unit_of_work(factory) as db:
        for person in range(1, people + 1):
            codes.append(linkage.code_for(db, keys, CITY, person))
            tax = linkage.code_for(db, keys, TAX, person)
            linkage.put_copy(db, TAX, tax, {"local_tax.income": 2_000_000 + person * 37})
    engine.dispose()
    return codes


def worker(settings: Settings, codes: list[str], seconds: float, seed: int, batch: int, out: Any) -> None:
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    platform = linkage.build_exchange(
        factory, pki.trust_services(settings, Clock()), linkage.linkage_keys(settings)
    )
    hub = platform.local_hub()
    rnd = random.Random(seed)
    for _ in range(20):  # warm the key caches and the connection pool
        linkage.ask(
            platform.uow,
            platform.ring,
            hub,
            linkage.new_request(CITY, TAX, BUSINESS, ITEMS, rnd.choice(codes)),
        )
    latencies = []
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        requests = [linkage.new_request(CITY, TAX, BUSINESS, ITEMS, rnd.choice(codes)) for _ in range(batch)]
        t0 = time.perf_counter()
        if batch == 1:
            results: list[Any] = [linkage.ask(platform.uow, platform.ring, hub, requests[0])]
        else:
            results = linkage.ask_many(platform.uow, platform.ring, hub, requests)
        latencies.append(time.perf_counter() - t0)  # a batch's latency is that of each request in it
        done += len(results)
        assert all(r.items["local_tax.income"].value >= 2_000_000 for r in results)
    out.put((done, time.perf_counter() - start, latencies))
    engine.dispose()


def run(
    settings: Settings, codes: list[str], procs: int, seconds: float, batch: int
) -> tuple[float, float, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=worker, args=(settings, codes, seconds, n, batch, queue)) for n in range(procs)
    ]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    total = sum(r[0] for r in results)
    wall = max(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return total / wall, p50, p99


def scratch_postgres(server: str) -> tuple[str, Any]:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = "tsunagu_bench_exchange"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16, help="requests per 一括照会 batch")
    parser.add_argument("--postgres", help="server URL (a scratch database is created on it and dropped)")
    args = parser.parse_args()

    pairs, floor = ecdsa_rates()
    rows = [
        ("baseline: raw ECDSA P-256 sign+verify, 1 core", f"{pairs:,.0f} /s"),
        (
            "baseline: crypto floor of one in-process exchange (3 signs + 2 verifies), 1 core",
            f"{floor:,.0f} /s",
        ),
    ]
    targets = [("SQLite", None)]
    drop = None
    if args.postgres:
        url, drop = scratch_postgres(args.postgres)
        targets.append(("PostgreSQL", url))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, url in targets:
                settings = settings_in(Path(tmp) / label.lower(), url)
                log(f"{label}: preparing {args.people:,} persons")
                codes = prepare(settings, args.people)
                for batch, procs in ((1, 1), (1, 2), (args.batch, 1), (args.batch, 2)):
                    mode = "one at a time" if batch == 1 else f"一括照会, batches of {batch}"
                    log(f"{label}: {mode}, {procs} process(es), {args.seconds:g} s")
                    rate, p50, p99 = run(settings, codes, procs, args.seconds, batch)
                    ok = rate >= TARGET and p99 <= TARGET_P99_MS
                    rows.append(
                        (
                            f"{label}: full exchange in-process, {mode}, {procs} process(es)",
                            f"{rate:,.0f} /s, p50 {p50:.2f} ms, p99 {p99:.2f} ms"
                            + (
                                f" ({'meets' if ok else 'misses'} ≥ {TARGET:,.0f}/s, p99 ≤ {TARGET_P99_MS:g} ms)"
                                if procs == 2
                                else ""
                            ),
                        )
                    )
    finally:
        if drop is not None:
            drop()
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
