"""Benchmark: the linkage exchange over HTTP — hub (`tsunagu serve --workers 2`) and two agency nodes
(`tsunagu node` for the tax office and the pension service) on loopback, driven by N concurrent requesters.

Target (issue 4): ≥ 300 exchanges/s over HTTP with two nodes, p99 ≤ 50 ms, on the 2-core machine. Baseline,
measured in the same run: the raw ECDSA P-256 sign + verify rate of `cryptography` on one core (one exchange costs
the hub 2 verifies and 2 signs, the node 1 verify and 1 sign).

Each exchange is a permitted request of 藤沢市 (児童手当, CHILD-ALLOWANCE-01), alternately to the tax office
(`local_tax.income`) and to the pension service (`pension.insured_status`), about one of the synthetic residents.
The requests are signed before the clock starts (signing is the requester's work, not the hub's); an asyncio load
generator keeps `--concurrency` requests in flight over keep-alive HTTP/1.1 connections and times each round trip
(request in → hub verifies, authorises, translates, signs the forward → node verifies, answers from its copy,
logs, signs → hub verifies, appends to the Merkle log, stores the record, signs the reply). The requester's own
log write (`accept_reply`) is not included. The load generator shares the 2 cores with the hub and the nodes; CPU
shares are printed.

    python bench/linkage_http.py [--seconds 15] [--concurrency 6] [--residents 50] [--workers 2]
                                 [--database-url postgresql+psycopg://…/empty_db] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TARGET_RATE = 300.0
TARGET_P99_MS = 50.0
CITY, TAX, PENSION = "LG-142051", "LG-142051-TAX", "JPS"
BUSINESS = "CHILD-ALLOWANCE-01"
ITEMS = {TAX: "local_tax.income", PENSION: "pension.insured_status"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _rate(fn: Any, n: int, runs: int = 5) -> float:
    rates = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(n):
            fn()
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates)


def crypto_baseline() -> dict[str, float]:
    """ECDSA P-256 sign and verify per CPU-second of one core, and the crypto of one exchange (3 verifies and 3
    signs: hub request verify, forward sign, node forward verify, answer sign, hub answer verify, reply sign)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pub, algo, msg = key.public_key(), ec.ECDSA(hashes.SHA256()), os.urandom(600)
    sig = key.sign(msg, algo)
    sign = _rate(lambda: key.sign(msg, algo), 2000)
    verify = _rate(lambda: pub.verify(sig, msg, algo), 2000)

    def one_exchange() -> None:
        for _ in range(3):
            pub.verify(key.sign(msg, algo), msg, algo)

    return {"sign": sign, "verify": verify, "exchange_crypto": _rate(one_exchange, 300)}


# --- data -------------------------------------------------------------------------------------------------------


def settings_for(data_dir: Path, database_url: str | None) -> Any:
    from tsunagu.settings import load_settings  # noqa: PLC0415

    secret = (data_dir / "bench-secret").read_text()
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret,
        environment="test",
        cookie_secure=False,
    )


def prepare(data_dir: Path, database_url: str | None, residents: int) -> list[str]:
    """Migrate, add synthetic residents, provision every agency, fill the two copies; the city's codes."""
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.db.migrate import upgrade  # noqa: PLC0415
    from tsunagu.kernel.clock import Clock  # noqa: PLC0415
    from tsunagu.kernel.identifiers import my_number_from_serial  # noqa: PLC0415
    from tsunagu.linkage import api as linkage  # noqa: PLC0415
    from tsunagu.pki import api as pki  # noqa: PLC0415
    from tsunagu.registry import api as registry  # noqa: PLC0415

    settings = settings_for(data_dir, database_url)
    upgrade(settings)
    clock = Clock()
    sessions = make_session_factory(make_engine(settings))
    keys, trust = linkage.linkage_keys(settings), pki.trust_services(settings, clock)
    ctx = registry.registry_context(settings, clock)
    with unit_of_work(sessions) as db:
        people = []
        for n in range(residents):
            who = registry.NewPerson(
                "高橋",
                f"次郎{n}",
                "タカハシ",
                "ジロウ",
                dt.date(1975, 3, 3),
                registry.Sex.MALE,
                my_number_from_serial(330_000 + n),  # synthetic
            )
            people.append(
                registry.start_record(
                    db,
                    ctx,
                    registry.EventKind.MOVE_IN,
                    who,
                    registry.NewAddress("本町", f"{n + 1}番5号", ""),
                    registry.Placement(),
                    dt.date(2021, 4, 1),
                    registry.Filing("bench"),
                    from_lg_code="131016",
                )
            )
        linkage.provision_all(db, trust, keys, clock)
        codes = [linkage.code_for(db, keys, CITY, p) for p in people]
        for n, person in enumerate(people):
            linkage.put_copy(db, TAX, linkage.code_for(db, keys, TAX, person), {ITEMS[TAX]: 3_000_000 + n})
            linkage.put_copy(db, PENSION, linkage.code_for(db, keys, PENSION, person), {ITEMS[PENSION]: "1"})
    return codes


