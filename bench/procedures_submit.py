"""Benchmark: citizens submitting pre-filled applications over HTTP (procedures, issue 5).

Target (issue 5): 200 concurrent simulated citizens submitting pre-filled applications over HTTP on the 2-core
machine, ≥ 100 submissions/s with p99 ≤ 300 ms. Baselines, measured in the same run: the same server's
``GET /healthz`` rate at the same in-flight count, and the raw ECDSA P-256 sign rate (the agency's receipt
signature) per CPU-second of one core.

Data: a fresh data dir seeded like ``tsunagu demo`` (``tsunagu.demo.prepare``); one adult per household is a
citizen. Their portal sessions are opened directly in the database, as the functional tests' ``citizen_session``
fixture does: logins are not part of this measure (bench/card_login.py measures them). Then
``tsunagu serve --workers 2`` runs on that data dir (environment ``test``, cookies not Secure: plain HTTP).

The default procedure is 転入予約 (``tennyu-yoyaku``), the only one of the catalogue whose assurance is "login"
(its typed fields: who is moving, the moving date, the visit date). ``--procedure juminhyo-utsushi`` (住民票の写し:
purpose, copies) needs a signature: every citizen gets a demo card and the submission carries the signature PIN
(the server plays the card reader: the chip signs, then the signature and certificate chain are verified).

Phases (each with its rate, latency percentiles and server CPU printed):

1. setup, untimed in the headline: every citizen starts drafts (``POST /my/applications``: the pre-fill through
   the hub, one exchange per providing agency) and fills the typed fields (``POST …/edit`` with
   ``action=confirm``: saved and validated), at a bounded concurrency;
2. **paced** (the headline): 200 citizens, each submitting its own drafts (``POST …/submit`` with the CSRF token
   of its pages) and then "thinking" for a random time (mean = citizens / offered rate) before the next one.
   A citizen's browser holds a connection only while it is waiting for an answer (uvicorn closes idle keep-alive
   connections after 5 s anyway, and ``tsunagu serve`` answers 503 past 64 connections per worker);
3. **saturation**: no think time, ``--saturation-concurrency`` submissions in flight over keep-alive
   connections, drawn from the remaining drafts of all citizens: the capacity;
4. baseline: ``GET /healthz`` at the saturation concurrency.

A submission is: load the draft, validate the values again, the signed receipt (ES256, the agency's key), the move
to submitted (event row, audit entry, notice to the applicant through the hub's 符号), the audit of the
submission; a 303 redirect is success. The load generator is an asyncio raw HTTP/1.1 client in this process; it
shares the 2 cores with the server and its CPU is measured and printed.

    python bench/procedures_submit.py [--citizens 200] [--rate 120] [--seconds 15] [--saturation-concurrency 32]
                                      [--procedure tennyu-yoyaku] [--residents 2000]
                                      [--postgres postgresql+psycopg://…/empty_db] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TARGET_RATE = 100.0
TARGET_P99_MS = 300.0
OPENCRVS_P99_MS = 500.0  # OpenCRVS's published p99 for writes at 1M records (issue 5)
SETUP_CONCURRENCY = 16
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
MOVERS_RE = re.compile(r'name="movers" value="([^"]+)"')


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- baseline ----------------------------------------------------------------------------------------------------


def sign_rate(runs: int = 5, n: int = 2000) -> float:
    """ECDSA P-256 signatures per CPU-second of this process (one core), on a receipt-sized message."""
    key = ec.generate_private_key(ec.SECP256R1())
    msg, algo = os.urandom(300), ec.ECDSA(hashes.SHA256())
    rates = []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(n):
            key.sign(msg, algo)
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates)


# --- data ----------------------------------------------------------------------------------------------------------


def settings_for(data_dir: Path, database_url: str | None) -> Any:
    from tsunagu.settings import load_settings  # noqa: PLC0415

    extra = {"database_url": database_url} if database_url else {}
    return load_settings(data_dir=data_dir, environment="test", cookie_secure=False, **extra)


def prepare(
    data_dir: Path, database_url: str | None, residents: int, citizens: int, procedure: str
) -> tuple[list[str], Any]:
    """Seed the demo, pick one adult per household, give each a portal session (and a card for a signature
    procedure); the raw session ids."""
    from sqlalchemy import select  # noqa: PLC0415

    from tsunagu import demo  # noqa: PLC0415
    from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415
    from tsunagu.identity import api as identity  # noqa: PLC0415
    from tsunagu.identity.citizen import pages as citizen_pages  # noqa: PLC0415
    from tsunagu.identity.citizen import services as citizen  # noqa: PLC0415
    from tsunagu.kernel.clock import JST, Clock, fixed_clock  # noqa: PLC0415
    from tsunagu.registry.models import Person  # noqa: PLC0415

    settings = settings_for(data_dir, database_url)
    today = dt.datetime.now(JST).date()
    start = time.perf_counter()
    result = demo.prepare(settings, residents=residents, as_of=today)
    log(f"demo seeded in {time.perf_counter() - start:.1f} s: {result.info}")
    adult = dt.date(today.year - 20, today.month, 1)
    engine = make_engine(settings)
    raws: list[str] = []
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            rows = db.execute(
                select(Person.id, Person.household_id, Person.family_name, Person.given_name)
                .where(
                    Person.status == "resident",
                    Person.address_suppressed.is_(False),
                    Person.birth_date <= adult,
                )
                .order_by(Person.household_id, Person.id)
            ).all()
            seen: set[int] = set()
            people: list[tuple[int, str]] = []
            for pid, household, family, given in rows:
                if household not in seen:
                    seen.add(household)
                    people.append((pid, f"{family} {given}"))
            if len(people) < citizens:
                msg = f"only {len(people)} households with an adult; raise --residents"
                raise SystemExit(msg)
            people = people[:citizens]
            if procedure == "juminhyo-utsushi":
                ctx = identity.card_context(
                    settings, fixed_clock(dt.datetime.combine(today, dt.time(0, 0), tzinfo=JST))
                )
                pins = identity.CardPins(
                    demo.DEMO_PINS["authentication"], demo.DEMO_PINS["surface"], demo.DEMO_PINS["signature"]
                )
                made = identity.issue_demo_cards(db, ctx, [p for p, _ in people], pins, actor="bench")
                log(f"issued {len(made)} demo cards (signature PIN {demo.DEMO_PINS['signature']})")
            policy = citizen_pages.session_policy(settings)
            for pid, name in people:
                raws.append(citizen.open_citizen_session(db, Clock(), policy, pid, name, "card"))
    finally:
        engine.dispose()
    return raws, settings


# --- server ---------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    data_dir: Path, database_url: str | None, port: int, logfile: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGU_")}
    env |= {
        "TSUNAGU_DATA_DIR": str(data_dir),
        "TSUNAGU_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TSUNAGU_ENVIRONMENT": "test",
        "TSUNAGU_COOKIE_SECURE": "false",
        "TSUNAGU_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["TSUNAGU_DATABASE_URL"] = database_url
    exe = Path(sys.executable).with_name("tsunagu")
    cmd = [str(exe), "serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", "2"]
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


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # uvicorn's supervisor stops its workers
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children (the uvicorn workers)."""
    import psutil  # type: ignore[import-untyped]  # noqa: PLC0415

    total = 0.0
    try:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
    except psutil.NoSuchProcess:
        pass
    return total


