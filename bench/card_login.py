"""Benchmark: card login (challenge, certificate chain and revocation check, signature verify, session).

Target (issue 3): ≥ 1,000 logins/s in-process and ≥ 300 logins/s over HTTP on the 2-core machine. Baseline, measured
in the same run: the raw ECDSA P-256 verify rate of `cryptography` on one core, and the crypto floor of one login
(parse the certificate, verify its signature by the CA, verify the card's signature: two ECDSA verifies).

In-process, the server side of a login is `issue_challenge` (stateless: it writes nothing) plus `login_with_card` (its
own unit of work: chain and revocation through the PKI, signature, card → person, session, login record, audit), as the
HTTP edge does it. The client's signing is not server work: the challenges of a round are issued (timed), signed
by the software chips (untimed), then answered (timed). 1 and 2 worker processes; SQLite, and PostgreSQL with
`--postgres`.

Over HTTP, `tsunagu serve --workers 2` is driven by an asyncio load generator in this process that runs the
whole protocol per login (POST challenge, sign with the software chip, POST answer) with bounded concurrency, over
a minimal HTTP/1.1 keep-alive client (or httpx with `--client httpx`). The load generator shares the 2 cores with
the server; its CPU share, the server's and other processes' (the VM may be shared) are measured and printed, and
so is the CPU time per login, which other processes affect far less than the wall-clock rates.

    python bench/card_login.py [--logins 3000] [--seconds 15] [--concurrency 16] [--cards 50] [--client raw]
                               [--postgres postgresql+psycopg://…/empty_db] [--keep DIR] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
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

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TARGET_INPROC = 1000.0
TARGET_HTTP = 300.0
# Password logins/s per vCPU: Keycloak's HA guide, "Concepts for sizing CPU and memory resources" (26.x).
KEYCLOAK_PER_VCPU = 15
MOSIP_AUTH = 50  # authentications/s, the figure quoted in issue 3
ROUND = 1000  # challenges per round in-process (a challenge lives 120 s; a round takes a few seconds)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- baseline ------------------------------------------------------------------------------------------------


def _rate(fn: Any, n: int, runs: int = 5) -> float:
    """Median operations per CPU-second of this process (not per wall second: other processes share the VM)."""
    rates = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(n):
            fn()
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates)


def crypto_baseline(cert_der: bytes, ca_der: bytes, message: bytes, signature: bytes) -> dict[str, float]:
    """Raw ECDSA P-256 verify/s on one core, and the crypto of one login: parse the certificate, check the CA's
    signature on it, verify the card's signature (2 verifies + 1 parse)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key()
    msg = os.urandom(120)
    sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
    verify = _rate(lambda: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256())), 2000)
    sign = _rate(lambda: key.sign(msg, ec.ECDSA(hashes.SHA256())), 2000)
    ca = x509.load_der_x509_certificate(ca_der)

    def login_crypto() -> None:
        cert = x509.load_der_x509_certificate(cert_der)
        cert.verify_directly_issued_by(ca)
        public = cert.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    return {"verify": verify, "sign": sign, "login_crypto": _rate(login_crypto, 1000)}


# --- data --------------------------------------------------------------------------------------------------


def settings_for(data_dir: Path, database_url: str | None, public_url: str = "http://127.0.0.1:8000") -> Any:
    from tsunagu.settings import load_settings  # noqa: PLC0415

    extra = {"database_url": database_url} if database_url else {}
    return load_settings(data_dir=data_dir, public_url=public_url, **extra)


