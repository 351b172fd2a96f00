"""Typed errors of the linkage domain (each maps to RFC 9457 problem+json through the kernel's shape)."""

from __future__ import annotations

from typing import Any, ClassVar

from tsunagu.kernel.errors import Conflict, DomainError, Forbidden, NotFound


class UnknownAgency(NotFound):
    code = "unknown-agency"
    title = "Unknown agency"


class AgencyInactive(Forbidden):
    code = "agency-inactive"
    title = "Agency not active"


class AgencyCertificateInvalid(Forbidden):
    """The agency has no live signing certificate (never issued, revoked or expired)."""

    code = "agency-certificate-invalid"
    title = "Agency certificate not valid"


class UnknownCode(NotFound):
    """A 符号 the hub did not issue to this agency."""

    code = "unknown-code"
    title = "Unknown code"


class NotPermittedByLegalBasis(Forbidden):
    """The legal-basis table (別表) does not permit the request; the detail names what is missing."""

    code = "not-permitted-by-legal-basis"
    title = "Not permitted by the legal-basis table"


class TableVersionConflict(Conflict):
    code = "legal-basis-version-conflict"
    title = "Legal-basis table version already loaded with other content"


class ExchangeRefused(DomainError):
    """The hub (or a provider) refused a message; ``reason`` is one of the protocol's stable reasons."""

    code = "exchange-refused"
    title = "Exchange refused"

    STATUS: ClassVar[dict[str, int]] = {
        "malformed": 400,
        "oversized": 413,
        "unsigned": 401,
        "bad-signature": 401,
        "unknown-agency": 403,
        "agency-inactive": 403,
        "certificate-invalid": 403,
        "unknown-item": 422,
        "unknown-code": 404,
        "not-permitted-by-legal-basis": 403,
        "stale": 400,
        "replayed": 409,
        "provider-unavailable": 503,
        "provider-error": 502,
    }

    def __init__(self, reason: str, detail: str, *, ja: str | None = None, **extra: Any) -> None:
        super().__init__(detail, ja=ja, reason=reason, **extra)
        self.reason = reason
        self.status = self.STATUS.get(reason, 400)  # type: ignore[misc]  # per instance: by reason