# --- the browser -------------------------------------------------------------------------------------------------


class Conn:
    """One HTTP/1.1 connection (keep-alive unless the server closes), one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, cookies: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes, list[str]]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept-Language: ja\r\n"
        if cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()) + "\r\n"
        if body is not None:
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        status = int((await self.reader.readline()).split()[1])
        headers: dict[str, str] = {}
        set_cookies: list[str] = []
        while True:
            line = await self.reader.readline()
            if line in {b"\r\n", b""}:
                break
            name, _, value = line.decode("latin-1").partition(":")
            key, value = name.strip().lower(), value.strip()
            if key == "set-cookie":
                set_cookies.append(value)
            else:
                headers[key] = value
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if "close" in headers.get("connection", "").lower():
            await self.aclose()
        return status, headers, data, set_cookies

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Citizen:
    """A browser's state: its cookies (the portal session, the CSRF cookie) and the form token of its pages."""

    cookies: dict[str, str]
    csrf: str = ""
    movers: list[str] = field(default_factory=list)
    drafts: list[int] = field(default_factory=list)

    def remember(self, set_cookies: list[str]) -> None:
        for c in set_cookies:
            name, _, rest = c.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    async def call(self, conn: Conn, method: str, path: str, form: dict[str, Any] | None = None) -> Any:
        body = urlencode(form, doseq=True, quote_via=quote).encode() if form is not None else None
        status, headers, data, set_cookies = await conn.request(method, path, self.cookies, body)
        self.remember(set_cookies)
        return status, headers, data