def prepare(data_dir: Path, database_url: str | None, cards: int, residents: int) -> list[str]:
    """Migrate and seed the demo (idempotent), then issue demo cards until ``cards`` active cards exist."""
    from sqlalchemy import select  # noqa: PLC0415

    from tsunagu import demo  # noqa: PLC0415
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.identity import api as identity  # noqa: PLC0415
    from tsunagu.identity.cards.models import Card  # noqa: PLC0415
    from tsunagu.kernel.clock import JST, fixed_clock  # noqa: PLC0415
    from tsunagu.registry.models import Person  # noqa: PLC0415

    settings = settings_for(data_dir, database_url)
    today = dt.datetime.now(JST).date()
    start = time.perf_counter()
    result = demo.prepare(settings, residents=residents, as_of=today)
    log(
        f"demo prepared ({'seeded now' if result.seeded_now else 'already seeded'}) in "
        f"{time.perf_counter() - start:.1f} s: {result.info.get('cards')} demo cards"
    )
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as db:
            have = list(db.scalars(select(Card.serial).where(Card.status == "active").order_by(Card.serial)))
            if len(have) < cards:
                holders = set(db.scalars(select(Card.person_id)))
                people = [
                    p
                    for p in db.scalars(
                        select(Person.id)
                        .where(Person.status == "resident", Person.address_suppressed.is_(False))
                        .order_by(Person.id)
                        .limit(cards * 3)
                    )
                    if p not in holders
                ][: cards - len(have)]
                ctx = identity.card_context(
                    settings, fixed_clock(dt.datetime.combine(today, dt.time(0, 0), tzinfo=JST))
                )
                pins = identity.CardPins(
                    demo.DEMO_PINS["authentication"], demo.DEMO_PINS["surface"], demo.DEMO_PINS["signature"]
                )
                made = identity.issue_demo_cards(db, ctx, people, pins, actor="bench")
                have += [c.serial for c in made]
                log(f"issued {len(made)} more cards")
    finally:
        engine.dispose()
    return have[:cards]


def sample_login(data_dir: Path, database_url: str | None, serial: str) -> tuple[bytes, bytes, bytes, bytes]:
    """(a card's authentication certificate, the authentication CA's certificate, a message, the chip's signature
    of it), for the crypto baseline."""
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.kernel.clock import Clock  # noqa: PLC0415
    from tsunagu.pki import api as pki  # noqa: PLC0415

    settings = settings_for(data_dir, database_url)
    signer = Signer(settings, [serial])
    message = os.urandom(120)
    cert, signature = signer.sign(serial, message)
    signer.close()
    engine = make_engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            ca = pki.trust_services(settings, Clock()).ca_certificate(db, "authentication")
    finally:
        engine.dispose()
    return cert, ca, message, signature


# --- in-process ------------------------------------------------------------------------------------------


@dataclass
class Signer:
    """The client side: the software chips of the cards, signing with the demo authentication PIN."""

    settings: Any
    serials: list[str]
    certs: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from tsunagu.db.engine import make_engine, make_session_factory  # noqa: PLC0415
        from tsunagu.identity.cards.chip import ChipKeys, SoftwareChip  # noqa: PLC0415
        from tsunagu.identity.core.pins import PinSlot  # noqa: PLC0415
        from tsunagu.kernel.clock import Clock  # noqa: PLC0415

        self.engine = make_engine(self.settings)
        self.db = make_session_factory(self.engine)()
        self.slot = PinSlot.AUTHENTICATION
        keys = ChipKeys(self.settings.master_secret())
        self.chips = {s: SoftwareChip(self.db, keys, Clock(), s) for s in self.serials}
        self.certs = {s: c.read_certificate(self.slot) for s, c in self.chips.items()}
        self.db.commit()

    def sign(self, serial: str, message: bytes) -> tuple[bytes, bytes]:
        """(certificate DER, signature DER); the chip checks the PIN. Ends its read transaction at once."""
        signature = self.chips[serial].sign(self.slot, "1234", message)
        self.db.commit()  # nothing written: ends the read snapshot (SQLite WAL checkpoints need that)
        return self.certs[serial], signature

    def close(self) -> None:
        self.db.close()
        self.engine.dispose()


