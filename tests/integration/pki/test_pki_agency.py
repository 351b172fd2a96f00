"""Agency (organisation) certificates: issued by the Organisation CA, verified only as AGENCY, revoked onto the
agency CRL; a database made when the hierarchy had three CAs gets the fourth on the next ``ensure_hierarchy``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.errors import InvalidInput
from tsunagu.pki.api import (
    CertificateKind,
    CertificateRevoked,
    OrganisationSubject,
    RevocationReason,
    SubjectFacts,
    TrustServices,
    WrongCertificateKind,
    agency_validity_end,
    trust_services,
)
from tsunagu.pki.core import profiles
from tsunagu.pki.models import CertificateAuthority
from tsunagu.settings import Settings

from .conftest import FACTS, ORG, START, Issued, MovingClock

Uow = Callable[[], AbstractContextManager[Session]]
IssueFn = Callable[..., Issued]
AGENCY, SIG, AUTH = CertificateKind.AGENCY, CertificateKind.SIGNATURE, CertificateKind.AUTHENTICATION
UNTIL = agency_validity_end(START.date())
AUDITOR = Principal(0, "auditor", "Auditor", frozenset({Permission.AUDIT_LOG_READ}))


def test_an_agency_certificate_is_issued_by_the_organisation_ca_and_verifies_as_agency(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    issued = issue(AGENCY, "agency:LG-142051", UNTIL)
    cert = x509.load_der_x509_certificate(issued.certificate.der)
    with uow() as db:
        ca = x509.load_der_x509_certificate(trust.ca_certificate(db, "agency"))
        root = x509.load_der_x509_certificate(trust.ca_certificate(db, "root"))
        verified = trust.verify(db, issued.certificate.der, AGENCY)
        status = trust.status(db, issued.certificate.serial)
    ca.verify_directly_issued_by(root)
    cert.verify_directly_issued_by(ca)
    assert "tsunagu Organisation CA" in ca.subject.rfc4514_string()
    assert issued.certificate.kind is AGENCY
    assert verified.holder == "agency:LG-142051"
    assert verified.organisation == ORG
    assert verified.facts is None
    assert verified.not_after == UNTIL
    assert status.kind is AGENCY
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or []] == [trust.crl_url(AGENCY)]
    assert trust.crl_url(AGENCY).endswith("/pki/crl/agency.crl")
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [profiles.AGENCY_POLICY]


def test_a_message_signed_with_the_agency_key_verifies(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    issued = issue(AGENCY, "agency:LG-142051", UNTIL)
    message = b'{"request": "local_tax.income"}'
    signature = issued.key.sign(message, ec.ECDSA(hashes.SHA256()))
    with uow() as db:
        verdict = trust.verify_signature(db, issued.certificate.der, AGENCY, message, signature)
        tampered = trust.verify_signature(db, issued.certificate.der, AGENCY, message + b" ", signature)
    assert verdict.valid_signature
    assert verdict.certificate is not None
    assert verdict.certificate.organisation == ORG
    assert not tampered.valid_signature


def test_agency_and_card_certificates_are_refused_as_each_other(
    issue: IssueFn, trust: TrustServices, uow: Uow
) -> None:
    agency, sig, auth = issue(AGENCY, "agency:LG-142051", UNTIL), issue(SIG), issue(AUTH)
    with uow() as db:
        trust.verify(db, agency.certificate.der, AGENCY)  # remembered as checked: the kind is still compared
        for card in (SIG, AUTH):
            with pytest.raises(WrongCertificateKind):
                trust.verify(db, agency.certificate.der, card)
        for der in (sig.certificate.der, auth.certificate.der):
            with pytest.raises(WrongCertificateKind):
                trust.verify(db, der, AGENCY)


@pytest.mark.parametrize(
    ("facts", "organisation", "message"),
    [
        (None, None, "needs the agency's code and name"),
        (FACTS, ORG, "no personal attributes"),
        (None, OrganisationSubject("fujisawa", "藤沢市"), "agency code"),
    ],
)
def test_agency_issue_refusals(
    trust: TrustServices,
    uow: Uow,
    facts: SubjectFacts | None,
    organisation: OrganisationSubject | None,
    message: str,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with uow() as db, pytest.raises(InvalidInput, match=message):
        trust.issue(db, AGENCY, key.public_key(), UNTIL, "agency:X", facts, organisation=organisation)


def test_a_card_certificate_names_no_organisation(trust: TrustServices, uow: Uow) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with uow() as db, pytest.raises(InvalidInput, match="names no organisation"):
        trust.issue(db, AUTH, key.public_key(), UNTIL, "card:1", organisation=ORG)


def test_a_revoked_agency_certificate_is_listed_on_the_agency_crl_only(
    issue: IssueFn, trust: TrustServices, uow: Uow, moving: MovingClock
) -> None:
    revoked, kept = issue(AGENCY, "agency:JPS", UNTIL), issue(AGENCY, "agency:LG-142051", UNTIL)
    card = issue(AUTH)
    with uow() as db:
        trust.revoke(db, revoked.certificate.serial, RevocationReason.KEY_COMPROMISE)
        trust.revoke(db, card.certificate.serial, RevocationReason.KEY_COMPROMISE)
    moving.advance(minutes=1)
    with uow() as db:
        ca = x509.load_der_x509_certificate(trust.ca_certificate(db, "agency"))
        crl = x509.load_der_x509_crl(trust.crl(db, AGENCY))
        auth_crl = x509.load_der_x509_crl(trust.crl(db, AUTH))
        with pytest.raises(CertificateRevoked):
            trust.verify(db, revoked.certificate.der, AGENCY)
        trust.verify(db, kept.certificate.der, AGENCY)
    assert crl.issuer == ca.subject
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert [r.serial_number for r in crl] == [revoked.certificate.serial]
    assert [r.serial_number for r in auth_crl] == [card.certificate.serial]


def test_a_database_with_three_cas_gets_the_agency_ca_on_the_next_ensure(
    issue: IssueFn, uow: Uow, settings: Settings, moving: MovingClock
) -> None:
    card = issue(AUTH)  # creates the whole hierarchy; then make it look like one made before agency CAs
    with uow() as db:
        db.execute(delete(CertificateAuthority).where(CertificateAuthority.name == "agency"))
        before = {a.name: (a.id, a.certificate) for a in db.scalars(select(CertificateAuthority))}
    assert sorted(before) == ["authentication", "root", "signature"]

    upgraded = trust_services(settings, moving.clock())  # as after a restart with the new code
    with uow() as db:
        assert upgraded.verify(db, card.certificate.der, AUTH).holder == "card:1"  # cards keep working
        assert (
            db.scalar(select(func.count()).select_from(CertificateAuthority)) == 3
        )  # verify creates nothing
    with uow() as db:
        upgraded.ensure_hierarchy(db, actor="cli:ops")
    with uow() as db:
        after = {a.name: (a.id, a.certificate) for a in db.scalars(select(CertificateAuthority))}
        upgraded.ensure_hierarchy(db)  # idempotent
        assert db.scalar(select(func.count()).select_from(CertificateAuthority)) == 4
        created = audit.entries(db, AUDITOR, subject="ca:agency", limit=10)
        root = x509.load_der_x509_certificate(upgraded.ca_certificate(db, "root"))
    assert {name: after[name] for name in before} == before  # the old CAs are untouched
    x509.load_der_x509_certificate(after["agency"][1]).verify_directly_issued_by(root)
    assert next(e.actor for e in created if e.action == "pki:ca:create") == "cli:ops"

    key = ec.generate_private_key(ec.SECP256R1())
    with uow() as db:
        issued = upgraded.issue(db, AGENCY, key.public_key(), UNTIL, "agency:JPS", organisation=ORG)
    with uow() as db:
        assert upgraded.verify(db, issued.der, AGENCY).organisation == ORG
        assert upgraded.verify(db, card.certificate.der, AUTH).holder == "card:1"