@dataclass
class Stats:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def n_errors(self) -> int:
        return sum(self.errors.values())


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def values_for(procedure: str, citizen: Citizen, today: dt.date) -> dict[str, Any]:
    """The typed fields of the form (the pre-filled ones are held by the server and not sent)."""
    if procedure == "tennyu-yoyaku":
        return {
            "movers": citizen.movers[:1],
            "move_date": (today + dt.timedelta(days=7)).isoformat(),
            "visit_date": (today + dt.timedelta(days=10)).isoformat(),
        }
    return {"purpose": "employment", "copies": "1"}


@dataclass
class Measure:
    """A phase: wall time, the server's and the load generator's CPU."""

    server_pid: int
    wall: float = 0.0
    server_cpu: float = 0.0
    gen_cpu: float = 0.0
    others: float = 0.0  # cores used by other processes on the (shared) machine

    async def run(self, work: Awaitable[None]) -> None:
        b0 = busy()
        c0, g0, t0 = cpu_of(self.server_pid), time.process_time(), time.perf_counter()
        await work
        self.wall = time.perf_counter() - t0
        self.server_cpu = cpu_of(self.server_pid) - c0
        self.gen_cpu = time.process_time() - g0
        self.others = max(0.0, (busy() - b0 - self.server_cpu - self.gen_cpu) / self.wall)


def busy() -> float:
    """CPU seconds the whole machine has been busy."""
    import psutil  # noqa: PLC0415

    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq)


async def bounded(concurrency: int, jobs: Sequence[Callable[[Conn], Awaitable[None]]], port: int) -> None:
    """Run the jobs with ``concurrency`` connections, each job on the next free one."""
    it = iter(jobs)

    async def lane() -> None:
        conn = Conn(port)
        try:
            for job in it:
                try:
                    await job(conn)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    await conn.aclose()
                    raise
        finally:
            await conn.aclose()

    await asyncio.gather(*(lane() for _ in range(concurrency)))


# --- phases ----------------------------------------------------------------------------------------------------