def _inproc_worker(
    index: int,
    data_dir: str,
    database_url: str | None,
    serials: list[str],
    rounds: list[int],
    barrier: Any,
    out: Any,
) -> None:
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.identity.cardlogin import services  # noqa: PLC0415
    from tsunagu.identity.citizen.services import SessionPolicy  # noqa: PLC0415
    from tsunagu.identity.core.cardlogin import b64encode  # noqa: PLC0415
    from tsunagu.kernel.clock import Clock  # noqa: PLC0415
    from tsunagu.pki import api as pki  # noqa: PLC0415

    settings = settings_for(Path(data_dir), database_url)
    audience = settings.public_url
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    clock = Clock()
    trust = pki.trust_services(settings, clock)
    policy = SessionPolicy(settings.citizen_idle_minutes, settings.citizen_absolute_minutes)
    signer = Signer(settings, serials)
    mine = serials[index::2] + serials[1 - index :: 2] if len(serials) > 1 else serials

    key = services.ChallengeKey(settings.master_secret())

    def challenge() -> services.Challenge:
        return services.issue_challenge(key, clock, audience)  # nothing is written until it is answered

    def answer(c: services.Challenge, i: int) -> tuple[str, str, str]:
        cert, sig = signer.sign(mine[i % len(mine)], c.message)
        return c.challenge_id, b64encode(cert), b64encode(sig)

    def login(a: tuple[str, str, str]) -> None:
        with unit_of_work(factory) as db:
            services.login_with_card(db, trust, key, clock, policy, audience, *a)

    for i in range(30):  # warm-up: the trust anchors, SQLAlchemy's statement cache, the chips' rows
        login(answer(challenge(), i))
    report = []
    for n in rounds:
        barrier.wait()
        c0, t0 = time.process_time(), time.perf_counter()
        challenges = [challenge() for _ in range(n)]
        c1, t1 = time.process_time(), time.perf_counter()
        answers = [answer(c, i) for i, c in enumerate(challenges)]
        t2 = time.perf_counter()
        barrier.wait()
        c3, t3 = time.process_time(), time.perf_counter()
        for a in answers:
            login(a)
        c4, t4 = time.process_time(), time.perf_counter()
        report.append((n, t0, t1, t2 - t1, t3, t4, c1 - c0, c4 - c3))
    signer.close()
    engine.dispose()
    out.put((index, report, time.process_time()))


