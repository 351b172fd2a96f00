"""Typed errors of the linkage domain (each maps to RFC 9457 problem+json through the kernel's shape)."""

from __future__ import annotations

from tsunagu.kernel.errors import Conflict, Forbidden, NotFound


class UnknownAgency(NotFound):
    code = "unknown-agency"
    title = "Unknown agency"


class AgencyInactive(Forbidden):
    code = "agency-inactive"
    title = "Agency not active"


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
