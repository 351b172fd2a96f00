"""Certificate profiles of the trust services, modelled on J-LIS's 公的個人認証サービス (JPKI). Pure: keys, serials
and times come from the caller; nothing here does I/O.

Hierarchy: a root CA signs two issuing CAs, the 署名用 (signature) CA and the 利用者証明用 (user authentication)
CA; each issues one kind of end-entity certificate. All keys are P-256, all signatures ecdsa-with-SHA256. (The
real JPKI uses RSA-2048 and two separate self-signed CAs; the root here lets one trust anchor cover both.)

What follows the real profile (J-LIS 「公的個人認証サービス プロファイル仕様書」,
https://www.j-lis.go.jp/file/13_profile_genkou.pdf, as shown by ``openssl x509`` on real cards in public write-ups,
e.g. the JPKI OID list of the jsrsasign add-on ``jpki-oids`` and readers' notes citing the 署名用認証局運用規程
https://www.jpki.go.jp/ca/pdf/sign_cps.pdf):

- the 基本4情報 ride in subjectAltName as ``otherName`` entries under J-LIS's arc ``1.2.392.200149.8.5.5``
  (.1 name, .2 substitute-character positions of the name, .3 sex, .4 date of birth, .5 address,
  .6 substitute-character positions of the address), each value a UTF8String;
- sex is ``1`` male, ``2`` female, ``3`` unknown; the date of birth is ``EYYYYMMDD`` where E is the era code
  (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和, 0 unknown) and YYYYMMDD the Gregorian date;
- keyUsage (critical): digitalSignature + nonRepudiation for 署名用, digitalSignature for 利用者証明用;
- certificate policies under ``1.2.392.200149.8.5.1`` (.1.20 signature, .3.30 user authentication);
- the subject holds no personal data (``C=JP`` and an issuance-serial-like CN; real 署名用 certificates also
  name the issuing prefecture and municipality in ``L``).

Agency certificates (``CertificateKind.AGENCY``, not part of JPKI): a third issuing CA, the "tsunagu
Organisation CA", under the same root, certifies agencies' message-signing keys. Subject ``C=JP, O=<agency
name>, CN=<agency code>`` (nothing personal); keyUsage digitalSignature (critical); no extendedKeyUsage (no
standard EKU names "signs inter-agency messages", and an EKU would only restrict where generic verifiers accept
it; the certificate policy is what tells this certificate apart); policy :data:`AGENCY_POLICY`, an OID of our
own under the UUID arc ``2.25`` (ITU-T X.667: no registration needed, and no claim on anyone else's arc).

Where ours differs: the CRL Distribution Point is an HTTP URL under the platform's public URL (J-LIS uses an
LDAP directory name), and the issuer names are tsunagu's, not J-LIS's.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tsunagu.kernel.clock import JST
from tsunagu.pki.core.facts import check_facts, facts_alt_names
from tsunagu.pki.core.types import CertificateKind, OrganisationSubject, RevocationReason, SubjectFacts

# tsunagu's own policy for agency certificates: 2.25.<UUID f3dfe958-df43-436c-9423-83183cc50010 as an integer>.
AGENCY_POLICY: Final = x509.ObjectIdentifier("2.25.324165018017800249392809266660069670928")
# J-LIS certificate policies (jpki-cp-sign-class20, jpki-cp-auth-class30), and ours for agencies.
POLICIES: Final = {
    CertificateKind.SIGNATURE: x509.ObjectIdentifier("1.2.392.200149.8.5.1.1.20"),
    CertificateKind.AUTHENTICATION: x509.ObjectIdentifier("1.2.392.200149.8.5.1.3.30"),
    CertificateKind.AGENCY: AGENCY_POLICY,
}
AGENCY_YEARS: Final = 2  # an agency certificate runs 2 years (see agency_validity_end)
MAX_ORGANISATION_NAME: Final = 64  # X.520 ub-organization-name
AGENCY_CODE_PATTERN: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
ROOT_YEARS: Final = 20
ISSUING_YEARS: Final = 12
ORGANISATION: Final = "tsunagu"
ROOT_CN: Final = "tsunagu JPKI Root CA"
ISSUING: Final = {
    CertificateKind.SIGNATURE: ("JPKI for digital signature", "tsunagu JPKI Signature CA 署名用認証局"),
    CertificateKind.AUTHENTICATION: (
        "JPKI for user authentication",
        "tsunagu JPKI User Authentication CA 利用者証明用認証局",
    ),
    CertificateKind.AGENCY: ("Organisation signing", "tsunagu Organisation CA 組織認証局"),
}


def _signing_usage(*, non_repudiation: bool) -> x509.KeyUsage:
    """digitalSignature only, plus nonRepudiation (contentCommitment) for the signature certificate."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


