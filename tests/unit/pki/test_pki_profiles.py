"""Certificate profiles: the CA hierarchy, the three end-entity kinds, the basic 4 facts, CRLs and serials."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from tsunagu.pki.core import facts, profiles
from tsunagu.pki.core.types import CertificateKind, OrganisationSubject, RevocationReason, SubjectFacts

NOW = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
FACTS = SubjectFacts(
    "山田　太郎", "ヤマダ　タロウ", "神奈川県藤沢市朝日町1番地の1", dt.date(1980, 4, 1), "male"
)
ORG = OrganisationSubject("LG-142051", "藤沢市")
CRL_URL = "https://tsunagu.example/pki/crl/signature.crl"
E = TypeVar("E", bound=x509.ExtensionType)
Hierarchy = dict[str, tuple[x509.Certificate, ec.EllipticCurvePrivateKey]]


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = profiles.build_root(root_key, 1, NOW)
    out = {"root": (root, root_key)}
    for kind in CertificateKind:
        key = ec.generate_private_key(ec.SECP256R1())
        out[kind.value] = (profiles.build_issuing_ca(kind, key.public_key(), 2, root, root_key, NOW), key)
    return out


def end_entity(
    hierarchy: Hierarchy,
    kind: CertificateKind,
    facts: SubjectFacts | None,
    serial: int = 0x1234_5678_9ABC,
    organisation: OrganisationSubject | None = None,
) -> x509.Certificate:
    issuer, issuer_key = hierarchy[kind.value]
    key = ec.generate_private_key(ec.SECP256R1())
    if kind is CertificateKind.AGENCY and organisation is None:
        organisation = ORG
    request = profiles.EndEntityRequest(
        kind, key.public_key(), serial, NOW, NOW + dt.timedelta(days=1000), CRL_URL, facts, organisation
    )
    return profiles.build_end_entity(request, issuer, issuer_key)


def ext(cert: x509.Certificate, cls: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(cls)


def test_every_certificate_is_p256_ecdsa_sha256(hierarchy: Hierarchy) -> None:
    certs = [c for c, _k in hierarchy.values()]
    certs.append(end_entity(hierarchy, CertificateKind.SIGNATURE, FACTS))
    for cert in certs:
        assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert isinstance(key.curve, ec.SECP256R1)
        assert cert.version == x509.Version.v3


def test_the_root_is_a_self_signed_ca_with_path_length_1(hierarchy: Hierarchy) -> None:
    root, _key = hierarchy["root"]
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    constraints = ext(root, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value == x509.BasicConstraints(ca=True, path_length=1)
    usage = ext(root, x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert not usage.digital_signature


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_issuing_cas_chain_to_the_root(hierarchy: Hierarchy, kind: CertificateKind) -> None:
    root, _ = hierarchy["root"]
    ca, _ = hierarchy[kind.value]
    ca.verify_directly_issued_by(root)
    assert ext(ca, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=0)
    usage = ext(ca, x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    aki = ext(ca, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(root, x509.SubjectKeyIdentifier).value.digest
    policies = ext(ca, x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [profiles.POLICIES[kind]]
    assert ca.not_valid_after_utc <= root.not_valid_after_utc


def test_the_signature_certificate_carries_the_basic_4_facts(hierarchy: Hierarchy) -> None:
    cert = end_entity(hierarchy, CertificateKind.SIGNATURE, FACTS)
    cert.verify_directly_issued_by(hierarchy["signature"][0])
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.content_commitment  # nonRepudiation
    assert not usage.value.key_cert_sign
    others = ext(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.OtherName)
    values = {o.type_id.dotted_string: facts.read_utf8_string(o.value) for o in others}
    assert values == {
        "1.2.392.200149.8.5.5.1": "山田　太郎",
        "1.2.392.200149.8.5.5.2": "00000",
        "1.2.392.200149.8.5.5.3": "1",
        "1.2.392.200149.8.5.5.4": "319800401",  # 3 = 昭和
        "1.2.392.200149.8.5.5.5": "神奈川県藤沢市朝日町1番地の1",
        "1.2.392.200149.8.5.5.6": "0" * len(FACTS.address),
    }
    assert facts.read_facts(cert) == SubjectFacts(FACTS.name, "", FACTS.address, FACTS.birth_date, "male")


def test_the_authentication_certificate_carries_no_personal_attribute(hierarchy: Hierarchy) -> None:
    cert = end_entity(hierarchy, CertificateKind.AUTHENTICATION, None)
    cert.verify_directly_issued_by(hierarchy["authentication"][0])
    usage = ext(cert, x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.content_commitment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert facts.read_facts(cert) is None
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value).startswith("20261126100000")


def test_the_agency_certificate_names_the_organisation_and_nobody(hierarchy: Hierarchy) -> None:
    cert = end_entity(hierarchy, CertificateKind.AGENCY, None)
    cert.verify_directly_issued_by(hierarchy["agency"][0])
    assert [(a.oid, a.value) for a in cert.subject] == [
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "藤沢市"),
        (NameOID.COMMON_NAME, "LG-142051"),
    ]
    assert profiles.read_organisation(cert) == ORG
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.content_commitment
    assert not usage.value.key_cert_sign
    for absent in (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.EXTENDED_KEY_USAGE):
        with pytest.raises(x509.ExtensionNotFound):
            cert.extensions.get_extension_for_oid(absent)
    assert facts.read_facts(cert) is None
    assert profiles.POLICIES[CertificateKind.AGENCY].dotted_string.startswith("2.25.")
    assert len(set(profiles.POLICIES.values())) == len(CertificateKind)
    assert hierarchy["agency"][0].subject.rfc4514_string().startswith("CN=tsunagu Organisation CA")


@pytest.mark.parametrize(
    ("kind", "facts_given", "organisation", "message"),
    [
        (CertificateKind.AGENCY, None, None, "needs the agency's code and name"),
        (CertificateKind.AGENCY, FACTS, ORG, "no personal attributes"),
        (CertificateKind.AGENCY, None, OrganisationSubject("lg 142051", "藤沢市"), "agency code"),
        (CertificateKind.AGENCY, None, OrganisationSubject("LG-142051", " "), "agency name"),
        (CertificateKind.AGENCY, None, OrganisationSubject("LG-142051", "市" * 65), "agency name"),
        (CertificateKind.AUTHENTICATION, None, ORG, "names no organisation"),
        (CertificateKind.SIGNATURE, FACTS, ORG, "names no organisation"),
    ],
)
def test_the_organisation_is_required_for_agencies_only(
    hierarchy: Hierarchy,
    kind: CertificateKind,
    facts_given: SubjectFacts | None,
    organisation: OrganisationSubject | None,
    message: str,
) -> None:
    issuer, issuer_key = hierarchy[kind.value]
    key = ec.generate_private_key(ec.SECP256R1())
    request = profiles.EndEntityRequest(
        kind, key.public_key(), 7, NOW, NOW + dt.timedelta(days=1), CRL_URL, facts_given, organisation
    )
    with pytest.raises(ValueError, match=message):
        profiles.build_end_entity(request, issuer, issuer_key)


@pytest.mark.parametrize(
    ("issued", "last_day"),
    [
        (dt.date(2026, 11, 26), dt.date(2028, 11, 25)),
        (dt.date(2028, 2, 29), dt.date(2030, 2, 27)),  # no 29 February in 2030: 28th is the anniversary
        (dt.date(2027, 1, 1), dt.date(2028, 12, 31)),
    ],
)
def test_an_agency_certificate_runs_two_years(issued: dt.date, last_day: dt.date) -> None:
    assert profiles.agency_validity_end(issued) == profiles.end_of_day_jst(last_day)


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_end_entities_carry_crl_point_key_identifiers_and_policy(
    hierarchy: Hierarchy, kind: CertificateKind
) -> None:
    cert = end_entity(hierarchy, kind, FACTS if kind is CertificateKind.SIGNATURE else None)
    issuer = hierarchy[kind.value][0]
    points = ext(cert, x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or []] == [CRL_URL]
    assert ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == (
        ext(issuer, x509.SubjectKeyIdentifier).value.digest
    )
    assert ext(cert, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(
        cert.public_key()
    )
    assert [p.policy_identifier for p in ext(cert, x509.CertificatePolicies).value] == [
        profiles.POLICIES[kind]
    ]
    assert ext(cert, x509.BasicConstraints).value.ca is False
    assert cert.serial_number == 0x1234_5678_9ABC


def test_crl_lists_entries_with_reasons_except_unspecified(hierarchy: Hierarchy) -> None:
    issuer, key = hierarchy["signature"]
    entries = [
        profiles.RevokedEntry(5, NOW, RevocationReason.KEY_COMPROMISE),
        profiles.RevokedEntry(6, NOW, RevocationReason.UNSPECIFIED),
        profiles.RevokedEntry(7, NOW, RevocationReason.CERTIFICATE_HOLD),
    ]
    crl = profiles.build_crl(issuer, key, entries, 42, NOW, NOW + dt.timedelta(hours=24))
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    assert crl.issuer == issuer.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    assert crl.next_update_utc == NOW + dt.timedelta(hours=24)

    def reason(serial: int) -> x509.ReasonFlags | None:
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        assert entry is not None
        try:
            return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            return None

    assert reason(5) == x509.ReasonFlags.key_compromise
    assert reason(6) is None
    assert reason(7) == x509.ReasonFlags.certificate_hold


def test_naive_times_are_refused(hierarchy: Hierarchy) -> None:
    with pytest.raises(ValueError, match="aware"):
        profiles.build_root(ec.generate_private_key(ec.SECP256R1()), 1, dt.datetime(2026, 1, 1))  # noqa: DTZ001
