"""Helpers of the federation tests: a data dir with agencies, residents and copies, and the hub (`tsunagu serve`)
and agency nodes (`tsunagu node`) as real processes on loopback."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

CITY, TAX, PENSION = "LG-142051", "LG-142051-TAX", "JPS"
NUMBERS = [my_number_from_serial(n) for n in (320_001, 320_002, 320_003)]  # synthetic
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tsunagu_command() -> list[str]:
    beside = Path(sys.executable).parent / "tsunagu"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("tsunagu")
    return [found] if found else [sys.executable, "-c", "from tsunagu.cli import main; main()"]


@dataclass
class Seeded:
    people: list[int]
    city_codes: list[str]


def seed(settings: Settings, clock: Clock) -> Seeded:
    """Residents, every agency provisioned (keys and certificates), copies at the tax office and the pension
    service, as the in-process exchange tests have them."""
    sessions = make_session_factory(make_engine(settings))
    keys = linkage.linkage_keys(settings)
    trust = pki.trust_services(settings, clock)
    ctx = registry.registry_context(settings, clock)
    people: list[int] = []
    with unit_of_work(sessions) as db:
        for n, number in enumerate(NUMBERS):
            who = registry.NewPerson(
                "鈴木", f"一郎{n}", "スズキ", "イチロウ", dt.date(1980, 1, 2), registry.Sex.MALE, number
            )
            people.append(
                move_in(
                    db,
                    ctx,
                    who,
                    on=dt.date(2021, 4, 1),
                    address=registry.NewAddress("本町", f"{n + 1}番4号", ""),
                )
            )
        linkage.provision_all(db, trust, keys, clock)
        city_codes = [linkage.code_for(db, keys, CITY, p) for p in people]
        for n, person in enumerate(people):
            tax = linkage.code_for(db, keys, TAX, person)
            linkage.put_copy(db, TAX, tax, {"local_tax.income": 4_100_000 + n}, clock=clock)
            pension = linkage.code_for(db, keys, PENSION, person)
            linkage.put_copy(db, PENSION, pension, {"pension.insured_status": "1"}, clock=clock)
    return Seeded(people, city_codes)


def requester_side(settings: Settings, clock: Clock) -> tuple[sessionmaker[Session], linkage.KeyRing]:
    """The test process acting as the requesting agency: its own sessions and key ring."""
    trust = pki.trust_services(settings, clock)
    return make_session_factory(make_engine(settings)), linkage.KeyRing(trust, linkage.linkage_keys(settings))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no withdrawal, as a crashed machine."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Federation:
    """A hub and its nodes, all started from one data dir (or one PostgreSQL database)."""

    data_dir: Path
    env: dict[str, str]
    hub: Process | None = None
    nodes: dict[str, Process] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str], url: str) -> Process:
        log = self.data_dir / f"{name}-{time.monotonic_ns()}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(  # noqa: S603 - our own CLI
                [*tsunagu_command(), *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return Process(name, popen, log, url)

    def start_hub(self) -> Process:
        port = free_port()
        hub = self._spawn(
            "hub",
            ["serve", "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "--port", str(port)],
            f"http://127.0.0.1:{port}",
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if hub.popen.poll() is not None:
                raise RuntimeError(f"the hub exited with {hub.popen.returncode}:\n{hub.output()}")
            try:
                if httpx.get(hub.url + "/healthz", timeout=1).status_code == 200:
                    self.hub = hub
                    return hub
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        hub.kill()
        raise RuntimeError(f"the hub did not start in {START_SECONDS:g} s:\n{hub.output()}")

    def spawn_node(self, agency: str, delay: float = 0.0) -> Process:
        assert self.hub is not None
        port = free_port()
        args = ["node", "--agency", agency, "--hub", self.hub.url, "--data-dir", str(self.data_dir)]
        args += ["--host", "127.0.0.1", "--port", str(port), "--delay", str(delay)]
        return self._spawn(f"node-{agency}", args, f"http://127.0.0.1:{port}")

    def wait_ready(self, node: Process) -> Process:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if "ready at" in node.output():
                self.nodes[node.name.removeprefix("node-")] = node
                return node
            if node.popen.poll() is not None:
                raise RuntimeError(f"{node.name} exited with {node.popen.returncode}:\n{node.output()}")
            time.sleep(0.05)
        node.kill()
        raise RuntimeError(f"{node.name} was not ready in {START_SECONDS:g} s:\n{node.output()}")

    def start_node(self, agency: str, delay: float = 0.0) -> Process:
        old = self.nodes.pop(agency, None)
        if old is not None:
            old.stop()
        return self.wait_ready(self.spawn_node(agency, delay))

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        if self.hub is not None:
            self.hub.stop()