KEY_USAGES: Final = {
    CertificateKind.SIGNATURE: _signing_usage(non_repudiation=True),
    CertificateKind.AUTHENTICATION: _signing_usage(non_repudiation=False),
    CertificateKind.AGENCY: _signing_usage(non_repudiation=False),
}
CA_KEY_USAGE: Final = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


# --- validity: the fifth birthday after issue ------------------------------------------------------------------


def birthday_in(year: int, birth_date: dt.date) -> dt.date:
    """The holder's birthday in ``year``. A 29 February birthday falls on 28 February in common years."""
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return birth_date.replace(year=year)


def five_birthdays_after(issue_date: dt.date, birth_date: dt.date) -> dt.date:
    """Last day of validity of a JPKI certificate: the holder's 5th birthday after the day of issue.

    The rule (電子署名等に係る地方公共団体情報システム機構の認証業務に関する法律施行規則; municipal guides:
    「発行の日後の5回目の誕生日」) counts birthdays strictly after the issue date, so a certificate issued on a
    birthday runs to the 5th *next* one. For a person born on 29 February we take 28 February in common years:
    no source states the certificate rule for them, and this follows the general rule for ages
    (年齢計算ニ関スル法律 and 民法 art. 143: such a person completes a year at the end of 28 February), and it
    never lets a certificate outlive the real 5th anniversary. (Renewal in the last 3 months, which runs to the
    6th birthday, is the caller's business: call this with the old certificate's last day.)
    """
    if birth_date > issue_date:
        msg = "the birth date is after the issue date"
        raise ValueError(msg)
    first = issue_date.year if birthday_in(issue_date.year, birth_date) > issue_date else issue_date.year + 1
    return birthday_in(first + 4, birth_date)


def end_of_day_jst(day: dt.date) -> dt.datetime:
    """The last second of ``day`` in Japan, in UTC (a certificate valid "until" a date is valid all that day)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), JST).astimezone(dt.UTC)


def validity_end(issue_date: dt.date, birth_date: dt.date) -> dt.datetime:
    """``not_after`` for a certificate issued on ``issue_date``: the end of the 5th birthday after it (JST)."""
    return end_of_day_jst(five_birthdays_after(issue_date, birth_date))


def agency_validity_end(issue_date: dt.date) -> dt.datetime:
    """``not_after`` for an agency certificate issued on ``issue_date``: the end (JST) of the day before the same
    date :data:`AGENCY_YEARS` years later (29 February → 28 February)."""
    later = birthday_in(issue_date.year + AGENCY_YEARS, issue_date)
    return end_of_day_jst(later - dt.timedelta(days=1))


# --- names -----------------------------------------------------------------------------------------------------


def root_name() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "公的個人認証サービス (simulation)"),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_CN),
        ]
    )


def issuing_name(kind: CertificateKind) -> x509.Name:
    unit, common = ISSUING[kind]
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def holder_name(serial: int, not_before: dt.datetime) -> x509.Name:
    """``C=JP, CN=<issuance id>``: the issue time in JST and the start of the serial, nothing personal."""
    issued = not_before.astimezone(JST).strftime("%Y%m%d%H%M%S")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{issued}{serial:040X}"[:30]),
        ]
    )


def check_organisation(kind: CertificateKind, organisation: OrganisationSubject | None) -> None:
    """Raise ``ValueError`` unless ``organisation`` fits ``kind``: required for agency certificates (code of
    capitals, digits and hyphens, at most 32; name of 1 to 64 characters), refused for card certificates."""
    if kind is not CertificateKind.AGENCY:
        if organisation is not None:
            msg = "a card certificate names no organisation"
            raise ValueError(msg)
        return
    if organisation is None:
        msg = "an agency certificate needs the agency's code and name"
        raise ValueError(msg)
    if not AGENCY_CODE_PATTERN.fullmatch(organisation.code):
        msg = "the agency code must be 1 to 32 capital letters, digits or hyphens"
        raise ValueError(msg)
    if not organisation.name.strip() or len(organisation.name) > MAX_ORGANISATION_NAME:
        msg = f"the agency name must have 1 to {MAX_ORGANISATION_NAME} characters"
        raise ValueError(msg)


def organisation_name(organisation: OrganisationSubject) -> x509.Name:
    """``C=JP, O=<agency name>, CN=<agency code>``: the subject of an agency certificate."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation.name),
            x509.NameAttribute(NameOID.COMMON_NAME, organisation.code),
        ]
    )


