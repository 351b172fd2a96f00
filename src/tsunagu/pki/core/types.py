"""Value types of the trust services, shared by the pure profiles and the services (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey


class CertificateKind(StrEnum):
    """The two certificates on the card's JPKI application, and the organisations' signing certificate.

    ``SIGNATURE`` is the 署名用電子証明書 (carries the basic 4 facts, like 実印 + 印鑑証明); ``AUTHENTICATION`` is
    the 利用者証明用電子証明書 (proves "the person logging in is you", no personal attributes). ``AGENCY`` certifies
    an agency's (organisation's) message-signing key: subject ``O = <agency name>, CN = <agency code>``, nothing
    personal, issued by the Organisation CA."""

    SIGNATURE = "signature"
    AUTHENTICATION = "authentication"
    AGENCY = "agency"


class RevocationReason(StrEnum):
    """Why a certificate was revoked (失効事由), each mapped to an RFC 5280 §5.3.1 CRLReason code.

    ``CERTIFICATE_HOLD`` (一時保留, a suspended card) is the one reversible reason: the hold can be released
    (:meth:`TrustServices.release_hold`) or turned into a permanent revocation. ``UNSPECIFIED`` is written to a
    CRL without a reasonCode extension, as RFC 5280 recommends."""

    UNSPECIFIED = "unspecified"  # 0
    KEY_COMPROMISE = "key_compromise"  # 1: card lost or stolen (紛失・盗難)
    AFFILIATION_CHANGED = "affiliation_changed"  # 3: name or address changed (基本4情報の変更)
    SUPERSEDED = "superseded"  # 4: reissued or renewed (更新・再発行)
    CESSATION_OF_OPERATION = (
        "cessation_of_operation"  # 5: death, emigration, card returned (死亡・国外転出・返納)
    )
    CERTIFICATE_HOLD = "certificate_hold"  # 6: card suspended (一時停止 → 一時保留)

    @property
    def crl_reason(self) -> x509.ReasonFlags:
        return _CRL_REASONS[self]


_CRL_REASONS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.CERTIFICATE_HOLD: x509.ReasonFlags.certificate_hold,
}


@dataclass(frozen=True)
class SubjectFacts:
    """基本4情報 as carried by a signature certificate: 氏名, 住所, 生年月日, 性別 (+ the kana of the name).

    ``name`` is written as on the register (family and given names separated by a full-width space, as J-LIS
    does); ``address`` from the prefecture down, without postal code (at most 200 characters); ``sex`` is
    ``"male"`` or ``"female"`` (``"unknown"`` only when read from a certificate carrying code 3).

    The real certificate carries no kana, and neither does ours: ``name_kana`` is what the caller gave at
    issue, and is ``""`` in facts read back from a certificate."""

    name: str
    name_kana: str
    address: str
    birth_date: dt.date
    sex: str


@dataclass(frozen=True)
class OrganisationSubject:
    """Who an ``AGENCY`` certificate names: the agency code (``LG-142051``; the subject CN) and the agency's name
    (the subject O, at most 64 characters as X.520 allows)."""

    code: str
    name: str


@dataclass(frozen=True)
class IssuedCertificate:
    serial: int
    kind: CertificateKind
    der: bytes
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate that chains to our CA of the expected kind, valid and unrevoked at the time asked."""

    serial: int
    kind: CertificateKind
    holder: str
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: EllipticCurvePublicKey
    facts: SubjectFacts | None  # the basic 4 facts of a signature certificate; None for the other kinds
    organisation: OrganisationSubject | None = None  # the subject of an agency certificate; None for cards


@dataclass(frozen=True)
class CertificateStatus:
    """Answer of the status service: ``good`` (issued by us, not revoked — it may have expired: see
    ``not_after``), ``revoked``, or ``unknown`` (no certificate of ours has this serial)."""

    serial: int
    state: str  # "good" | "revoked" | "unknown"
    revoked_at: dt.datetime | None
    reason: str | None  # a RevocationReason value when revoked
    kind: CertificateKind | None = None
    not_after: dt.datetime | None = None


@dataclass(frozen=True)
class SignatureVerdict:
    """Outcome of checking a signature. ``valid_signature`` says the signature matches the data under a
    certificate that was valid when signed; ``revoked_at`` is set when that certificate has been revoked since
    (the signature stays valid: it was made before the revocation)."""

    valid_signature: bool
    certificate: VerifiedCertificate | None
    revoked_at: dt.datetime | None
    message: str
    message_ja: str
    revocation_reason: str | None = None


@dataclass(frozen=True)
class AuthoritySummary:
    """One CA of the hierarchy, for people and for ``tsunagu pki show``."""

    name: str  # root | signature | authentication | agency
    subject: str
    issuer: str
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    sha256_fingerprint: str  # upper-case hex pairs separated by colons, as openssl prints it
