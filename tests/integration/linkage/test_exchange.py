"""The exchange on a real database, in-process: a permitted request succeeds and lands in all three logs; every
kind of bad message is refused with its own reason and leaves nothing but the refusal."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.integration.linkage.conftest import CITY, EXCHANGE_NUMBERS, PENSION, TAX, World
from tests.integration.linkage.test_codes import _dump
from tests.rfc9162_verifier import verify_inclusion_json, verify_tree_head_signature

from tsunagu.db.models_registry import metadata
from tsunagu.kernel.errors import NotFound
from tsunagu.linkage import api as linkage
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import Forward
from tsunagu.linkage.exchange.models import AgencyLogEntry, Exchange, Refusal
from tsunagu.linkage.log import services as log
from tsunagu.linkage.log import store
from tsunagu.linkage.log.models import LogEntry
from tsunagu.settings import Settings

ALLOWANCE = "CHILD-ALLOWANCE-01"


def counts(world: World) -> dict[str, int]:
    with world.platform.uow() as db:
        return {
            "exchanges": db.scalar(select(func.count()).select_from(Exchange)) or 0,
            "agency_log": db.scalar(select(func.count()).select_from(AgencyLogEntry)) or 0,
            "refusals": db.scalar(select(func.count()).select_from(Refusal)) or 0,
            "hub_log": store.tree_size(db),
        }


def request(world: World, person: int = 0, **changes: object) -> linkage.Request:
    base = linkage.new_request(
        CITY, TAX, ALLOWANCE, ("local_tax.income",), world.city_codes[person], clock=world.platform.clock
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def signed(world: World, req: linkage.Request, signer: str | None = None) -> str:
    with world.platform.uow() as db:
        key = world.platform.ring.signing_key(db, signer or req.requester)
    return jws.sign(req.claims(), key, req.requester, "tsunagu-linkage-request+jwt")


def refused(world: World, token: str) -> linkage.ExchangeRefused:
    with pytest.raises(linkage.ExchangeRefused) as caught:
        world.platform.local_hub().send(token)
    return caught.value


def test_a_permitted_exchange_lands_in_the_three_logs(world: World) -> None:
    result = linkage.ask(world.platform.uow, world.platform.ring, world.platform.local_hub(), request(world))
    assert result.items["local_tax.income"].value == 3_200_000
    assert result.not_held == ()
    with world.platform.uow() as db:
        hub = db.scalar(select(Exchange))
        assert hub is not None
        assert hub.exchange_id == result.exchange_id
        assert (hub.requester, hub.provider, hub.business, hub.items) == (
            CITY,
            TAX,
            ALLOWANCE,
            "local_tax.income",
        )
        logs = db.scalars(select(AgencyLogEntry).order_by(AgencyLogEntry.role)).all()
        assert [(e.agency, e.role) for e in logs] == [(TAX, "provider"), (CITY, "requester")]
        assert {e.exchange_id for e in logs} == {result.exchange_id}
        assert logs[1].subject_code == world.city_codes[0]  # each agency logs its own code only
        assert logs[0].subject_code != world.city_codes[0]
        leaf = db.get(LogEntry, result.log_index)
        assert leaf is not None
        entry = json.loads(leaf.entry)
        assert entry["exchange"] == result.exchange_id
        assert entry["items"] == ["local_tax.income"]
        history = linkage.exchanges_about(db, world.keys, world.people[0])
        assert [h.exchange_id for h in history] == [result.exchange_id]
        assert linkage.exchanges_about(db, world.keys, world.people[1]) == []


def test_an_exchange_outside_the_table_is_refused_with_the_reason(world: World) -> None:
    before = counts(world)
    req = request(world, provider=PENSION, items=("pension.benefit_amount",))
    problem = refused(world, signed(world, req))
    assert problem.reason == "not-permitted-by-legal-basis"
    assert "pension.benefit_amount" in problem.detail
    after = counts(world)
    assert after == {**before, "refusals": before["refusals"] + 1}
    with world.platform.uow() as db:
        row = db.scalar(select(Refusal))
        assert row is not None
        assert row.reason == problem.reason
        assert row.request_id == req.id


def test_a_repeated_request_returns_the_first_reply_and_a_changed_one_is_a_replay(world: World) -> None:
    req = request(world)
    token = signed(world, req)
    first = world.platform.local_hub().send(token)
    assert world.platform.local_hub().send(token) == first
    assert counts(world)["exchanges"] == 1
    changed = signed(world, dataclasses.replace(req, items=("local_tax.deductions",)))
    assert refused(world, changed).reason == "replayed"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda w: "x" * (70 * 1024), "oversized"),
        (lambda w: "not a jws", "malformed"),
        (lambda w: signed(w, request(w)).rsplit(".", 1)[0] + ".", "unsigned"),
        (lambda w: signed(w, request(w), signer=PENSION), "bad-signature"),
        (lambda w: signed(w, request(w, iat=request(w).iat - 3600)), "stale"),
        (lambda w: signed(w, request(w, items=("local_tax.shoe_size",))), "unknown-item"),
        (lambda w: signed(w, request(w, subject="A" * 32)), "unknown-code"),
        (lambda w: signed(w, request(w, provider="NOPE")), "unknown-agency"),
    ],
    ids=[
        "oversized",
        "malformed",
        "unsigned",
        "wrongly-signed",
        "stale",
        "unknown-item",
        "unknown-code",
        "unknown-agency",
    ],
)
def test_bad_messages_are_refused_each_with_its_reason(world: World, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    before = counts(world)
    problem = refused(world, make(world))
    assert problem.reason == reason, problem.detail
    after = counts(world)
    assert after == {**before, "refusals": before["refusals"] + 1}


def test_an_item_marked_not_disclosable_stays_out_of_the_persons_history(world: World) -> None:
    req = linkage.new_request(
        CITY, PENSION, ALLOWANCE, ("pension.insured_status",), world.city_codes[1], clock=world.platform.clock
    )
    linkage.ask(world.platform.uow, world.platform.ring, world.platform.local_hub(), req)
    with world.platform.uow() as db:
        assert len(linkage.exchanges_about(db, world.keys, world.people[1])) == 1
    withheld = linkage.new_request(
        "LG-142051",
        "JPS",
        "CHILD-REARING-01",
        ("pension.status",),
        world.city_codes[1],
        clock=world.platform.clock,
    )
    result = linkage.ask(world.platform.uow, world.platform.ring, world.platform.local_hub(), withheld)
    assert result.items["pension.status"].disclose is False
    with world.platform.uow() as db:
        shown = linkage.exchanges_about(db, world.keys, world.people[1])
        assert len(shown) == 1  # the withheld exchange is logged but not shown to the person
        assert len(linkage.exchanges_about(db, world.keys, world.people[1], include_withheld=True)) == 2
        hub = db.scalar(select(Exchange).where(Exchange.exchange_id == result.exchange_id))
        assert hub is not None
        assert hub.withheld == "pension.status"


def test_a_provider_that_fails_leaves_no_half_logged_exchange_and_a_retry_succeeds(world: World) -> None:
    class Down:
        def ask(self, db: Session, provider: str, forward: Forward, signed: Callable[[], str]) -> str:
            raise linkage.ProviderUnavailable("connection refused")

    working = world.platform.hub.transport
    req = request(world)
    token = signed(world, req)
    before = counts(world)
    world.platform.hub.transport = Down()
    try:
        assert refused(world, token).reason == "provider-unavailable"
    finally:
        world.platform.hub.transport = working
    assert counts(world) == {**before, "refusals": before["refusals"] + 1}
    reply = world.platform.local_hub().send(token)  # the same request again, once the provider is back
    with world.platform.uow() as db:
        result = linkage.accept_reply(db, world.platform.ring, req, token, reply)
    assert result.items["local_tax.income"].value == 3_200_000
    assert counts(world)["exchanges"] == 1


def test_the_persons_proof_verifies_with_the_independent_verifier(world: World, settings: Settings) -> None:
    result = linkage.ask(
        world.platform.uow, world.platform.ring, world.platform.local_hub(), request(world, 2)
    )
    signer = linkage.LogSigner.from_settings(settings)
    with world.platform.uow() as db:
        proof = linkage.inclusion_proof_for(db, world.keys, signer, world.people[2], result.exchange_id)
    assert proof["leaf_index"] == result.log_index
    assert verify_inclusion_json(proof)
    public = base64.b64decode(proof["log_public_key"])
    assert base64.b64decode(proof["tree_head"]["key_id"]) == hashlib.sha256(public).digest()
    assert verify_tree_head_signature(proof["tree_head"], public)
    tampered = dict(proof, entry=base64.b64encode(base64.b64decode(proof["entry"]) + b" ").decode())
    assert not verify_inclusion_json(tampered)
    with world.platform.uow() as db, pytest.raises(NotFound):  # someone else's exchange
        linkage.inclusion_proof_for(db, world.keys, signer, world.people[0], result.exchange_id)


def _jws_payloads(text_dump: str) -> list[str]:
    """Every compact JWS in a dump, its payload decoded (a number inside a signed message is base64url)."""
    found = []
    for header, payload in re.findall(r"(eyJ[\w-]+)\.([\w-]+)\.[\w-]+", text_dump):
        del header
        found.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace"))
    return found


def test_no_agency_table_log_or_message_holds_a_my_number(world: World, engine: Engine) -> None:
    """After exchanges of every kind (permitted, withheld, refused, repeated), no linkage table, no hub-log entry
    and no signed message stored anywhere spells a resident's My Number; a person's codes differ per agency."""
    platform = world.platform
    for person in range(3):
        linkage.ask(platform.uow, platform.ring, platform.local_hub(), request(world, person))
    withheld = linkage.new_request(
        CITY, PENSION, "CHILD-REARING-01", ("pension.status",), world.city_codes[0], clock=platform.clock
    )
    linkage.ask(platform.uow, platform.ring, platform.local_hub(), withheld)
    refused(world, signed(world, request(world, provider=PENSION, items=("pension.benefit_amount",))))
    tables = [t.name for t in metadata.sorted_tables if t.name.startswith("linkage_")]
    assert {"linkage_exchanges", "linkage_agency_log", "linkage_copies", "linkage_log_entries"} <= set(tables)
    scanned = 0
    for table in tables:
        dump = _dump(engine, table)
        for text_ in [dump, *_jws_payloads(dump)]:
            scanned += 1
            for number in EXCHANGE_NUMBERS:
                assert number not in text_, table
                assert number.encode().hex() not in text_, table
    assert scanned > len(tables)  # signed messages were found and decoded
    with platform.uow() as db:  # positive control: the scan would see a number inside a signed message
        control = jws.sign({"n": EXCHANGE_NUMBERS[0]}, platform.ring.signing_key(db, CITY), CITY, "x")
    assert EXCHANGE_NUMBERS[0] in _jws_payloads(f"row {control} row")[0]
    codes = {world.code(agency, 0) for agency in (CITY, TAX, PENSION, "MYNAPORTAL", "VRS")}
    assert len(codes) == 5


def test_concurrent_exchanges_are_written_together_and_each_once(world: World) -> None:
    """Group commit: threads whose providers have answered are written in shared transactions; every exchange is
    recorded once, the hub log verifies, and the same request sent twice at once gets one reply."""
    platform = world.platform
    tokens = [signed(world, request(world, n % 3)) for n in range(24)]
    twice = signed(world, request(world, 1))
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    batches: list[int] = []
    commit = platform.hub.commit_prepared

    def counted(db: Session, prepared: list[Any]) -> list[str]:
        batches.append(len(prepared))
        return commit(db, prepared)

    platform.hub.commit_prepared = counted  # type: ignore[method-assign]

    def send(token: str) -> None:
        try:
            reply = linkage.run_exchange(platform.uow, platform.hub, token, platform.group)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(reply)

    threads = [threading.Thread(target=send, args=(t,)) for t in [*tokens, twice, twice]]
    with platform.group._writer:  # hold the writer's turn until several answered exchanges have queued
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(platform.group._queue) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join()
    platform.hub.commit_prepared = commit  # type: ignore[method-assign]
    assert errors == []
    assert len(results) == 26
    assert sum(batches) >= 25
    assert max(batches) > 1  # some exchanges shared a transaction
    assert results.count(next(r for r in results if results.count(r) == 2)) == 2  # the twice-sent request
    with platform.uow() as db:
        assert db.scalar(select(func.count()).select_from(Exchange)) == 25
        leaves = db.scalars(select(Exchange.leaf_index).order_by(Exchange.leaf_index)).all()
        assert leaves == list(range(25))
        assert store.tree_size(db) == 25
        assert log.verify_log(db).ok
        assert (
            db.scalar(
                select(func.count()).select_from(AgencyLogEntry).where(AgencyLogEntry.role == "provider")
            )
            == 25
        )