def in_process(
    data_dir: Path, database_url: str | None, serials: list[str], logins: int, procs: int
) -> dict[str, float]:
    """Logins per second with ``procs`` worker processes, each doing ``logins`` logins in rounds."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(procs)
    out = ctx.Queue()
    rounds = [ROUND] * (logins // ROUND) + ([logins % ROUND] if logins % ROUND else [])
    workers = [
        ctx.Process(
            target=_inproc_worker,
            args=(i, str(data_dir), database_url, serials, rounds, barrier, out),
        )
        for i in range(procs)
    ]
    machine = Machine()
    for w in workers:
        w.start()
    try:
        got = [out.get(timeout=900) for _ in workers]
    except Exception:
        for w in workers:
            w.kill()
        raise
    for w in workers:
        w.join()
        if w.exitcode != 0:
            msg = f"in-process worker failed with exit code {w.exitcode}"
            raise RuntimeError(msg)
    others = machine.others(sum(g[2] for g in got))
    reports = [(g[0], g[1]) for g in got]
    total = logins * procs
    chal_wall = login_wall = sign_cpu = cpu = 0.0
    for r in range(len(rounds)):
        rows = [rep[r] for _, rep in reports]
        chal_wall += max(x[2] for x in rows) - min(x[1] for x in rows)
        login_wall += max(x[5] for x in rows) - min(x[4] for x in rows)
        sign_cpu += sum(x[3] for x in rows)
        cpu += sum(x[6] + x[7] for x in rows)
    return {
        "challenge": total / chal_wall,
        "verify_session": total / login_wall,
        "full": total / (chal_wall + login_wall),
        "client_sign": total / sign_cpu,
        # CPU time of the server side per login: what the code costs, whatever else runs on the machine
        "cpu_ms": cpu / total * 1000,
        "others": others,
    }


def _busy() -> float:
    import psutil  # type: ignore[import-untyped]  # noqa: PLC0415

    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq)


@dataclass
class Machine:
    """CPU used on the whole machine since creation, to tell how much other processes took (the VM is shared)."""

    start: float = field(default_factory=_busy)
    wall: float = field(default_factory=time.perf_counter)
    mine: float = field(default_factory=time.process_time)

    def others(self, children_cpu: float) -> float:
        """Cores used on average by processes other than this one and ``children_cpu`` (seconds)."""
        busy = _busy() - self.start
        wall = time.perf_counter() - self.wall
        return max(0.0, (busy - children_cpu - (time.process_time() - self.mine)) / wall)


# --- HTTP --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(data_dir: Path, database_url: str | None, port: int, workers: int, logfile: Path) -> Any:
    env = dict(os.environ)
    env.update(
        TSUNAGU_DATA_DIR=str(data_dir),
        TSUNAGU_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TSUNAGU_LOG_LEVEL="WARNING",
    )
    if database_url:
        env["TSUNAGU_DATABASE_URL"] = database_url
    else:
        env.pop("TSUNAGU_DATABASE_URL", None)
    exe = Path(sys.executable).with_name("tsunagu")
    cmd = [str(exe), "serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers)]
    with logfile.open("ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"the server exited with {proc.returncode}; see {logfile}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    msg = f"the server did not answer /healthz within 90 s; see {logfile}"
    raise RuntimeError(msg)


def stop_server(proc: Any) -> None:
    proc.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class LoadStats:
    logins: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    session_ms: list[float] = field(default_factory=list)
    challenge_ms: list[float] = field(default_factory=list)
    login_ms: list[float] = field(default_factory=list)
    sign_s: float = 0.0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


class RawHTTP:
    """A minimal HTTP/1.1 keep-alive client (one connection, one request at a time): a few tens of microseconds per
    request, so the load generator leaves more of the 2 cores to the server than httpx does."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in {b"\r\n", b""}:
                break
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"transfer-encoding":
                msg = "chunked responses are not supported by this client"
                raise ValueError(msg)
            elif key == b"connection" and b"close" in value.lower():
                close = True
        data = await self.reader.readexactly(length)
        if close:
            await self.aclose()
        return status, data

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _drive(
    base: str, signer: Signer, concurrency: int, seconds: float, stats: LoadStats, client: str = "raw"
) -> None:
    import httpx  # noqa: PLC0415

    from tsunagu.identity.core.cardlogin import b64encode, to_be_signed  # noqa: PLC0415

    serials = signer.serials
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    host, port = base.removeprefix("http://").rsplit(":", 1)
    shared = httpx.AsyncClient(
        base_url=base,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=30,
    )

    def via_httpx() -> Any:
        async def post(path: str, body: bytes = b"") -> tuple[int, bytes]:
            r = await shared.post(path, content=body, headers={"Content-Type": "application/json"})
            shared.cookies.clear()
            return r.status_code, r.content

        return post

    async def one(post: Any) -> None:
        i = next(counter)
        t0 = time.perf_counter()
        status, data = await post("/api/v1/card-login/challenges")
        t1 = time.perf_counter()
        if status != 201:
            stats.error(f"challenge {status}")
            return
        c = json.loads(data)
        if c["audience"] != base:
            stats.error("audience")
            return
        cert, sig = signer.sign(serials[i % len(serials)], to_be_signed(base, c["challenge_id"], c["nonce"]))
        t2 = time.perf_counter()
        body = {
            "challenge_id": c["challenge_id"],
            "certificate": b64encode(cert),
            "signature": b64encode(sig),
        }
        status, data = await post("/api/v1/card-login/sessions", json.dumps(body).encode())
        t3 = time.perf_counter()
        if status != 201 or not json.loads(data).get("session"):
            stats.error(f"session {status} {data[:80]!r}")
            return
        stats.logins += 1
        stats.sign_s += t2 - t1
        stats.challenge_ms.append((t1 - t0) * 1000)
        stats.session_ms.append((t3 - t2) * 1000)
        stats.login_ms.append((t3 - t0 - (t2 - t1)) * 1000)

    async def loop() -> None:
        raw = RawHTTP(host, int(port)) if client == "raw" else None
        post = raw.post if raw is not None else via_httpx()
        while time.perf_counter() < deadline:
            try:
                await one(post)
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, KeyError, ValueError) as exc:
                stats.error(type(exc).__name__)
                if raw is not None:
                    await raw.aclose()
        if raw is not None:
            await raw.aclose()

    async with shared:
        await asyncio.gather(*(loop() for _ in range(concurrency)))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def over_http(
    data_dir: Path,
    database_url: str | None,
    serials: list[str],
    seconds: float,
    concurrency: int,
    workers: int,
    client: str = "raw",
) -> dict[str, Any]:
    import psutil  # noqa: PLC0415

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(data_dir, database_url, port, workers, data_dir / "bench-server.log")
    signer = Signer(settings_for(data_dir, database_url, base), serials)
    try:
        server = psutil.Process(proc.pid)
        time.sleep(1.0)
        server_procs = [server, *server.children(recursive=True)]
        log(f"server up on {base} ({len(server_procs) - 1} worker processes); warming up 3 s")
        asyncio.run(_drive(base, signer, concurrency, 3.0, LoadStats(), client))
        me = psutil.Process()

        def cpu(p: psutil.Process) -> float:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:  # a worker replaced by the supervisor: its time is lost
                return 0.0
            return float(t.user + t.system)

        server_procs = [server, *server.children(recursive=True)]
        before = {p.pid: cpu(p) for p in server_procs}
        before_me = cpu(me)
        sys_before = psutil.cpu_times()
        busy_before = _busy()
        stats = LoadStats()
        log(f"measuring for {seconds:.0f} s at concurrency {concurrency}")
        start = time.perf_counter()
        asyncio.run(_drive(base, signer, concurrency, seconds, stats, client))
        wall = time.perf_counter() - start
        srv = sum(max(0.0, cpu(p) - before[p.pid]) for p in server_procs)
        gen = cpu(me) - before_me
        sys_after = psutil.cpu_times()
        idle = (sys_after.idle - sys_before.idle) / (wall * (psutil.cpu_count() or 2))
        others = max(0.0, (_busy() - busy_before - srv - gen) / wall)
    finally:
        signer.close()
        stop_server(proc)
    return {
        "rate": stats.logins / wall,
        "logins": stats.logins,
        "errors": stats.errors,
        "error_kinds": stats.error_kinds,
        "session_p50": _pct(stats.session_ms, 50),
        "session_p99": _pct(stats.session_ms, 99),
        "challenge_p50": _pct(stats.challenge_ms, 50),
        "challenge_p99": _pct(stats.challenge_ms, 99),
        "login_p50": _pct(stats.login_ms, 50),
        "login_p99": _pct(stats.login_ms, 99),
        "server_cores": srv / wall,
        "loadgen_cores": gen / wall,
        "sign_cores": stats.sign_s / wall,
        "idle": idle,
        "others": others,
        "server_cpu_ms_per_login": srv / max(1, stats.logins) * 1000,
    }


