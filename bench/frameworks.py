"""Web-framework benchmark: FastAPI vs Litestar vs Starlette, with a raw ASGI app as the baseline.

Each framework serves a tiny app under uvicorn (one worker, ``--no-access-log --log-level warning``,
uvloop and httptools when installed) on 127.0.0.1 on a free port:

* ``GET /json`` returns ``{"message": "Hello, World!"}`` through the framework's normal JSON path,
  with a typed response model where it has one (a pydantic model for FastAPI, a msgspec Struct
  for Litestar);
* ``GET /html`` renders the same small Jinja2 template for every app.

The load generator is ``wrk`` (Debian package ``wrk``); when it is not on PATH a bounded asyncio +
httpx closed-loop client is used instead (it is far slower than wrk, so its figures are only
comparable with each other). All apps run at once; after one warm-up run per endpoint, the N
measured runs are interleaved round-robin across the apps, so a slow spell of a shared or virtual
machine does not land on one framework. The table shows the median req/s and the median p99
latency. Before loading, every response is checked, and every app's HTML must equal the raw ASGI
app's byte for byte, so all apps do the same work.

On a machine with two or more CPUs the servers are pinned to CPU 0 and the load generator to CPU 1
(``--no-pin`` turns this off), so the two do not fight for one core.

Only 127.0.0.1 is contacted; every loop is bounded by a count or a deadline.

Usage::

    .venv/bin/python bench/frameworks.py [--markdown] [--duration 5] [--warmup 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
EXPECTED_JSON = {"message": "Hello, World!"}
STARTUP_TIMEOUT_S = 20.0
SERVER_CPU = 0
CLIENT_CPU = 1
HTTPX_MAX_REQUESTS_PER_RUN = 2_000_000  # hard bound for the fallback client, on top of the deadline
PSI_CPU = Path("/proc/pressure/cpu")

# --------------------------------------------------------------------------------------------------
# The apps, written to a temporary directory at run time.
# --------------------------------------------------------------------------------------------------

TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
<ul>
{% for item in items %}  <li id="item-{{ item.id }}">{{ item.name }} &mdash; {{ item.note }}</li>
{% endfor %}</ul>
</body>
</html>"""

# Shared by every app: the template's context, identical everywhere.
COMMON = """
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent / "templates"
CONTEXT = {
    "title": "Hello, World!",
    "items": [{"id": i, "name": f"Item {i}", "note": "<escaped & safe>"} for i in range(10)],
}
"""

RAW_APP = """
import json

import jinja2

from bench_common import CONTEXT, TEMPLATE_DIR

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True)
_template = _env.get_template("page.html")


def _start(content_type):
    return {"type": "http.response.start", "status": 200,
            "headers": [(b"content-type", content_type)]}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/json":
        body = json.dumps({"message": "Hello, World!"}, separators=(",", ":")).encode()
        await send(_start(b"application/json"))
    elif path == "/html":
        body = _template.render(**CONTEXT).encode()
        await send(_start(b"text/html; charset=utf-8"))
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        body = b""
    await send({"type": "http.response.body", "body": body})
"""

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bench_common import CONTEXT, TEMPLATE_DIR

templates = Jinja2Templates(directory=TEMPLATE_DIR)


async def json_endpoint(request):
    return JSONResponse({"message": "Hello, World!"})


async def html_endpoint(request):
    return templates.TemplateResponse(request, "page.html", CONTEXT)


app = Starlette(routes=[Route("/json", json_endpoint), Route("/html", html_endpoint)])
"""

FASTAPI_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from bench_common import CONTEXT, TEMPLATE_DIR

templates = Jinja2Templates(directory=TEMPLATE_DIR)
app = FastAPI()


class Message(BaseModel):
    message: str


@app.get("/json", response_model=Message)
async def json_endpoint() -> Message:
    return Message(message="Hello, World!")


@app.get("/html", response_class=HTMLResponse)
async def html_endpoint(request: Request):
    return templates.TemplateResponse(request, "page.html", CONTEXT)
"""

LITESTAR_APP = """
import msgspec
from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from bench_common import CONTEXT, TEMPLATE_DIR


class Message(msgspec.Struct):
    message: str


@get("/json")
async def json_endpoint() -> Message:
    return Message(message="Hello, World!")


@get("/html")
async def html_endpoint() -> Template:
    return Template(template_name="page.html", context=CONTEXT)


app = Litestar(
    route_handlers=[json_endpoint, html_endpoint],
    template_config=TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine),
)
"""