def signed_requests(data_dir: Path, database_url: str | None, codes: list[str], count: int) -> list[bytes]:
    """``count`` permitted requests, signed by the city, each with its own id and a fresh ``iat``."""
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.kernel.clock import Clock  # noqa: PLC0415
    from tsunagu.linkage import api as linkage  # noqa: PLC0415
    from tsunagu.linkage.core import jws  # noqa: PLC0415
    from tsunagu.pki import api as pki  # noqa: PLC0415

    settings = settings_for(data_dir, database_url)
    clock = Clock()
    sessions = make_session_factory(make_engine(settings))
    with unit_of_work(sessions) as db:
        key = linkage.KeyRing(
            pki.trust_services(settings, clock), linkage.linkage_keys(settings)
        ).signing_key(db, CITY)
    out = []
    for n in range(count):
        provider = (TAX, PENSION)[n % 2]
        req = linkage.new_request(
            CITY, provider, BUSINESS, (ITEMS[provider],), codes[n % len(codes)], clock=clock
        )
        out.append(jws.sign(req.claims(), key, CITY, "tsunagu-linkage-request+jwt").encode())
    return out


# --- processes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGU_")}
    env |= {
        "TSUNAGU_DATA_DIR": str(data_dir),
        "TSUNAGU_SECRET_KEY": (data_dir / "bench-secret").read_text(),
        "TSUNAGU_ENVIRONMENT": "test",
        "TSUNAGU_COOKIE_SECURE": "false",
        "TSUNAGU_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["TSUNAGU_DATABASE_URL"] = database_url
    return env


def spawn(args: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("tsunagu")
    with logfile.open("ab") as fh:
        return subprocess.Popen([str(exe), *args], env=env, stdout=fh, stderr=subprocess.STDOUT)


def wait_for(
    check: Any, proc: subprocess.Popen[bytes], what: str, logfile: Path, seconds: float = 90
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"{what} exited with {proc.returncode}; see {logfile}"
            raise RuntimeError(msg)
        if check():
            return
        time.sleep(0.2)
    msg = f"{what} did not start within {seconds:g} s; see {logfile}"
    raise RuntimeError(msg)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310 - loopback
            return bool(r.status == 200)
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- load -------------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    done: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)


async def _post(reader: Any, writer: Any, host: str, body: bytes) -> tuple[int, bytes]:
    writer.write(
        b"POST /linkage/v1/exchange HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b"Content-Type: application/jose\r\nAccept: application/jose\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def drive(port: int, requests: list[bytes], concurrency: int, seconds: float, stats: Stats) -> int:
    """Send requests (each once) with ``concurrency`` in flight until ``seconds`` pass or they run out."""
    queue = iter(requests)
    stop_at = time.perf_counter() + seconds

    async def loop() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                body = next(queue, None)
                if body is None:
                    return
                start = time.perf_counter()
                try:
                    status, answer = await _post(reader, writer, f"127.0.0.1:{port}", body)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    stats.errors[type(exc).__name__] = stats.errors.get(type(exc).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status == 200:
                    stats.done += 1
                    stats.ms.append((time.perf_counter() - start) * 1000)
                else:
                    kind = f"HTTP {status} {answer[:120]!r}"
                    stats.errors[kind] = stats.errors.get(kind, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def cpu_of(pids: list[int]) -> float:
    import psutil  # type: ignore[import-untyped]  # noqa: PLC0415

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run(
    label: str, data_dir: Path, database_url: str | None, args: argparse.Namespace
) -> list[tuple[str, str]]:
    log(f"[{label}] preparing ({args.residents} residents, agencies provisioned, copies)")
    codes = prepare(data_dir, database_url, args.residents)
    env = child_env(data_dir, database_url)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    hub_log = data_dir / f"bench-hub-{label}.log"
    hub = spawn(
        ["serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", str(args.workers)],
        env,
        hub_log,
    )
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        wait_for(lambda: healthy(hub_url), hub, "the hub", hub_log)
        for agency in (TAX, PENSION):
            node_log = data_dir / f"bench-node-{agency}-{label}.log"
            node = spawn(
                ["node", "--agency", agency, "--hub", hub_url, "--data-dir", str(data_dir)], env, node_log
            )
            nodes.append(node)
            wait_for(lambda f=node_log: "ready at" in f.read_text(errors="replace"), node, agency, node_log)
        budget = int((args.seconds + 3) * 1500)  # more than the hub can take: the run ends on time
        log(f"[{label}] signing {budget:,} requests (untimed)")
        requests = signed_requests(data_dir, database_url, codes, budget)
        log(f"[{label}] warming up 3 s")
        asyncio.run(drive(port, requests[: 1500 * 3], args.concurrency, 3.0, Stats()))
        requests = requests[1500 * 3 :]
        pids = [hub.pid, *(n.pid for n in nodes)]
        cpu_before, me_before = cpu_of(pids), time.process_time()
        hub_before = cpu_of([hub.pid])
        stats = Stats()
        log(f"[{label}] measuring {args.seconds:.0f} s at concurrency {args.concurrency}")
        start = time.perf_counter()
        asyncio.run(drive(port, requests, args.concurrency, args.seconds, stats))
        wall = time.perf_counter() - start
        server_cores = (cpu_of(pids) - cpu_before) / wall
        hub_cores = (cpu_of([hub.pid]) - hub_before) / wall
        gen_cores = (time.process_time() - me_before) / wall
    finally:
        for node in nodes:
            stop(node)
        stop(hub)
    rate = stats.done / wall
    mark = "✅" if rate >= TARGET_RATE and pct(stats.ms, 99) <= TARGET_P99_MS else "❌"
    return [
        (
            f"{label}: HTTP, hub {args.workers} workers + 2 nodes, c={args.concurrency}",
            f"**{rate:,.0f} exchanges/s** ({stats.done:,} in {wall:.1f} s) {mark}",
        ),
        (
            f"{label}: latency p50 / p99 / max",
            f"{pct(stats.ms, 50):.1f} / {pct(stats.ms, 99):.1f} / "
            f"{max(stats.ms, default=float('nan')):.1f} ms",
        ),
        (f"{label}: errors", f"{sum(stats.errors.values())}" + (f" {stats.errors}" if stats.errors else "")),
        (
            f"{label}: CPU cores: hub + nodes / load generator",
            f"{server_cores:.2f} / {gen_cores:.2f}",
        ),
        (
            f"{label}: CPU per exchange: hub + nodes (hub alone)",
            f"{server_cores * wall / max(1, stats.done) * 1000:.2f} ms "
            f"({hub_cores * wall / max(1, stats.done) * 1000:.2f} ms)",
        ),
        (
            f"{label}: rate if hub and nodes had both cores (2 / CPU per exchange)",
            f"{2 * max(1, stats.done) / max(1e-9, server_cores * wall):,.0f} exchanges/s",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--concurrency", type=int, default=6, help="requests in flight (≤ 32)")
    ap.add_argument("--workers", type=int, default=2, help="hub worker processes")
    ap.add_argument("--residents", type=int, default=50)
    ap.add_argument("--database-url", help="also run on this (empty) PostgreSQL database")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    args.concurrency = max(1, min(args.concurrency, 32))
    rows: list[tuple[str, str]] = []
    log("crypto baseline (1 core)")
    base = crypto_baseline()
    with tempfile.TemporaryDirectory(prefix="tsunagu-linkage-http-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        (data_dir / "bench-secret").write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        rows += run("SQLite", data_dir, None, args)
        if args.database_url:
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            (pg_dir / "bench-secret").write_text((data_dir / "bench-secret").read_text())
            rows += run("PostgreSQL", pg_dir, args.database_url, args)
    after = crypto_baseline()
    head = [
        ("machine: cores / 1-min load average", f"{os.cpu_count()} / {os.getloadavg()[0]:.1f}"),
        (
            "baseline: raw ECDSA P-256 sign / verify (cryptography, 1 core), before → after",
            f"{base['sign']:,.0f} / {base['verify']:,.0f} → {after['sign']:,.0f} / {after['verify']:,.0f} /s",
        ),
        (
            "baseline: crypto of one exchange (3 signs + 3 verifies, 1 core), before → after",
            f"{base['exchange_crypto']:,.0f} → {after['exchange_crypto']:,.0f} /s",
        ),
        ("target", f"≥ {TARGET_RATE:,.0f} exchanges/s, p99 ≤ {TARGET_P99_MS:.0f} ms"),
    ]
    width = max(len(k) for k, _ in head + rows)
    for key, value in head + rows:
        print(f"| {key} | {value} |" if args.markdown else f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