async def setup_phase(
    port: int, citizens: list[Citizen], procedure: str, drafts: int, server_pid: int
) -> list[tuple[str, str]]:
    """Every citizen opens the procedure's page (the CSRF token), starts ``drafts`` drafts, then confirms them."""
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()

    async def first_page(c: Citizen, conn: Conn) -> None:
        status, _h, data = await c.call(conn, "GET", f"/procedures/{procedure}")
        m = CSRF_RE.search(data.decode())
        if status != 200 or m is None:
            msg = f"GET /procedures/{procedure}: {status}"
            raise RuntimeError(msg)
        c.csrf = m.group(1)

    await bounded(SETUP_CONCURRENCY, [partial(first_page, c) for c in citizens], port)

    starts, confirms = Stats(), Stats()

    async def start(c: Citizen, conn: Conn) -> None:
        t0 = time.perf_counter()
        status, headers, data = await c.call(
            conn, "POST", "/my/applications", {"csrf_token": c.csrf, "procedure": procedure}
        )
        if status != 303:
            starts.error(f"{status} {data[:100]!r}")
            return
        starts.ms.append((time.perf_counter() - t0) * 1000)
        starts.ok += 1
        c.drafts.append(int(headers["location"].split("/")[3]))

    jobs = [partial(start, c) for _ in range(drafts) for c in citizens]
    log(f"setup: {len(jobs):,} drafts to start (pre-fill through the hub), concurrency {SETUP_CONCURRENCY}")
    m_start = Measure(server_pid)
    await m_start.run(bounded(SETUP_CONCURRENCY, jobs, port))
    log(f"setup: {starts.ok:,} started in {m_start.wall:.1f} s, errors {starts.errors}")

    async def members(c: Citizen, conn: Conn) -> None:
        status, _h, data = await c.call(conn, "GET", f"/my/applications/{c.drafts[0]}/edit")
        c.movers = MOVERS_RE.findall(data.decode())
        if status != 200 or (procedure == "tennyu-yoyaku" and not c.movers):
            msg = f"edit form of {c.drafts[0]}: {status}, no household members"
            raise RuntimeError(msg)

    await bounded(SETUP_CONCURRENCY, [partial(members, c) for c in citizens if c.drafts], port)

    async def confirm(c: Citizen, app_id: int, conn: Conn) -> None:
        form = {"csrf_token": c.csrf, "action": "confirm", **values_for(procedure, c, today)}
        t0 = time.perf_counter()
        status, headers, data = await c.call(conn, "POST", f"/my/applications/{app_id}/edit", form)
        if status != 303 or not headers.get("location", "").endswith("/confirm"):
            confirms.error(f"{status} {data[:100]!r}")
            c.drafts.remove(app_id)
            return
        confirms.ms.append((time.perf_counter() - t0) * 1000)
        confirms.ok += 1

    jobs = [partial(confirm, c, a) for i in range(drafts) for c in citizens for a in c.drafts[i : i + 1]]
    m_confirm = Measure(server_pid)
    await m_confirm.run(bounded(SETUP_CONCURRENCY, jobs, port))
    log(f"setup: {confirms.ok:,} confirmed in {m_confirm.wall:.1f} s, errors {confirms.errors}")
    rows = []
    for what, st, m in (
        ("start a draft (POST /my/applications: pre-fill through the hub)", starts, m_start),
        ("fill and confirm (POST …/edit action=confirm)", confirms, m_confirm),
    ):
        rows += [
            (
                f"setup, c={SETUP_CONCURRENCY}: {what}",
                f"{st.ok / m.wall:,.0f}/s, p50 / p99 {pct(st.ms, 50):.1f} / {pct(st.ms, 99):.1f} ms, "
                f"errors {st.n_errors}" + (f" {st.errors}" if st.errors else ""),
            ),
            (
                f"setup: {what.split(' (')[0]}: server CPU per request; other processes",
                f"{m.server_cpu / max(1, st.ok) * 1000:.2f} ms; {m.others:.2f} cores",
            ),
        ]
    return rows


async def submit(c: Citizen, conn: Conn, app_id: int, procedure: str, stats: Stats) -> None:
    form = {"csrf_token": c.csrf}
    if procedure == "juminhyo-utsushi":
        form["signature_pin"] = "TSUNAGU1"  # the demo cards' signature PIN (tsunagu.demo.DEMO_PINS)
    t0 = time.perf_counter()
    try:
        status, headers, data = await c.call(conn, "POST", f"/my/applications/{app_id}/submit", form)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        stats.error(type(exc).__name__)
        await conn.aclose()
        return
    if status == 303 and headers.get("location") == f"/my/applications/{app_id}":
        stats.ok += 1
        stats.ms.append((time.perf_counter() - t0) * 1000)
    else:
        stats.error(f"{status} {data[:100]!r}")


