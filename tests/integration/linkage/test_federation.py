"""The exchange between processes: `tsunagu serve` as the hub, `tsunagu node` for the tax office and the pension
service, the test as the requesting city, all over loopback HTTP. Permitted, refused, repeated and badly signed
requests; a node that is down, slow, or killed while the hub waits; the logs stay consistent throughout.

One hub and its nodes per backend (module scope); the tests that disturb a node restore it before they end."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import TEST_SECRET, make_settings
from tests.integration.linkage.nodes import (
    CITY,
    PENSION,
    TAX,
    Federation,
    requester_side,
    seed,
    tsunagu_command,
)
from tests.rfc9162_verifier import verify_tree_head_signature

from tsunagu.db.engine import unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.linkage.core import jws
from tsunagu.linkage.exchange.models import AgencyLogEntry, Endpoint, Exchange, Refusal
from tsunagu.linkage.log import services as log
from tsunagu.linkage.node import registration
from tsunagu.settings import Settings

ALLOWANCE = "CHILD-ALLOWANCE-01"
HUB_TIMEOUT = 1.5  # seconds (TSUNAGU_LINKAGE_TIMEOUT of the hub process)
JOSE = "application/jose"


@dataclass
class World:
    fed: Federation
    settings: Settings
    sessions: sessionmaker[Session]
    ring: linkage.KeyRing
    city_codes: list[str]
    clock: Clock

    @property
    def hub_url(self) -> str:
        assert self.fed.hub is not None
        return self.fed.hub.url

    def uow(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    def request(self, person: int = 0, **changes: object) -> linkage.Request:
        req = linkage.new_request(
            CITY, TAX, ALLOWANCE, ("local_tax.income",), self.city_codes[person], clock=self.clock
        )
        return dataclasses.replace(req, **changes)  # type: ignore[arg-type]

    def sign(self, req: linkage.Request, signer: str | None = None) -> str:
        with self.uow() as db:
            key = self.ring.signing_key(db, signer or req.requester)
        return jws.sign(req.claims(), key, req.requester, "tsunagu-linkage-request+jwt")

    def post(self, token: str | bytes) -> httpx.Response:
        return httpx.post(
            self.hub_url + "/linkage/v1/exchange", content=token, headers={"content-type": JOSE}, timeout=15
        )

    def counts(self, exchange_id: str | None = None) -> dict[str, int]:
        def n(model: type, *where: object) -> int:
            with self.uow() as db:
                return db.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]

        by_id = [] if exchange_id is None else [Exchange.exchange_id == exchange_id]
        log_id = [] if exchange_id is None else [AgencyLogEntry.exchange_id == exchange_id]
        return {
            "exchanges": n(Exchange, *by_id),
            "provider_log": n(AgencyLogEntry, AgencyLogEntry.role == "provider", *log_id),
            "requester_log": n(AgencyLogEntry, AgencyLogEntry.role == "requester", *log_id),
            "refusals": n(Refusal),
        }


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("federation")
    url = None
    if db_backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), data_dir / "tsunagu.db")
    else:
        url = request.getfixturevalue("_postgres_server").clean("federation")
    settings = make_settings(data_dir, url)
    clock = Clock()
    seeded = seed(settings, clock)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNAGU_")}
    env |= {
        "TSUNAGU_DATA_DIR": str(data_dir),
        "TSUNAGU_SECRET_KEY": TEST_SECRET,
        "TSUNAGU_ENVIRONMENT": "test",
        "TSUNAGU_COOKIE_SECURE": "false",
        "TSUNAGU_LINKAGE_TIMEOUT": str(HUB_TIMEOUT),
        **({"TSUNAGU_DATABASE_URL": url} if url else {}),
    }
    fed = Federation(Path(data_dir), env)
    try:
        fed.start_hub()
        starting = [fed.spawn_node(TAX), fed.spawn_node(PENSION)]
        for node in starting:
            fed.wait_ready(node)
        sessions, ring = requester_side(settings, clock)
        yield World(fed, settings, sessions, ring, seeded.city_codes, clock)
    finally:
        fed.stop()


# --- (a) the exchange over HTTP ----------------------------------------------------------------------------------


def test_the_nodes_registered_their_endpoints(world: World) -> None:
    with world.uow() as db:
        rows = {e.agency: e.url for e in db.scalars(select(Endpoint))}
    assert rows == {TAX: world.fed.nodes[TAX].url, PENSION: world.fed.nodes[PENSION].url}


def test_a_permitted_exchange_over_http_lands_in_the_three_logs(world: World) -> None:
    remote = linkage.RemoteHub(world.hub_url)
    result = linkage.ask(world.uow, world.ring, remote, world.request(1))
    assert result.items["local_tax.income"].value == 4_100_001
    assert world.counts(result.exchange_id) == {
        "exchanges": 1,
        "provider_log": 1,  # written by the tax office's node process
        "requester_log": 1,
        "refusals": world.counts()["refusals"],
    }
    with world.uow() as db:
        provided = db.scalar(
            select(AgencyLogEntry).where(
                AgencyLogEntry.exchange_id == result.exchange_id, AgencyLogEntry.role == "provider"
            )
        )
        assert provided is not None
        assert (provided.agency, provided.counterpart) == (TAX, CITY)
        assert provided.subject_code != world.city_codes[1]  # the node knows the person by its own code only


def test_a_persons_first_exchange_with_a_node_issues_its_code_before_forwarding(world: World) -> None:
    """The provider's code for this person does not exist yet: the hub issues and commits it on its own before
    forwarding, so it holds no write (on SQLite: the one writer lock) while the node writes its own log."""
    with world.uow() as db:
        city = linkage.code_for(db, linkage.linkage_keys(world.settings), CITY, 9_990_001)
    remote = linkage.RemoteHub(world.hub_url)
    result = linkage.ask(world.uow, world.ring, remote, dataclasses.replace(world.request(0), subject=city))
    assert result.not_held == ("local_tax.income",)  # the tax office holds nothing for a person it never saw
    assert world.counts(result.exchange_id)["provider_log"] == 1


def test_a_request_outside_the_table_is_refused_over_http_with_403(world: World) -> None:
    before = world.counts()
    req = world.request(provider=PENSION, items=("pension.benefit_amount",))
    response = world.post(world.sign(req))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["reason"] == "not-permitted-by-legal-basis"
    assert "pension.benefit_amount" in body["detail"]
    with pytest.raises(linkage.ExchangeRefused) as caught:
        linkage.RemoteHub(world.hub_url).send(world.sign(req))
    assert caught.value.reason == "not-permitted-by-legal-basis"
    assert world.counts() == {**before, "refusals": before["refusals"] + 2}


def test_a_repeated_request_id_returns_the_same_reply(world: World) -> None:
    token = world.sign(world.request(2))
    first, second = world.post(token), world.post(token)
    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"] == JOSE
    assert first.text == second.text


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda w: w.sign(w.request(), signer=PENSION), 401, "bad-signature"),
        (lambda w: "not a jws", 400, "malformed"),
        (lambda w: "x" * (80 * 1024), 413, "oversized"),
    ],
    ids=["wrongly-signed", "malformed", "oversized"],
)
def test_bad_requests_are_refused_over_http(world: World, make, status: int, reason: str) -> None:  # type: ignore[no-untyped-def]
    before = world.counts()
    response = world.post(make(world))
    assert (response.status_code, response.json()["reason"]) == (status, reason)
    assert world.counts() == {**before, "refusals": before["refusals"] + 1}  # recorded, nothing else written
    with world.uow() as db:
        audited = db.execute(
            text(
                "SELECT detail FROM audit_entries WHERE action = 'linkage:exchange:refuse' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert reason in str(audited)


def test_a_registration_must_be_signed_by_the_agency_and_fresh(world: World) -> None:
    with world.uow() as db:
        wrong = world.ring.signing_key(db, PENSION)
        right = world.ring.signing_key(db, TAX)
    now = int(time.time())
    moved = registration.NodeMessage(registration.NodeTyp.REGISTER, TAX, "http://127.0.0.1:9/", now)
    stale = registration.NodeMessage(registration.NodeTyp.REGISTER, TAX, "http://127.0.0.1:9/", now - 3600)
    as_withdrawal = registration.NodeMessage(registration.NodeTyp.WITHDRAW, TAX, "http://127.0.0.1:9/", now)
    for token, status, reason in [
        (registration.sign(moved, wrong), 401, "bad-signature"),
        (registration.sign(stale, right), 400, "stale"),
        (registration.sign(as_withdrawal, right), 400, "malformed"),  # a withdrawal is no registration
    ]:
        response = httpx.post(world.hub_url + "/linkage/v1/nodes", content=token, timeout=5)
        assert (response.status_code, response.json()["reason"]) == (status, reason)
    with world.uow() as db:
        assert db.scalar(select(Endpoint.url).where(Endpoint.agency == TAX)) == world.fed.nodes[TAX].url


def test_the_log_key_and_signed_head_are_public_and_verify(world: World) -> None:
    linkage.ask(world.uow, world.ring, linkage.RemoteHub(world.hub_url), world.request(0))
    with world.uow() as db:
        log.sign_tree_head(db, world.clock, linkage.LogSigner.from_settings(world.settings))
    key = httpx.get(world.hub_url + "/linkage/v1/log/key", timeout=5).json()
    head = httpx.get(world.hub_url + "/linkage/v1/log/head", timeout=5).json()
    public = base64.b64decode(key["public_key"])
    assert isinstance(serialization.load_der_public_key(public), ec.EllipticCurvePublicKey)
    assert head["key_id"] == key["key_id"]
    assert head["tree_size"] >= 1
    assert verify_tree_head_signature(head, public)


# --- (b)–(d) a node that is down, slow or dies mid-request -------------------------------------------------------


def refused_over_http(world: World, token: str) -> tuple[linkage.ExchangeRefused, float]:
    started = time.monotonic()
    with pytest.raises(linkage.ExchangeRefused) as caught:
        linkage.RemoteHub(world.hub_url).send(token)
    return caught.value, time.monotonic() - started


def retry_succeeds_once(world: World, req: linkage.Request, token: str) -> None:
    reply = linkage.RemoteHub(world.hub_url).send(token)  # the same message id, within the 5-minute window
    with world.uow() as db:
        result = linkage.accept_reply(db, world.ring, req, token, reply)
    assert result.items["local_tax.income"].value == 4_100_000
    assert world.counts(result.exchange_id) | {"refusals": 0} == {
        "exchanges": 1,
        "provider_log": 1,
        "requester_log": 1,
        "refusals": 0,
    }


def test_a_node_that_is_down_gives_provider_unavailable_and_a_retry_succeeds(world: World) -> None:
    req = world.request(0)
    token = world.sign(req)
    world.fed.nodes[TAX].kill()
    before = world.counts()
    problem, took = refused_over_http(world, token)
    assert problem.reason == "provider-unavailable"
    assert problem.status == 503
    assert TAX in problem.detail
    assert took < 1.0  # connection refused: no waiting for the timeout
    assert world.counts() == {**before, "refusals": before["refusals"] + 1}
    with world.uow() as db:
        last = db.scalars(select(Refusal).order_by(Refusal.id.desc())).first()
        assert last is not None
        assert (last.reason, last.request_id) == ("provider-unavailable", req.id)
    world.fed.start_node(TAX)
    retry_succeeds_once(world, req, token)


def test_a_slow_node_times_out_and_the_hub_logs_nothing(world: World) -> None:
    req = world.request(0)
    token = world.sign(req)
    slow = world.fed.start_node(TAX, delay=2 * HUB_TIMEOUT)
    before = world.counts()
    problem, took = refused_over_http(world, token)
    assert problem.reason == "provider-unavailable"
    assert f"no answer within {HUB_TIMEOUT:g} s" in problem.detail
    assert HUB_TIMEOUT <= took < HUB_TIMEOUT + 1.5
    after = world.counts()
    assert (after["exchanges"], after["requester_log"]) == (before["exchanges"], before["requester_log"])
    # The slow node goes on to answer and log, to no one; the hub's retry gets exactly that answer.
    deadline = time.monotonic() + 3 * HUB_TIMEOUT
    while world.counts()["provider_log"] == before["provider_log"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert world.counts()["provider_log"] == before["provider_log"] + 1
    assert slow.popen.poll() is None
    world.fed.start_node(TAX)
    retry_succeeds_once(world, req, token)


def test_a_node_killed_mid_request_leaves_consistent_logs(world: World) -> None:
    req = world.request(0)
    token = world.sign(req)
    slow = world.fed.start_node(TAX, delay=HUB_TIMEOUT / 2 + 0.5)
    before = world.counts()
    with httpx.Client(timeout=15) as client:
        answer: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: answer.append(
                client.post(
                    world.hub_url + "/linkage/v1/exchange", content=token, headers={"content-type": JOSE}
                )
            )
        )
        sender.start()
        time.sleep(0.4)  # the hub is waiting on the node
        slow.kill()
        sender.join(10)
    assert answer, "the hub did not answer"
    assert answer[0].status_code == 503
    assert answer[0].json()["reason"] == "provider-unavailable"
    assert world.counts() == {**before, "refusals": before["refusals"] + 1}  # nothing half-logged anywhere
    world.fed.start_node(TAX)
    retry_succeeds_once(world, req, token)


def test_tsunagu_node_ask_prints_the_verified_reply_and_exit_2_when_refused(world: World) -> None:
    base = ["node", "ask", "--agency", CITY, "--hub", world.hub_url, "--data-dir", str(world.fed.data_dir)]
    base += ["--business", ALLOWANCE, "--code", world.city_codes[2]]
    env = world.fed.env
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*tsunagu_command(), *base, "--provider", PENSION, "--item", "pension.insured_status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] is True
    assert out["items"] == {"pension.insured_status": {"value": "1", "disclose": True}}
    assert world.counts(out["exchange_id"])["requester_log"] == 1
    refused = subprocess.run(  # noqa: S603 - our own CLI
        [*tsunagu_command(), *base, "--provider", PENSION, "--item", "pension.benefit_amount"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["reason"] == "not-permitted-by-legal-basis"


def test_a_node_stopping_cleanly_withdraws_and_the_hub_keeps_its_endpoint(world: World) -> None:
    def withdrawals() -> int:
        query = text(
            "SELECT count(*) FROM audit_entries WHERE action = 'linkage:node:withdraw' AND subject = :agency"
        )
        with world.uow() as db:
            return int(db.execute(query, {"agency": PENSION}).scalar_one())

    before = withdrawals()
    node = world.fed.nodes.pop(PENSION)
    node.stop()  # SIGTERM: uvicorn stops, then the node tells the hub
    assert withdrawals() == before + 1
    with world.uow() as db:
        assert db.scalar(select(Endpoint.url).where(Endpoint.agency == PENSION)) == node.url
    req = world.request(0, provider=PENSION, items=("pension.insured_status",))
    problem, _took = refused_over_http(world, world.sign(req))
    assert problem.reason == "provider-unavailable"  # never answered in-process behind the node's back
    world.fed.start_node(PENSION)