def read_organisation(cert: x509.Certificate) -> OrganisationSubject:
    """The agency named by an agency certificate's subject (``ValueError`` when O or CN is missing)."""
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    codes = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or len(codes) != 1:
        msg = "an agency certificate names exactly one organisation and one code"
        raise ValueError(msg)
    return OrganisationSubject(str(codes[0].value), str(names[0].value))


# --- builders --------------------------------------------------------------------------------------------------


def _second(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        msg = "certificate times must be aware datetimes"
        raise ValueError(msg)
    return at.astimezone(dt.UTC).replace(microsecond=0)


def _years(at: dt.datetime, years: int) -> dt.datetime:
    return at + dt.timedelta(days=365 * years + years // 4)


def build_root(key: ec.EllipticCurvePrivateKey, serial: int, now: dt.datetime) -> x509.Certificate:
    """The self-signed trust anchor: CA, pathlen 1, keyCertSign + cRLSign."""
    start = _second(now)
    name = root_name()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(_years(start, ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def build_issuing_ca(
    kind: CertificateKind,
    public_key: ec.EllipticCurvePublicKey,
    serial: int,
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> x509.Certificate:
    """An issuing CA under the root: CA, pathlen 0, keyCertSign + cRLSign, the policy of its kind."""
    start = _second(now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(issuing_name(kind))
        .issuer_name(root.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(min(_years(start, ISSUING_YEARS), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(root), critical=False)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(POLICIES[kind], None)]), critical=False
        )
    )
    return builder.sign(root_key, hashes.SHA256())


@dataclass(frozen=True)
class EndEntityRequest:
    """What an end-entity certificate says (all checked by :func:`build_end_entity`)."""

    kind: CertificateKind
    public_key: ec.EllipticCurvePublicKey
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    crl_url: str
    facts: SubjectFacts | None = None
    organisation: OrganisationSubject | None = None


def build_end_entity(
    request: EndEntityRequest, issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    """A 署名用, 利用者証明用 or agency certificate. Facts are required for the first and refused for the others;
    the organisation is required for an agency certificate and refused for the card kinds."""
    check_facts(request.kind, request.facts)
    check_organisation(request.kind, request.organisation)
    start, end = _second(request.not_before), _second(request.not_after)
    if end <= start:
        msg = "not_after must be after not_before"
        raise ValueError(msg)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            holder_name(request.serial, start)
            if request.organisation is None
            else organisation_name(request.organisation)
        )
        .issuer_name(issuer.subject)
        .public_key(request.public_key)
        .serial_number(request.serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(KEY_USAGES[request.kind], critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(request.public_key), critical=False)
        .add_extension(_authority_key_id(issuer), critical=False)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(POLICIES[request.kind], None)]), critical=False
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(request.crl_url)], None, None, None)]
            ),
            critical=False,
        )
    )
    if request.facts is not None:
        builder = builder.add_extension(facts_alt_names(request.facts), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _authority_key_id(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime
    reason: RevocationReason


def build_crl(
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    entries: Iterable[RevokedEntry],
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
) -> x509.CertificateRevocationList:
    """A full CRL (v2) with crlNumber and the issuer's key identifier; a reasonCode on every entry except
    ``unspecified`` (RFC 5280 §5.3.1 says to leave that one out)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(_second(this_update))
        .next_update(_second(next_update))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_authority_key_id(issuer), critical=False)
    )
    for entry in entries:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(_second(entry.revoked_at))
        )
        if entry.reason is not RevocationReason.UNSPECIFIED:
            revoked = revoked.add_extension(x509.CRLReason(entry.reason.crl_reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(issuer_key, hashes.SHA256())