async def paced_phase(
    port: int, citizens: list[Citizen], procedure: str, rate: float, seconds: float, stats: Stats
) -> None:
    """Every citizen submits its drafts one after the other, thinking a random time between (mean =
    citizens / rate), its connection open only while it waits for the answer."""
    think = len(citizens) / rate
    stop_at = time.perf_counter() + seconds

    async def citizen(c: Citizen) -> None:
        await asyncio.sleep(random.uniform(0, think))
        conn = Conn(port)
        while time.perf_counter() < stop_at and c.drafts:
            await submit(c, conn, c.drafts.pop(0), procedure, stats)
            await conn.aclose()
            await asyncio.sleep(
                min(think * random.uniform(0.5, 1.5), max(0.0, stop_at - time.perf_counter()))
            )

    await asyncio.gather(*(citizen(c) for c in citizens))


async def saturation_phase(
    port: int, citizens: list[Citizen], procedure: str, concurrency: int, seconds: float, stats: Stats
) -> None:
    """``concurrency`` submissions in flight, over keep-alive connections, from all citizens' remaining drafts."""
    queue = [
        (c, a)
        for i in range(max((len(c.drafts) for c in citizens), default=0))
        for c in citizens
        for a in c.drafts[i : i + 1]
    ]
    it = iter(queue)
    stop_at = time.perf_counter() + seconds

    async def lane() -> None:
        conn = Conn(port)
        for c, app_id in it:
            if time.perf_counter() >= stop_at:
                break
            await submit(c, conn, app_id, procedure, stats)
        await conn.aclose()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    if time.perf_counter() < stop_at:
        log("saturation: the drafts ran out before the time (raise --drafts)")


async def healthz_phase(port: int, concurrency: int, seconds: float, stats: Stats) -> None:
    stop_at = time.perf_counter() + seconds

    async def lane() -> None:
        conn = Conn(port)
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            status, _h, _d, _c = await conn.request("GET", "/healthz", {})
            if status == 200:
                stats.ok += 1
                stats.ms.append((time.perf_counter() - t0) * 1000)
            else:
                stats.error(str(status))
        await conn.aclose()

    await asyncio.gather(*(lane() for _ in range(concurrency)))


# --- a run -------------------------------------------------------------------------------------------------------


def phase_rows(label: str, what: str, stats: Stats, m: Measure, extra: str = "") -> list[tuple[str, str]]:
    rate = stats.ok / m.wall
    p99 = pct(stats.ms, 99)
    return [
        (
            f"{label}: {what}",
            f"**{rate:,.0f} submissions/s** ({stats.ok:,} in {m.wall:.1f} s){extra}",
        ),
        (
            f"{label}: {what}: submit p50 / p90 / p99 / max",
            f"{pct(stats.ms, 50):.0f} / {pct(stats.ms, 90):.0f} / **{p99:.0f}** / "
            f"{max(stats.ms, default=float('nan')):.0f} ms",
        ),
        (
            f"{label}: {what}: errors",
            f"{stats.n_errors}" + (f" {stats.errors}" if stats.errors else ""),
        ),
        (
            f"{label}: {what}: CPU cores server / load generator / other processes; server CPU per submission",
            f"{m.server_cpu / m.wall:.2f} / {m.gen_cpu / m.wall:.2f} / {m.others:.2f}; "
            f"**{m.server_cpu / max(1, stats.ok) * 1000:.2f} ms**",
        ),
        (
            f"{label}: {what}: rate if the server had both cores (2 / CPU per submission)",
            f"{2 * stats.ok / max(1e-9, m.server_cpu):,.0f} submissions/s",
        ),
    ]


