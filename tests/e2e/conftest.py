"""Browser journeys: a real `tsunagu serve` on 127.0.0.1, Debian's Chromium driven by Playwright, axe-core.

Chromium is found through ``TSUNAGU_CHROMIUM`` or ``/usr/bin/chromium``; axe-core through ``TSUNAGU_AXE_JS`` or
``node_modules/axe-core/axe.min.js`` (``npm ci``). When one is missing the tests skip with the reason, unless
``TSUNAGU_REQUIRE_E2E=1`` (CI), which turns the skip into a failure. ``TSUNAGU_SCREENSHOTS=1`` writes the
PNGs of docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
RESIDENTS = 300
SERVER_START_SECONDS = 60
BLOCKING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the run demands the browser tests (``TSUNAGU_REQUIRE_E2E=1``)."""
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        pytest.fail(f"{reason} (TSUNAGU_REQUIRE_E2E=1 forbids skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    configured = os.environ.get("TSUNAGU_CHROMIUM")
    candidate = Path(configured) if configured else Path("/usr/bin/chromium")
    if not candidate.is_file() or not os.access(candidate, os.X_OK):
        source = "TSUNAGU_CHROMIUM" if configured else "default path"
        unavailable(f"Chromium not found at {candidate} ({source}); install Debian's chromium")
    return str(candidate)


@pytest.fixture(scope="session")
def axe_source() -> str:
    configured = os.environ.get("TSUNAGU_AXE_JS")
    path = Path(configured) if configured else ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        unavailable(f"axe-core not found at {path}; run `npm ci` at the repository root")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed (requirements-dev.lock)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tsunagu_command() -> list[str]:
    beside = Path(sys.executable).parent / "tsunagu"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("tsunagu")
    if found:
        return [found]
    return [sys.executable, "-c", "from tsunagu.cli import main; main()"]


def _clean_env() -> dict[str, str]:
    """The server gets no TSUNAGU_* from the developer's shell: its own SQLite data dir, default settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGU_")}


def _run_tsunagu(args: list[str], env: dict[str, str], timeout: int) -> str:
    """Run our CLI to completion; its standard output, or fail the session with what it printed."""
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*_tsunagu_command(), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"tsunagu {args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False
        )
    return done.stdout


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser, axe_source: str) -> Iterator[Server]:
    # Depends on browser and axe so that a skipped e2e run never spends time seeding a server.
    del browser, axe_source
    base = tmp_path_factory.mktemp("e2e-server")
    data_dir = base / "data"
    log_path = base / "server.log"
    tsunagu, env = _tsunagu_command(), _clean_env()
    demo = ["demo", "--data-dir", str(data_dir), "--residents", str(RESIDENTS), "--no-serve", "--json"]
    _run_tsunagu(demo, env, timeout=300)
    port = _free_port()
    # Reached as http://localhost (a secure context where WebAuthn works; an IP address is no valid RP ID), and
    # told so: the public URL is the WebAuthn origin, the OIDC issuer and the base of QR-login links.
    url = f"http://localhost:{port}"
    env["TSUNAGU_PUBLIC_URL"] = url
    env["TSUNAGU_ENVIRONMENT"] = (
        "demo"  # as `tsunagu demo` serves it: synthetic residents, a demo card reader
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [*tsunagu, "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_healthy(url, proc, log_path)
        yield Server(url, data_dir)
    finally:
        _stop(proc)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = log_path.read_text(errors="replace")
            pytest.fail(f"tsunagu serve exited with {proc.returncode}:\n{log}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:  # noqa: S310 - loopback URL
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    log = log_path.read_text(errors="replace")
    pytest.fail(f"tsunagu serve not healthy after {SERVER_START_SECONDS}s ({last}):\n{log}", pytrace=False)


@dataclass(frozen=True)
class RelyingParty:
    url: str
    client_id: str


@pytest.fixture(scope="session")
def relying_party(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelyingParty]:
    """The example private-sector RP (examples/rp, never imports tsunagu) registered with `tsunagu oidc register`
    and served by uvicorn on its own port of localhost."""
    port = _free_port()
    url = f"http://localhost:{port}"
    env = _clean_env()
    registered = _run_tsunagu(
        [
            "oidc",
            "register",
            "--name",
            "つなぐ銀行 口座開設（e2e）",
            "--name-en",
            "Tsunagu Bank account opening (e2e)",
            "--sector",
            "private",
            "--redirect-uri",
            f"{url}/callback",
            "--scopes",
            "openid profile address birthdate",
            "--sector-identifier",
            "bank.tsunagu.example",
            "--data-dir",
            str(server.data_dir),
            "--json",
        ],
        env,
        timeout=60,
    )
    client = json.loads(registered)
    env |= {
        "RP_ISSUER": server.url,
        "RP_CLIENT_ID": client["client_id"],
        "RP_CLIENT_SECRET": client["client_secret"],
        "RP_REDIRECT_URI": f"{url}/callback",
    }
    log_path = tmp_path_factory.mktemp("e2e-rp") / "rp.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - the example RP of this repository
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT / "examples" / "rp",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the example RP did not start:\n{log_path.read_text(errors='replace')}", pytrace=False
                )
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as resp:  # noqa: S310 - loopback URL
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        yield RelyingParty(url, client["client_id"])
    finally:
        _stop(proc)


@pytest.fixture(params=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def context(browser: Browser, server: Server, viewport: str) -> Iterator[BrowserContext]:
    """A fresh browser profile per test, Japanese first (Accept-Language ja), as a resident's browser would be."""
    del server
    options: dict[str, Any] = {"locale": "ja-JP", "timezone_id": "Asia/Tokyo", "device_scale_factor": 1}
    if viewport == "phone":
        options |= {"viewport": PHONE, "is_mobile": True, "has_touch": True}
    else:
        options |= {"viewport": DESKTOP}
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform passkey authenticator in Chromium (DevTools WebAuthn domain): CTAP2, internal, resident keys,
    user verification that always succeeds."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added: dict[str, Any] = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    return cdp, str(added["authenticatorId"])


AxeCheck = Callable[["Page", str], None]


@pytest.fixture
def axe_check(axe_source: str, viewport: str) -> AxeCheck:
    """Run axe-core on the page as it is now; fail on any serious or critical violation, and check that the
    page does not scroll sideways (nothing may break at 360 px)."""

    def check(page: Page, label: str) -> None:
        # The CSP (script-src 'self') blocks an inline <script> (page.add_script_tag(content=...)), so the
        # source is evaluated through the DevTools protocol, which the page's CSP does not govern.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " targets: v.nodes.map(n => n.target.join(' '))})); }"
        )
        blocking = [v for v in result if v["impact"] in BLOCKING_IMPACTS]
        where = f"{label} [{viewport}] {page.url}"
        assert not blocking, f"axe found serious/critical violations on {where}:\n" + "\n".join(
            f"  {v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['targets'][:10])}" for v in blocking
        )
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{where} scrolls sideways by {overflow}px"

    return check


Shot = Callable[..., None]


@pytest.fixture
def shot(viewport: str) -> Shot:
    """Save docs/screenshots/NAME.png when TSUNAGU_SCREENSHOTS=1 (names ending in -phone-360 are taken on the
    phone only, all others on the desktop only). Whole pages, unless ``full_page=False`` (long result lists)."""

    def take(page: Page, name: str, *, full_page: bool = True) -> None:
        if os.environ.get("TSUNAGU_SCREENSHOTS") != "1":
            return
        phone_shot = name.endswith("-phone-360")
        if phone_shot != (viewport == "phone"):
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page, animations="disabled")

    return take
