"""The trust services on a real database: hierarchy, issue, verify and each refusal, revoke, status, CRLs,
signature verdicts, and CA keys at rest."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.pki.api import (
    CertificateExpired,
    CertificateKind,
    CertificateNotYetValid,
    CertificateRevoked,
    MalformedCertificate,
    RevocationReason,
    SubjectFacts,
    TrustServices,
    UnknownIssuer,
    WrongCertificateKind,
    trust_services,
)
from tsunagu.pki.core import profiles
from tsunagu.pki.models import Certificate, CertificateAuthority
from tsunagu.settings import Settings

from .conftest import FACTS, START, UNTIL, Issued, MovingClock

Uow = Callable[[], AbstractContextManager[Session]]
IssueFn = Callable[..., Issued]
SIG, AUTH = CertificateKind.SIGNATURE, CertificateKind.AUTHENTICATION
AUDITOR = Principal(0, "auditor", "Auditor", frozenset({Permission.AUDIT_LOG_READ}))


def actions(db: Session, subject: str = "") -> list[str]:
    return [e.action for e in audit.entries(db, AUDITOR, subject=subject, limit=200)]


def test_the_hierarchy_is_created_once_and_audited(
    trust: TrustServices, uow: Uow, settings: Settings, moving: MovingClock
) -> None:
    with uow() as db:
        trust.ensure_hierarchy(db, actor="cli:ops")
    with uow() as db:
        trust.ensure_hierarchy(db)
        fresh = trust_services(settings, moving.clock())  # loads the CAs, creates nothing
        fresh.ensure_hierarchy(db)
        assert db.scalar(select(func.count()).select_from(CertificateAuthority)) == 4
        assert actions(db).count("pki:ca:create") == 4
        summaries = trust.authorities(db)
    assert [a.name for a in summaries] == ["root", "signature", "authentication", "agency"]
    assert summaries[0].subject == summaries[0].issuer
    assert all(a.issuer == summaries[0].subject for a in summaries[1:])


def test_ca_certificates_are_served_and_unknown_names_refused(trust: TrustServices, uow: Uow) -> None:
    with uow() as db:
        root = x509.load_der_x509_certificate(trust.ca_certificate(db, "root"))
        for kind in CertificateKind:
            x509.load_der_x509_certificate(trust.ca_certificate(db, kind.value)).verify_directly_issued_by(
                root
            )
        with pytest.raises(NotFound):
            trust.ca_certificate(db, "intermediate")


def test_a_signature_certificate_verifies_with_its_facts_and_holder(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    issued = issue(SIG, holder="card:41")
    with uow() as db:
        verified = trust.verify(db, issued.certificate.der, SIG)
        assert actions(db, f"certificate:{issued.certificate.serial:x}") == ["pki:certificate:issue"]
    assert verified.serial == issued.certificate.serial
    assert verified.holder == "card:41"
    assert verified.kind is SIG
    assert verified.facts == SubjectFacts(FACTS.name, "", FACTS.address, FACTS.birth_date, FACTS.sex)
    assert verified.not_before == START.replace(microsecond=0)
    assert verified.not_after == UNTIL
    assert verified.public_key.public_numbers() == issued.key.public_key().public_numbers()


def test_an_authentication_certificate_verifies_without_facts(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    issued = issue(AUTH)
    with uow() as db:
        verified = trust.verify(db, issued.certificate.der, AUTH)
    assert verified.facts is None
    assert verified.holder == "card:1"
    cert = x509.load_der_x509_certificate(issued.certificate.der)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


@pytest.mark.parametrize(
    ("kind", "facts", "key_curve", "not_after", "match"),
    [
        (AUTH, FACTS, ec.SECP256R1(), UNTIL, "no personal attributes"),
        (SIG, None, ec.SECP256R1(), UNTIL, "basic 4 facts"),
        (AUTH, None, ec.SECP384R1(), UNTIL, "P-256"),
        (AUTH, None, ec.SECP256R1(), START - dt.timedelta(seconds=1), "future"),
        (AUTH, None, ec.SECP256R1(), START + dt.timedelta(days=365 * 40), "beyond the issuing CA"),
        (SIG, SubjectFacts("名", "", "住所", dt.date(1980, 1, 1), "x"), ec.SECP256R1(), UNTIL, "sex"),
    ],
)
def test_issue_refusals_write_nothing(
    trust: TrustServices,
    uow: Uow,
    kind: CertificateKind,
    facts: SubjectFacts | None,
    key_curve: ec.EllipticCurve,
    not_after: dt.datetime,
    match: str,
) -> None:
    with uow() as db:
        trust.ensure_hierarchy(db)
    key = ec.generate_private_key(key_curve)
    with uow() as db, pytest.raises(InvalidInput, match=match) as info:
        trust.issue(db, kind, key.public_key(), not_after, "card:1", facts)
    assert info.value.detail_ja
    with uow() as db:
        assert db.scalar(select(func.count()).select_from(Certificate)) == 0


def test_a_foreign_certificate_is_refused_even_with_the_same_issuer_name(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    issue(AUTH)  # our hierarchy exists
    forger_root_key = ec.generate_private_key(ec.SECP256R1())
    forger_root = profiles.build_root(forger_root_key, 1, START)
    forger_ca_key = ec.generate_private_key(ec.SECP256R1())
    forger_ca = profiles.build_issuing_ca(
        AUTH, forger_ca_key.public_key(), 2, forger_root, forger_root_key, START
    )
    request = profiles.EndEntityRequest(
        AUTH, ec.generate_private_key(ec.SECP256R1()).public_key(), 3, START, UNTIL, "http://x/", None
    )
    forged = profiles.build_end_entity(request, forger_ca, forger_ca_key).public_bytes(
        serialization.Encoding.DER
    )
    other_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Some other CA")])
    foreign = (
        x509.CertificateBuilder()
        .subject_name(other_name)
        .issuer_name(other_name)
        .public_key(forger_ca_key.public_key())
        .serial_number(4)
        .not_valid_before(START)
        .not_valid_after(UNTIL)
        .sign(forger_ca_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    with uow() as db:
        for der in (forged, foreign):
            with pytest.raises(UnknownIssuer) as info:
                trust.verify(db, der, AUTH)
            assert info.value.code == "certificate-unknown-issuer"
            assert info.value.detail_ja


def test_a_certificate_of_the_other_kind_is_refused(issue: IssueFn, trust: TrustServices, uow: Uow) -> None:
    sig, auth = issue(SIG), issue(AUTH)
    with uow() as db:
        trust.verify(db, sig.certificate.der, SIG)  # remembered as checked: the kind is still compared
        with pytest.raises(WrongCertificateKind):
            trust.verify(db, sig.certificate.der, AUTH)
        with pytest.raises(WrongCertificateKind):
            trust.verify(db, auth.certificate.der, SIG)


@pytest.mark.parametrize("der", [b"", b"not a certificate", b"\x30\x03\x02\x01\x01"])
def test_malformed_bytes_are_refused(trust: TrustServices, uow: Uow, der: bytes) -> None:
    with uow() as db, pytest.raises(MalformedCertificate) as info:
        trust.verify(db, der, AUTH)
    assert info.value.status == 400


def test_validity_is_checked_at_the_time_asked(issue: IssueFn, trust: TrustServices, uow: Uow) -> None:
    issued = issue(AUTH)
    der = issued.certificate.der
    with uow() as db:
        with pytest.raises(CertificateNotYetValid):
            trust.verify(db, der, AUTH, at=START - dt.timedelta(minutes=1))
        with pytest.raises(CertificateExpired):
            trust.verify(db, der, AUTH, at=UNTIL + dt.timedelta(seconds=1))
        assert trust.verify(db, der, AUTH, at=UNTIL).serial == issued.certificate.serial
        with pytest.raises(InvalidInput, match="aware"):
            trust.verify(db, der, AUTH, at=dt.datetime(2027, 1, 1))  # noqa: DTZ001 - the point of the test


def test_an_expired_certificate_is_refused_now(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    issued = issue(AUTH, not_after=START + dt.timedelta(hours=1))
    moving.advance(hours=2)
    with uow() as db, pytest.raises(CertificateExpired):
        trust.verify(db, issued.certificate.der, AUTH)


def test_revocation_is_idempotent_and_keeps_the_first_time(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    issued = issue(AUTH)
    serial = issued.certificate.serial
    revoked_at = moving.advance(hours=1).replace(microsecond=0)
    with uow() as db:
        assert trust.revoke(db, serial, RevocationReason.KEY_COMPROMISE, actor="counter")
    moving.advance(days=3)
    with uow() as db:
        assert not trust.revoke(db, serial, RevocationReason.KEY_COMPROMISE)
        assert not trust.revoke(db, serial, RevocationReason.SUPERSEDED)
    with uow() as db:
        status = trust.status(db, serial)
        with pytest.raises(CertificateRevoked) as info:
            trust.verify(db, issued.certificate.der, AUTH)
        assert trust.verify(db, issued.certificate.der, AUTH, at=revoked_at - dt.timedelta(seconds=1))
        assert actions(db, f"certificate:{serial:x}").count("pki:certificate:revoke") == 1
        with pytest.raises(NotFound):
            trust.revoke(db, 12345, RevocationReason.KEY_COMPROMISE)
    assert (status.state, status.revoked_at, status.reason) == ("revoked", revoked_at, "key_compromise")
    assert info.value.revoked_at == revoked_at
    assert info.value.extra["revoked_at"] == revoked_at.astimezone(dt.UTC).isoformat()


def test_a_hold_can_be_released_or_made_permanent(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    first, second = issue(AUTH), issue(AUTH)
    held_at = moving.advance(minutes=5).replace(microsecond=0)
    with uow() as db:
        for issued in (first, second):
            assert trust.revoke(db, issued.certificate.serial, RevocationReason.CERTIFICATE_HOLD)
    moving.advance(days=1)
    with uow() as db:
        assert trust.release_hold(db, first.certificate.serial)
        assert not trust.release_hold(db, first.certificate.serial)
        assert trust.revoke(db, second.certificate.serial, RevocationReason.KEY_COMPROMISE)
        assert not trust.release_hold(db, second.certificate.serial)
    with uow() as db:
        assert trust.verify(db, first.certificate.der, AUTH).serial == first.certificate.serial
        status = trust.status(db, second.certificate.serial)
    assert (status.state, status.revoked_at, status.reason) == ("revoked", held_at, "key_compromise")


def test_revoke_holder_revokes_only_that_holders_live_certificates(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    mine_sig, mine_auth, other = (
        issue(SIG, holder="card:7"),
        issue(AUTH, holder="card:7"),
        issue(AUTH, holder="card:8"),
    )
    with uow() as db:
        changed = trust.revoke_holder(db, "card:7", RevocationReason.AFFILIATION_CHANGED, SIG)
        assert changed == [mine_sig.certificate.serial]
        assert trust.revoke_holder(db, "card:7", RevocationReason.CESSATION_OF_OPERATION) == [
            mine_auth.certificate.serial
        ]
        assert trust.revoke_holder(db, "card:7", RevocationReason.CESSATION_OF_OPERATION) == []
        assert trust.status(db, other.certificate.serial).state == "good"
        assert trust.status(db, mine_sig.certificate.serial).reason == "affiliation_changed"


def test_status_good_revoked_unknown_and_audited_when_asked_by_someone(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    good, bad = issue(SIG), issue(AUTH)
    with uow() as db:
        trust.revoke(db, bad.certificate.serial, RevocationReason.CESSATION_OF_OPERATION)
    with uow() as db:
        assert trust.status(db, good.certificate.serial, actor="verifier-1").state == "good"
        revoked = trust.status(db, bad.certificate.serial)
        unknown = trust.status(db, 2**150 + 1, actor="verifier-1")
        queried = actions(db)
    assert revoked.state == "revoked"
    assert revoked.reason == "cessation_of_operation"
    assert revoked.kind is AUTH
    assert revoked.not_after == UNTIL
    assert (unknown.state, unknown.revoked_at, unknown.reason, unknown.kind) == ("unknown", None, None, None)
    assert queried.count("pki:certificate_status:query") == 2


def test_a_signature_made_before_a_revocation_stays_valid_and_says_so(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    issued = issue(SIG)
    data = "転出届 2026-11-26".encode()
    signature = issued.key.sign(data, ec.ECDSA(hashes.SHA256()))
    signed_at = moving.advance(minutes=1)
    with uow() as db:
        fresh = trust.verify_signature(db, issued.certificate.der, SIG, data, signature, signed_at)
        tampered = trust.verify_signature(db, issued.certificate.der, SIG, data + b"!", signature, signed_at)
    assert (fresh.valid_signature, fresh.revoked_at) == (True, None)
    assert fresh.certificate is not None
    assert fresh.certificate.facts is not None
    assert not tampered.valid_signature
    assert tampered.message_ja

    revoked_at = moving.advance(days=30).replace(microsecond=0)
    with uow() as db:
        trust.revoke(db, issued.certificate.serial, RevocationReason.AFFILIATION_CHANGED)
    moving.advance(days=1)
    with uow() as db:
        later = trust.verify_signature(db, issued.certificate.der, SIG, data, signature, signed_at)
        with pytest.raises(CertificateRevoked):  # signed (claimed) after the revocation
            trust.verify_signature(db, issued.certificate.der, SIG, data, signature)
    assert later.valid_signature
    assert later.revoked_at == revoked_at
    assert later.revocation_reason == "affiliation_changed"
    assert "2026-12-26T01:01:00+00:00" in later.message
    assert "2026-12-26 10:01:00（日本時間）に失効" in later.message_ja.replace(" に", "に")


def test_the_crl_lists_revoked_serials_and_numbers_only_changes(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    lost, superseded, kept, signature = issue(AUTH), issue(AUTH), issue(AUTH), issue(SIG)
    with uow() as db:
        ca = x509.load_der_x509_certificate(trust.ca_certificate(db, "authentication"))
        empty = x509.load_der_x509_crl(trust.crl(db, AUTH))
        again = trust.crl(db, AUTH)
    assert len(empty) == 0
    assert number(empty) == 1
    assert again == empty.public_bytes(serialization.Encoding.DER)  # unchanged and fresh: served again

    with uow() as db:
        trust.revoke(db, lost.certificate.serial, RevocationReason.KEY_COMPROMISE)
        trust.revoke(db, superseded.certificate.serial, RevocationReason.SUPERSEDED)
        trust.revoke(db, signature.certificate.serial, RevocationReason.KEY_COMPROMISE)  # the other CA's
    moving.advance(minutes=1)
    with uow() as db:
        crl = x509.load_der_x509_crl(trust.crl(db, AUTH))
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.subject
    assert number(crl) == 2
    assert {r.serial_number for r in crl} == {lost.certificate.serial, superseded.certificate.serial}
    assert crl.get_revoked_certificate_by_serial_number(kept.certificate.serial) is None
    entry = crl.get_revoked_certificate_by_serial_number(lost.certificate.serial)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.key_compromise
    )
    assert crl.last_update_utc == moving.at.replace(microsecond=0)
    assert crl.next_update_utc == crl.last_update_utc + dt.timedelta(hours=24)

    moving.advance(hours=13)  # stale: re-signed with the next number, same content
    with uow() as db:
        refreshed = x509.load_der_x509_crl(trust.crl(db, AUTH))
        sig_crl = x509.load_der_x509_crl(trust.crl(db, SIG))
    assert number(refreshed) == 3
    assert {r.serial_number for r in refreshed} == {lost.certificate.serial, superseded.certificate.serial}
    assert [r.serial_number for r in sig_crl] == [signature.certificate.serial]


def number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_ca_private_keys_are_not_stored_in_clear(trust: TrustServices, uow: Uow, settings: Settings) -> None:
    with uow() as db:
        trust.ensure_hierarchy(db)
    secrets: list[bytes] = []
    with uow() as db:
        for row in db.scalars(select(CertificateAuthority)):
            key = trust.hierarchy.open_key(row)
            secrets.append(key.private_numbers().private_value.to_bytes(32, "big"))
            secrets.append(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
                pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
                secrets.append(b"".join(pem.splitlines()[1:-1]))  # the base64 body
        dumped = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in db.execute(text("SELECT * FROM pki_authorities"))
            for v in row
        )
    stored = [dumped]
    if settings.is_sqlite:  # the whole database file and its write-ahead log
        path = settings.data_dir / "tsunagu.db"
        stored += [path.read_bytes()] + (
            [w.read_bytes()] if (w := path.with_name("tsunagu.db-wal")).exists() else []
        )
    for blob in stored:
        assert b"PRIVATE KEY" not in blob
        for secret in secrets:
            assert secret not in blob


def test_a_sealed_key_opens_only_with_the_master_secret(
    trust: TrustServices, uow: Uow, settings: Settings, moving: MovingClock
) -> None:
    with uow() as db:
        trust.ensure_hierarchy(db)
    another_secret = SecretStr(base64.b64encode(b"another master secret, 32 bytes!").decode())
    other = trust_services(settings.model_copy(update={"secret_key": another_secret}), moving.clock())
    with uow() as db:
        row = db.scalars(select(CertificateAuthority).where(CertificateAuthority.name == "root")).one()
        trust.hierarchy.open_key(row)
        with pytest.raises(InvalidTag):
            other.hierarchy.open_key(row)
