"""Public interface of the trust services (公的個人認証サービス): the only module other domains import.

Build one :class:`TrustServices` per application with :func:`trust_services` (the app stores it as
``ctx.extras["trust"]``); its methods work in the caller's transaction and never commit."""

from tsunagu.pki.core.profiles import agency_validity_end, end_of_day_jst, five_birthdays_after, validity_end
from tsunagu.pki.core.serials import parse_serial
from tsunagu.pki.core.types import (
    AuthoritySummary,
    CertificateKind,
    CertificateStatus,
    IssuedCertificate,
    OrganisationSubject,
    RevocationReason,
    SignatureVerdict,
    SubjectFacts,
    VerifiedCertificate,
)
from tsunagu.pki.errors import (
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRefused,
    CertificateRevoked,
    MalformedCertificate,
    UnknownIssuer,
    WrongCertificateKind,
)
from tsunagu.pki.services import TrustServices, trust_services

__all__ = [
    "AuthoritySummary",
    "CertificateExpired",
    "CertificateKind",
    "CertificateNotYetValid",
    "CertificateRefused",
    "CertificateRevoked",
    "CertificateStatus",
    "IssuedCertificate",
    "MalformedCertificate",
    "OrganisationSubject",
    "RevocationReason",
    "SignatureVerdict",
    "SubjectFacts",
    "TrustServices",
    "UnknownIssuer",
    "VerifiedCertificate",
    "WrongCertificateKind",
    "agency_validity_end",
    "end_of_day_jst",
    "five_birthdays_after",
    "parse_serial",
    "trust_services",
    "validity_end",
]