def run_database(
    label: str, data_dir: Path, database_url: str | None, args: argparse.Namespace
) -> list[tuple[str, str]]:
    log(f"[{label}] seeding {args.residents} residents, {args.citizens} citizens with sessions")
    raws, settings = prepare(data_dir, database_url, args.residents, args.citizens, args.procedure)
    from tsunagu.identity.citizen import pages as citizen_pages  # noqa: PLC0415

    name = citizen_pages.citizen_cookie_name(settings.cookie_secure)
    citizens = [Citizen({name: raw}) for raw in raws]
    drafts = args.drafts or math.ceil(
        (args.rate * 1.15 * args.seconds + 160 * args.saturation_seconds) / args.citizens
    )
    port = free_port()
    logfile = data_dir / f"bench-server-{label}.log"
    proc = start_server(data_dir, database_url, port, logfile)
    rows: list[tuple[str, str]] = []
    try:
        time.sleep(1.0)
        rows += asyncio.run(setup_phase(port, citizens, args.procedure, drafts, proc.pid))
        log(f"[{label}] paced: {args.citizens} citizens, offered {args.rate:.0f}/s, {args.seconds:.0f} s")
        paced, m_paced = Stats(), Measure(proc.pid)
        asyncio.run(m_paced.run(paced_phase(port, citizens, args.procedure, args.rate, args.seconds, paced)))
        mark = (
            " ✅" if paced.ok / m_paced.wall >= TARGET_RATE and pct(paced.ms, 99) <= TARGET_P99_MS else " ❌"
        )
        mark += "" if paced.n_errors == 0 else " (errors)"
        rows += phase_rows(
            label,
            f"paced, {args.citizens} citizens, offered {args.rate:.0f}/s",
            paced,
            m_paced,
            mark,
        )
        sc = args.saturation_concurrency
        log(f"[{label}] saturation: {sc} in flight, {args.saturation_seconds:.0f} s")
        sat, m_sat = Stats(), Measure(proc.pid)
        asyncio.run(
            m_sat.run(saturation_phase(port, citizens, args.procedure, sc, args.saturation_seconds, sat))
        )
        rows += phase_rows(label, f"saturation, c={sc} keep-alive, no think time", sat, m_sat)
        log(f"[{label}] baseline: GET /healthz at c={sc}, 5 s")
        health, m_health = Stats(), Measure(proc.pid)
        asyncio.run(m_health.run(healthz_phase(port, sc, 5.0, health)))
        rows += [
            (
                f"{label}: baseline GET /healthz, same server, c={sc}",
                f"{health.ok / m_health.wall:,.0f} req/s, p50 / p99 {pct(health.ms, 50):.1f} / "
                f"{pct(health.ms, 99):.1f} ms, errors {health.n_errors}, server CPU per request "
                f"{m_health.server_cpu / max(1, health.ok) * 1000:.2f} ms",
            ),
        ]
    finally:
        stop_server(proc)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--citizens", type=int, default=200, help="simulated citizens (each with a session)")
    ap.add_argument("--rate", type=float, default=120.0, help="offered submissions/s in the paced phase")
    ap.add_argument("--seconds", type=float, default=15.0, help="paced phase duration")
    ap.add_argument("--saturation-concurrency", type=int, default=32, help="in flight, saturation phase")
    ap.add_argument("--saturation-seconds", type=float, default=10.0)
    ap.add_argument(
        "--drafts", type=int, default=0, help="drafts per citizen (default: enough for both phases)"
    )
    ap.add_argument("--procedure", choices=["tennyu-yoyaku", "juminhyo-utsushi"], default="tennyu-yoyaku")
    ap.add_argument("--residents", type=int, default=2000)
    ap.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (an empty database)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    log("baseline: ECDSA P-256 sign (1 core)")
    sign_before = sign_rate()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tsunagu-procedures-") as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        rows += run_database("SQLite", sqlite_dir, None, args)
        if args.postgres:
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            rows += run_database("PostgreSQL", pg_dir, args.postgres, args)
    sign_after = sign_rate()
    head = [
        (
            "machine: cores / 1-min load average at start, at end",
            f"{os.cpu_count()} / {load_start:.1f}, {os.getloadavg()[0]:.1f}",
        ),
        (
            "baseline: raw ECDSA P-256 sign (the receipt signature), per CPU-second, before / after",
            f"{sign_before:,.0f} / {sign_after:,.0f} /s",
        ),
        ("procedure", f"{args.procedure}; logins not measured here (bench/card_login.py)"),
        (
            "target (issue 5)",
            f"≥ {TARGET_RATE:,.0f} submissions/s, p99 ≤ {TARGET_P99_MS:.0f} ms, 200 citizens "
            f"(OpenCRVS publishes p99 ≤ {OPENCRVS_P99_MS:.0f} ms for writes at 1M records)",
        ),
    ]
    all_rows = head + rows
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
