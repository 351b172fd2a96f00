"""SMART Health Cards issued by the service from the registry and the health domain's doses, on a real database
(SQLite and PostgreSQL): a card verifies with the core verifier against the served JWKS; overseas details are checked
and the passport number is never stored in clear; a revocation bumps the CRL version, lists the rid and makes the
verifier say revoked, while a card issued afterwards is valid; a corrected dose revokes through the shell's listener;
a record too large for one QR code is refused and writes nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.credentials.conftest import MovingTime, dose

from tsunagu import wiring
from tsunagu.audit.models import AuditEntry
from tsunagu.credentials.context import CredentialsContext, derive_issuer_key, issuer_url
from tsunagu.credentials.core import shc, verify
from tsunagu.credentials.models import IssuedCard
from tsunagu.credentials.services import revocation
from tsunagu.credentials.services import shc_issuance as issuance
from tsunagu.credentials.services import shc_verification as verification
from tsunagu.health import api as health
from tsunagu.kernel.errors import InvalidInput, NotFound

OVERSEAS = issuance.OverseasDetails("tr1234567", "jpn", "yamada", "hanako")


def _verify(db: Session, cctx: CredentialsContext, jws: str) -> verify.Result:
    trust = {cctx.iss: revocation.jwks(db, cctx)}
    at = int(cctx.clock.now().timestamp())
    [result] = verify.verify(jws, trust, at, revocation.own_crls(db, cctx))
    return result


def test_an_issued_card_verifies_with_the_served_keys_and_shows_the_registry_facts(
    session_factory: sessionmaker[Session], cctx: CredentialsContext, vaccinated: Callable[[int], int]
) -> None:
    person = vaccinated(2)
    with session_factory.begin() as db:
        card = issuance.issue_card(db, cctx, person, actor="person:1")
    with session_factory() as db:
        result = _verify(db, cctx, card.jws)
        assert result.valid, result.findings
        assert result.payload is not None
        assert result.payload["iss"] == "https://city.example.jp/credentials/shc"
        assert result.payload["vc"]["rid"] == card.rid
        patient = result.payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]
        assert patient["name"] == [{"family": "山田", "given": ["太郎"]}]
        assert patient["birthDate"] == "1980-04-01"
        assert "identifier" not in patient  # the domestic variant carries no passport
        shown = verification.check(db, cctx, card.jws)
        assert [o.valid for o in shown] == [True]
        assert [(d.date, d.lot, d.place) for d in shown[0].doses] == [
            ("2021-06-01", "FA5829", "神奈川県藤沢市"),
            ("2021-07-01", "FA5829", "神奈川県藤沢市"),
        ]
        assert shown[0].issuer_is_us
        audited = db.scalars(select(AuditEntry).where(AuditEntry.action == "credentials:shc:issue")).all()
        assert [(a.actor, a.subject, a.detail["doses"]) for a in audited] == [
            ("person:1", f"person:{person}", 2)
        ]
        assert [c.public_id for c in issuance.cards_of(db, cctx, person)] == [card.public_id]


def test_the_overseas_variant_checks_the_passport_and_never_stores_it_in_clear(
    session_factory: sessionmaker[Session], cctx: CredentialsContext, vaccinated: Callable[[int], int]
) -> None:
    person = vaccinated(1)
    for bad, field in (
        (issuance.OverseasDetails("T1234567", "JPN", "YAMADA", "HANAKO"), "passport_number"),
        (issuance.OverseasDetails("TR1234567", "JP", "YAMADA", "HANAKO"), "nationality"),
        (issuance.OverseasDetails("TR1234567", "JPN", "山田", "HANAKO"), "family_romaji"),
        (issuance.OverseasDetails("TR1234567", "JPN", "YAMADA", ""), "given_romaji"),
    ):
        with pytest.raises(InvalidInput) as refused, session_factory.begin() as db:
            issuance.issue_card(db, cctx, person, actor="t", overseas=bad)
        assert refused.value.field == field
    with session_factory.begin() as db:
        card = issuance.issue_card(db, cctx, person, actor="t", overseas=OVERSEAS)
    with session_factory() as db:
        result = _verify(db, cctx, card.jws)
        assert result.valid, result.findings
        assert result.payload is not None
        patient = result.payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]
        assert patient["name"] == [{"family": "YAMADA", "given": ["HANAKO"]}]
        assert patient["identifier"][0]["value"] == "TR1234567"
        assert card.passport_hint == "67"
        dumped = " ".join(
            str(v) for row in db.execute(text("SELECT * FROM cred_shc_cards")).all() for v in row
        )
        assert "TR1234567" not in dumped
        assert "YAMADA" not in dumped
        assert db.scalar(select(func.count()).select_from(IssuedCard)) == 1


def test_a_revocation_is_in_the_crl_and_the_jwks_and_a_later_card_is_valid(
    session_factory: sessionmaker[Session],
    cctx: CredentialsContext,
    vaccinated: Callable[[int], int],
    moving: MovingTime,
) -> None:
    person = vaccinated(2)
    with session_factory.begin() as db:
        first = issuance.issue_card(db, cctx, person, actor="t")
        assert "crlVersion" not in revocation.jwks(db, cctx)["keys"][0]
    moving.advance(60)
    with session_factory.begin() as db:
        assert revocation.revoke(db, cctx, first.rid, reason="lost phone", actor="cli:test") == 1
    with session_factory() as db:
        assert revocation.jwks(db, cctx)["keys"][0]["crlVersion"] == 1
        crl = revocation.crl(db, cctx, cctx.kid)
        assert crl["ctr"] == 1
        assert crl["method"] == "rid"
        assert [r.split(".")[0] for r in crl["rids"]] == [first.rid]
        assert _verify(db, cctx, first.jws).reasons == [verify.Reason.REVOKED]
        assert [o.reasons[0][0] for o in verification.check(db, cctx, first.jws)] == ["revoked"]
        assert issuance.cards_of(db, cctx, person)[0].revoked
    moving.advance(60)
    with session_factory.begin() as db:
        second = issuance.issue_card(db, cctx, person, actor="t")
    with session_factory() as db:
        assert second.rid == first.rid  # the same person under the same key
        assert _verify(db, cctx, second.jws).valid
        assert [c.revoked for c in issuance.cards_of(db, cctx, person)] == [False, True]
    moving.advance(60)
    with session_factory.begin() as db:
        assert revocation.revoke(db, cctx, first.rid, reason="again", actor="cli:test") == 2
    with session_factory() as db:
        assert len(revocation.crl(db, cctx, cctx.kid)["rids"]) == 1  # listed once, with the later time
        assert _verify(db, cctx, second.jws).reasons == [verify.Reason.REVOKED]
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.action == "credentials:shc:revoke"))
        assert len(list(actions)) == 2
    with pytest.raises(NotFound), session_factory.begin() as db:
        revocation.revoke(db, cctx, "AAAAAAAAAAA", reason="x", actor="t")
    with pytest.raises(NotFound), session_factory() as db:
        revocation.crl(db, cctx, "not-our-kid")


def test_a_corrected_dose_revokes_the_cards_that_showed_it(
    session_factory: sessionmaker[Session],
    cctx: CredentialsContext,
    vaccinated: Callable[[int], int],
    moving: MovingTime,
) -> None:
    person = vaccinated(1)
    with session_factory.begin() as db:
        card = issuance.issue_card(db, cctx, person, actor="t")
        [old] = health.doses_of(db, person)
    moving.advance(5)
    with session_factory.begin() as db:
        health.correct_dose(
            db,
            old.dose_id,
            dose(person, dt.date(2021, 6, 2)),
            actor="staff:hoken",
            now=NOW,
            reason="wrong day",
            listeners=wiring.dose_listeners(cctx),
        )
    with session_factory() as db:
        assert _verify(db, cctx, card.jws).reasons == [verify.Reason.REVOKED]
    moving.advance(5)
    with session_factory.begin() as db:  # a new dose (not a correction) revokes nothing
        health.record_dose(
            db, dose(person, dt.date(2021, 9, 1)), actor="t", now=NOW, listeners=wiring.dose_listeners(cctx)
        )
        fresh = issuance.issue_card(db, cctx, person, actor="t")
    with session_factory() as db:
        assert revocation.crl_version(db, cctx.kid) == 1
        assert _verify(db, cctx, fresh.jws).valid


def test_a_record_too_large_for_one_qr_code_is_refused_and_writes_nothing(
    session_factory: sessionmaker[Session], cctx: CredentialsContext, vaccinated: Callable[[int], int]
) -> None:
    person = vaccinated(0)
    with session_factory.begin() as db:
        for i in range(40):
            on = dt.date(2021, 3, 1) + dt.timedelta(days=7 * i)
            health.record_dose(
                db, dose(person, on, lot=f"LOT{i:04d}X{i * 7919 % 10000:04d}"), actor="t", now=NOW
            )
    with pytest.raises(issuance.CardTooLarge) as refused, session_factory.begin() as db:
        issuance.issue_card(db, cctx, person, actor="t")
    assert "QR" in refused.value.detail
    assert "QR" in (refused.value.detail_ja or "")
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(IssuedCard)) == 0
        assert db.scalar(select(func.count()).where(AuditEntry.action == "credentials:shc:issue")) == 0


def test_no_doses_no_card(
    session_factory: sessionmaker[Session], cctx: CredentialsContext, vaccinated: Callable[[int], int]
) -> None:
    person = vaccinated(0)
    with pytest.raises(InvalidInput), session_factory.begin() as db:
        issuance.issue_card(db, cctx, person, actor="t")


def test_the_issuer_key_and_url_come_from_the_master_secret_and_the_public_url() -> None:
    a, b = derive_issuer_key(bytes(32)), derive_issuer_key(bytes(32))
    assert a.private_numbers() == b.private_numbers()
    assert derive_issuer_key(bytes(range(32))).private_numbers() != a.private_numbers()
    assert issuer_url("https://city.example.jp/") == "https://city.example.jp/credentials/shc"
    assert issuer_url("http://localhost:8000") == "https://localhost:8000/credentials/shc"
    assert shc.thumbprint(shc.public_jwk(a.public_key()))


def test_two_first_revocations_at_once_both_count(
    session_factory: sessionmaker[Session],
    cctx: CredentialsContext,
    vaccinated: Callable[[int], int],
    db_backend: str,
) -> None:
    """On PostgreSQL the key's CRL counter row is created with ON CONFLICT DO NOTHING and then locked: a second
    first revocation waits for the first and counts too (it used to fail on the primary key)."""
    if db_backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    cards_ = []
    for _ in range(2):
        person = vaccinated(1)
        with session_factory.begin() as db:
            cards_.append(issuance.issue_card(db, cctx, person, actor="t"))
    first = session_factory()
    outcome: dict[str, object] = {}
    try:
        assert revocation.revoke(first, cctx, cards_[0].rid, reason="test", actor="t") == 1

        def second() -> None:
            try:
                with session_factory.begin() as db:
                    outcome["version"] = revocation.revoke(db, cctx, cards_[1].rid, reason="test", actor="t")
            except Exception as exc:  # the test reports whatever the second writer met
                outcome["error"] = exc

        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive()  # blocked on the counter row
        first.commit()
    finally:
        first.close()
    waiter.join(10)
    assert outcome == {"version": 2}
    with session_factory() as db:
        assert revocation.crl_version(db, cctx.kid) == 2
        assert {e.split(".")[0] for e in revocation.crl(db, cctx, cctx.kid)["rids"]} == {
            c.rid for c in cards_
        }