@dataclass(frozen=True)
class Subject:
    key: str
    label: str
    source: str
    distribution: str | None  # whose version to show; None for the raw app


SUBJECTS: dict[str, Subject] = {
    s.key: s
    for s in (
        Subject("raw", "raw ASGI (baseline)", RAW_APP, None),
        Subject("starlette", "Starlette", STARLETTE_APP, "starlette"),
        Subject("fastapi", "FastAPI", FASTAPI_APP, "fastapi"),
        Subject("litestar", "Litestar", LITESTAR_APP, "litestar"),
    )
}
ENDPOINTS = ("/json", "/html")


def write_apps(directory: Path) -> None:
    (directory / "templates").mkdir()
    (directory / "templates" / "page.html").write_text(TEMPLATE, encoding="utf-8")
    (directory / "bench_common.py").write_text(COMMON, encoding="utf-8")
    for subject in SUBJECTS.values():
        (directory / f"app_{subject.key}.py").write_text(subject.source, encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Server control
# --------------------------------------------------------------------------------------------------


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def version_of(distribution: str | None) -> str:
    if distribution is None:
        return "-"
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin(pid: int, cpu: int) -> None:
    with contextlib.suppress(OSError):
        os.sched_setaffinity(pid, {cpu})


def uvicorn_command(app_dir: Path, key: str, port: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"app_{key}:app",
        "--app-dir",
        str(app_dir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if has_module("uvloop"):
        command += ["--loop", "uvloop"]
    if has_module("httptools"):
        command += ["--http", "httptools"]
    return command


def fetch(url: str, timeout: float = 2.0) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - always http://127.0.0.1
        return response.status, response.headers.get("content-type", ""), response.read()


@contextlib.contextmanager
def running_server(app_dir: Path, key: str, *, pinned: bool) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        uvicorn_command(app_dir, key, port), cwd=app_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if pinned:
        pin(process.pid, SERVER_CPU)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"{key}: uvicorn exited with {process.returncode}:\n{stderr}")
            try:
                fetch(base + "/json", timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{key}: server not ready after {STARTUP_TIMEOUT_S:.0f} s") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def check_responses(key: str, base: str, reference_html: bytes | None) -> bytes:
    """Fail loudly unless the app answers both endpoints correctly; returns the HTML body."""
    status, content_type, body = fetch(base + "/json")
    if status != 200 or not content_type.startswith("application/json") or json.loads(body) != EXPECTED_JSON:
        raise RuntimeError(f"{key}: bad /json answer {status} {content_type!r} {body[:200]!r}")
    status, content_type, html = fetch(base + "/html")
    if status != 200 or not content_type.startswith("text/html") or b"<h1>Hello, World!</h1>" not in html:
        raise RuntimeError(f"{key}: bad /html answer {status} {content_type!r} {html[:200]!r}")
    if b"&lt;escaped &amp; safe&gt;" not in html:
        raise RuntimeError(f"{key}: /html is not autoescaped")
    if reference_html is not None and html != reference_html:
        raise RuntimeError(f"{key}: /html differs from the raw ASGI baseline's rendering")
    return html


# --------------------------------------------------------------------------------------------------
# Load generators
# --------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    rps: float
    p99_ms: float
    requests: int
    errors: int
    busy_pct: float | None = None  # share of the run during which some task waited for a CPU (PSI)


def cpu_stall_us() -> int | None:
    """Linux pressure-stall total for CPU ("some"): microseconds during which a runnable task waited."""
    try:
        for line in PSI_CPU.read_text(encoding="ascii").splitlines():
            if line.startswith("some "):
                return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def busy_pct_over(seconds: float) -> float | None:
    before, started = cpu_stall_us(), time.monotonic()
    time.sleep(seconds)
    after = cpu_stall_us()
    if before is None or after is None:
        return None
    return (after - before) / ((time.monotonic() - started) * 1e6) * 100


def wait_until_quiet(max_busy_pct: float, max_wait_s: float) -> None:
    """Wait (bounded) until other processes stop competing for the CPUs; go on regardless after that."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        busy = busy_pct_over(1.0)
        if busy is None or busy <= max_busy_pct:
            return
    log(f"   machine still busy after {max_wait_s:.0f} s of waiting; measuring anyway")


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> RunResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p99 and total):
        raise RuntimeError(f"unparsable wrk output:\n{output}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return RunResult(float(rps.group(1)), _parse_duration_ms(p99.group(1)), int(total.group(1)), errors)


def run_wrk(wrk: str, url: str, connections: int, seconds: float, *, pinned: bool) -> RunResult:
    command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if pinned and shutil.which("taskset"):
        command = ["taskset", "-c", str(CLIENT_CPU), *command]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(completed.stdout)


async def _httpx_load(url: str, connections: int, seconds: float) -> RunResult:
    import httpx  # noqa: PLC0415 - only needed for the fallback

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    per_worker_cap = HTTPX_MAX_REQUESTS_PER_RUN // connections
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            for _ in range(per_worker_cap):
                if time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    await response.aread()
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started_all = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started_all
    if not latencies:
        return RunResult(0.0, float("nan"), 0, errors)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return RunResult(len(latencies) / elapsed, p99 * 1000.0, len(latencies), errors)


def run_httpx(url: str, connections: int, seconds: float, *, pinned: bool) -> RunResult:
    if pinned:
        pin(0, CLIENT_CPU)
    try:
        return asyncio.run(_httpx_load(url, connections, seconds))
    finally:
        if pinned:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


# --------------------------------------------------------------------------------------------------
# Driver and report
# --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    subject: Subject
    endpoint: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def busy_pct(self) -> float | None:
        known = [r.busy_pct for r in self.runs if r.busy_pct is not None]
        return max(known) if known else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def benchmark(args: argparse.Namespace, tool: str, wrk: str | None, pinned: bool) -> list[Row]:
    """Start every app at once (idle ones cost nothing), then interleave the measured runs.

    Round r measures every (app, endpoint) pair once, in an order rotated by r, so a slow spell of a
    shared or virtual machine is spread over all frameworks instead of landing on one of them.
    """

    def load(url: str, seconds: float) -> RunResult:
        if tool == "wrk" and wrk:
            return run_wrk(wrk, url, args.connections, seconds, pinned=pinned)
        return run_httpx(url, args.connections, seconds, pinned=pinned)

    def measured(url: str) -> RunResult:
        """One run; repeated (bounded) while other processes competed for the CPUs during it."""
        for attempt in range(args.retries + 1):
            wait_until_quiet(args.max_busy, args.quiet_wait)
            before, started = cpu_stall_us(), time.monotonic()
            result = load(url, args.duration)
            after = cpu_stall_us()
            if before is not None and after is not None:
                result.busy_pct = (after - before) / ((time.monotonic() - started) * 1e6) * 100
            if result.busy_pct is None or result.busy_pct <= args.max_busy or attempt == args.retries:
                return result
            log(f"   CPU contention {result.busy_pct:.0f} % during the run: repeating it")
        raise AssertionError("unreachable")

    keys = ["raw", *args.frameworks]
    rows = {(key, endpoint): Row(SUBJECTS[key], endpoint) for key in keys for endpoint in ENDPOINTS}
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp, contextlib.ExitStack() as stack:
        app_dir = Path(tmp)
        write_apps(app_dir)
        bases: dict[str, str] = {}
        reference_html: bytes | None = None
        for key in keys:
            subject = SUBJECTS[key]
            log(f"starting {subject.label} {version_of(subject.distribution)}")
            bases[key] = stack.enter_context(running_server(app_dir, key, pinned=pinned))
            html = check_responses(key, bases[key], reference_html)
            reference_html = reference_html or html
        pairs = list(rows)
        if args.warmup > 0:
            log(f"warm-up: {args.warmup:g} s per endpoint")
            for key, endpoint in pairs:
                load(bases[key] + endpoint, args.warmup)
        for round_no in range(args.runs):
            shift = round_no % len(pairs)
            for key, endpoint in pairs[shift:] + pairs[:shift]:
                result = measured(bases[key] + endpoint)
                rows[key, endpoint].runs.append(result)
                log(
                    f"round {round_no + 1}: {SUBJECTS[key].label:<20} {endpoint:<6}"
                    f" {result.rps:>9,.0f} req/s  p99 {result.p99_ms:6.2f} ms"
                    + (f"  CPU contention {result.busy_pct:.1f} %" if result.busy_pct is not None else "")
                    + (f"  {result.errors} errors" if result.errors else "")
                )
    return list(rows.values())


def table_rows(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    baseline = {r.endpoint: r.rps for r in rows if r.subject.key == "raw"}
    header = [
        "Framework",
        "Version",
        "Endpoint",
        "Median req/s",
        "Median p99 (ms)",
        "% of raw ASGI",
        "Runs (req/s)",
        "Errors",
        "Max contention",
    ]
    body = []
    for row in rows:
        share = row.rps / baseline[row.endpoint] * 100 if baseline.get(row.endpoint) else float("nan")
        body.append(
            [
                row.subject.label,
                version_of(row.subject.distribution),
                f"GET {row.endpoint}",
                f"{row.rps:,.0f}",
                f"{row.p99_ms:.2f}",
                f"{share:.0f} %",
                " / ".join(f"{r.rps:,.0f}" for r in row.runs),
                str(row.errors),
                "n/a" if row.busy_pct is None else f"{row.busy_pct:.1f} %",
            ]
        )
    return header, body


def environment_lines(args: argparse.Namespace, tool: str, pinned: bool) -> list[str]:
    load_tool = (
        f"wrk (1 thread, {args.connections} connections, keep-alive)"
        if tool == "wrk"
        else f"asyncio + httpx closed loop ({args.connections} workers)"
    )
    loop = "uvloop" if has_module("uvloop") else "asyncio"
    http = "httptools" if has_module("httptools") else "h11"
    return [
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"Machine: {os.cpu_count()} vCPU, {platform.machine()}, {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, uvicorn {version_of('uvicorn')} (1 worker, {loop}, {http}), "
        f"pydantic {version_of('pydantic')}, msgspec {version_of('msgspec')}, jinja2 {version_of('jinja2')}",
        f"Load: {load_tool}; {args.warmup:g} s warm-up, then {args.runs} x {args.duration:g} s per endpoint; "
        f"median of runs",
        "CPU pinning: servers on CPU 0, load generator on CPU 1" if pinned else "CPU pinning: none",
        "Max contention: share of a run's wall time during which some task waited for a CPU (Linux PSI), "
        f"i.e. other processes competing; a run above {args.max_busy:g} % is repeated (at most "
        f"{args.retries} times)",
    ]


def render_plain(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in body)) for i in range(len(header))]
    numeric = {3, 4, 5, 7, 8}

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in body)])


def render_markdown(header: list[str], body: list[list[str]]) -> str:
    align = ["---" if i in (0, 1, 2, 6) else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the result as a Markdown table")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run (default 5)")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint (default 2)"
    )
    parser.add_argument("--runs", type=int, default=3, help="measured runs per endpoint (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument(
        "--frameworks",
        nargs="+",
        choices=["fastapi", "litestar", "starlette"],
        default=["fastapi", "litestar", "starlette"],
        help="frameworks to measure",
    )
    parser.add_argument(
        "--tool",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="load generator: wrk when found (auto), or the httpx fallback",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and client to separate CPUs")
    parser.add_argument(
        "--max-busy",
        type=float,
        default=5.0,
        help="repeat a run during which other processes made tasks wait for a CPU more than this %% of the time",
    )
    parser.add_argument("--retries", type=int, default=3, help="repeats allowed per run for --max-busy")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait at most, before each run, for the CPUs to be quiet (default 120)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 20 or not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 60:
        parser.error("keep --runs in 1..20, --duration in 1..120 and --warmup in 0..60")
    if not 0 <= args.retries <= 10 or not 0 <= args.quiet_wait <= 3600:
        parser.error("keep --retries in 0..10 and --quiet-wait in 0..3600")
    if not 1 <= args.connections <= 256:
        parser.error("keep --connections in 1..256")
    return args


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers, so the servers are stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    wrk = shutil.which("wrk")
    if args.tool == "wrk" and not wrk:
        log("wrk not found (Debian: apt-get install -y wrk)")
        return 2
    tool = "wrk" if (args.tool in ("auto", "wrk") and wrk) else "httpx"
    if tool == "httpx":
        log("wrk not found: using the asyncio + httpx fallback client (figures not comparable with wrk's)")
    missing = [d for d in ("uvicorn", "jinja2", "httpx", *args.frameworks) if not has_module(d)]
    if missing:
        log(
            f"missing modules: {', '.join(missing)} (pip install fastapi litestar starlette "
            "'uvicorn[standard]' jinja2 httpx)"
        )
        return 2
    pinned = can_pin() and not args.no_pin
    rows = benchmark(args, tool, wrk, pinned)
    header, body = table_rows(rows)
    lines = environment_lines(args, tool, pinned)
    command = "python bench/frameworks.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.markdown:
        print("\n".join(f"- {line}" for line in [*lines, f"Command: `{command.strip()}`"]))
        print()
        print(render_markdown(header, body))
    else:
        print("\n".join([*lines, f"Command: {command.strip()}"]))
        print()
        print(render_plain(header, body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