# --- report ---------------------------------------------------------------------------------------------------


def run_database(
    label: str, data_dir: Path, database_url: str | None, args: argparse.Namespace
) -> list[tuple[str, str]]:
    log(f"[{label}] preparing the data ({args.residents} residents, {args.cards} cards)")
    serials = prepare(data_dir, database_url, args.cards, args.residents)
    rows: list[tuple[str, str]] = [(f"{label}: cards used", f"{len(serials)}")]
    inproc: dict[int, dict[str, float]] = {}
    for procs in (1, 2):
        log(f"[{label}] in-process, {procs} process(es) × {args.logins} logins")
        inproc[procs] = r = in_process(data_dir, database_url, serials, args.logins, procs)
        mark = " ◀ headline" if procs == 2 else ""
        rows += [
            (
                f"{label}: in-process, {procs} proc, challenge + answer (full server side)",
                f"**{r['full']:,.0f} logins/s**{mark}" if procs == 2 else f"{r['full']:,.0f} logins/s",
            ),
            (
                f"{label}: in-process, {procs} proc, answer only (verify + session)",
                f"{r['verify_session']:,.0f}/s",
            ),
            (f"{label}: in-process, {procs} proc, issue_challenge only", f"{r['challenge']:,.0f}/s"),
            (
                f"{label}: in-process, {procs} proc, server CPU per login / other processes' load",
                f"{r['cpu_ms']:.2f} ms / {r['others']:.2f} cores",
            ),
        ]
    rows.append(
        (
            f"{label}: in-process, CPU-bound estimate for 2 idle cores (2 / CPU per login, 2 proc)",
            f"{2000 / inproc[2]['cpu_ms']:,.0f} logins/s",
        )
    )
    rows.append(
        (
            f"{label}: client signing (software chip, 1 core, untimed above)",
            f"{inproc[1]['client_sign']:,.0f}/s",
        )
    )
    log(f"[{label}] HTTP: tsunagu serve --workers 2, {args.seconds:.0f} s")
    h = over_http(data_dir, database_url, serials, args.seconds, args.concurrency, 2, args.client)
    rows += [
        (
            f"{label}: HTTP, 2 workers, c={args.concurrency}, {args.client} client, whole protocol",
            f"**{h['rate']:,.0f} logins/s** ({h['logins']:,} in {args.seconds:.0f} s)",
        ),
        (f"{label}: HTTP errors", f"{h['errors']}" + (f" {h['error_kinds']}" if h["errors"] else "")),
        (f"{label}: HTTP POST sessions p50 / p99", f"{h['session_p50']:.1f} / {h['session_p99']:.1f} ms"),
        (
            f"{label}: HTTP POST challenges p50 / p99",
            f"{h['challenge_p50']:.1f} / {h['challenge_p99']:.1f} ms",
        ),
        (
            f"{label}: HTTP both round trips p50 / p99 (without signing)",
            f"{h['login_p50']:.1f} / {h['login_p99']:.1f} ms",
        ),
        (
            f"{label}: HTTP CPU: server / load generator / other processes (cores) / idle",
            f"{h['server_cores']:.2f} / {h['loadgen_cores']:.2f} / {h['others']:.2f} / {h['idle']:.0%}",
        ),
        (
            f"{label}: HTTP load generator: chip signing (wall, share of the run)",
            f"{h['sign_cores']:.0%}",
        ),
        (f"{label}: HTTP server CPU per login", f"{h['server_cpu_ms_per_login']:.2f} ms"),
        (
            f"{label}: HTTP rate if the server had both cores (2 / server CPU per login)",
            f"{2000 / h['server_cpu_ms_per_login']:,.0f} logins/s",
        ),
    ]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logins", type=int, default=3000, help="in-process logins per worker process")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured HTTP load duration")
    ap.add_argument("--concurrency", type=int, default=16, help="HTTP logins in flight (≤ 32)")
    ap.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="HTTP client of the load generator"
    )
    ap.add_argument("--cards", type=int, default=50)
    ap.add_argument("--residents", type=int, default=2000)
    ap.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (an empty database)")
    ap.add_argument("--keep", metavar="DIR", type=Path, help="use and keep this data directory")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    args.concurrency = max(1, min(args.concurrency, 32))

    with tempfile.TemporaryDirectory(prefix="tsunagu-cardlogin-") as tmp:
        data_dir = (args.keep or Path(tmp) / "data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        log(f"data directory {data_dir}")
        load_start = os.getloadavg()[0]
        serials = prepare(data_dir, None, args.cards, args.residents)
        sample = sample_login(data_dir, None, serials[0])
        log("crypto baseline (1 core)")
        base = crypto_baseline(*sample)
        rows = run_database("SQLite", data_dir, None, args)
        if args.postgres:
            rows += run_database("PostgreSQL", data_dir, args.postgres, args)
        log("crypto baseline again (the VM's speed drifts)")
        base_after = crypto_baseline(*sample)
        load_end = os.getloadavg()[0]

    head = [
        (
            "machine: cores / 1-min load average at start, at end",
            f"{os.cpu_count()} / {load_start:.1f}, {load_end:.1f}",
        ),
        (
            "baseline: raw ECDSA P-256 verify (cryptography, per CPU-second), before / after",
            f"{base['verify']:,.0f} / {base_after['verify']:,.0f} /s",
        ),
        (
            "baseline: ECDSA P-256 sign (per CPU-second), before / after",
            f"{base['sign']:,.0f} / {base_after['sign']:,.0f} /s",
        ),
        (
            "baseline: crypto of one login (parse cert + 2 verifies, per CPU-second), before / after",
            f"{base['login_crypto']:,.0f} / {base_after['login_crypto']:,.0f} /s",
        ),
    ]

    def value(prefix: str) -> str:
        return next(v for k, v in rows if k.startswith(prefix))

    tail = [
        (
            "target: in-process (2 cores), SQLite",
            f"≥ {TARGET_INPROC:,.0f} logins/s → measured {value('SQLite: in-process, 2 proc, challenge')}, "
            f"CPU-bound estimate {value('SQLite: in-process, CPU-bound')}",
        ),
        (
            "target: HTTP (2 workers), SQLite",
            f"≥ {TARGET_HTTP:,.0f} logins/s → measured {value('SQLite: HTTP, 2 workers')}, "
            f"server-CPU estimate {value('SQLite: HTTP rate if')}",
        ),
        (
            "context: Keycloak password logins",
            f"{KEYCLOAK_PER_VCPU}/s per vCPU = {2 * KEYCLOAK_PER_VCPU}/s on 2",
        ),
        ("context: MOSIP authentications (as quoted in issue 3)", f"{MOSIP_AUTH}/s"),
    ]
    all_rows = head + rows + tail
    if args.markdown:
        print("| measure | value |\n|---|---|")
        for k, v in all_rows:
            print(f"| {k} | {v} |")
    else:
        width = max(len(k) for k, _ in all_rows)
        for k, v in all_rows:
            print(f"{k:<{width}}  {v.replace('**', '')}")


if __name__ == "__main__":
    main()
