"""HTTP face of the trust services: the public repository (CRLs and CA certificates, like J-LIS publishes at the
CRL distribution points) and the certificate-status service for registered verifiers (署名検証者 /
利用者証明検証者) under ``/api/v1``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import DomainError, InvalidInput
from tsunagu.pki.core.serials import parse_serial, serial_hex
from tsunagu.pki.core.types import CertificateKind
from tsunagu.pki.services import TrustServices
from tsunagu.web.access import current_principal, guard, staff_principal
from tsunagu.web.context import ctx_of

CRL_MEDIA_TYPE = "application/pkix-crl"  # RFC 5280 §4.2.1.13 / RFC 2585
CERT_MEDIA_TYPE = "application/pkix-cert"
CRL_CACHE = "public, max-age=300"  # a relying party may keep a CRL five minutes; nextUpdate says 24 h
CA_CACHE = "public, max-age=86400"


class StatusQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(
        min_length=1,
        max_length=80,
        description="Serial number: decimal digits, or hexadecimal written 0x… or as colon-separated pairs",
    )


class StatusAnswer(BaseModel):
    serial: str = Field(description="Decimal")
    serial_hex: str = Field(description="Lowercase hexadecimal, as printed by openssl without colons")
    state: Literal["good", "revoked", "unknown"]
    kind: Literal["signature", "authentication", "agency"] | None
    revoked_at: dt.datetime | None
    reason: str | None = Field(description="key_compromise, affiliation_changed, superseded, … when revoked")
    not_after: dt.datetime | None


def _audited_guard(access: Access) -> Any:
    """The standard guard, with refusals of the status service recorded in the audit trail."""
    check: Callable[[Request], object] = guard(access).dependency

    def audited(request: Request) -> object:
        try:
            return check(request)
        except DomainError as exc:
            principal = current_principal(request)
            with ctx_of(request).uow() as db:
                actor = principal.username if principal else "anonymous"
                audit.record(db, actor, audit.AuditAction.CERTIFICATE_STATUS_REFUSED, "", reason=exc.code)
            raise

    audited.access = access  # type: ignore[attr-defined]  # read by the route architecture test
    return Depends(audited)


def router(trust_of: Callable[[Request], TrustServices]) -> APIRouter:
    r = APIRouter(tags=["pki"])

    @r.get(
        "/pki/crl/{kind}.crl",
        dependencies=[guard(Access.public())],
        response_class=Response,
        responses={200: {"content": {CRL_MEDIA_TYPE: {}}, "description": "DER CRL"}},
    )
    def get_crl(request: Request, kind: Literal["signature", "authentication", "agency"]) -> Response:
        """The current CRL (DER) of the signature, user-authentication or agency CA (its CRL Distribution Point)."""
        with ctx_of(request).uow() as db:
            der = trust_of(request).crl(db, CertificateKind(kind))
        return Response(der, media_type=CRL_MEDIA_TYPE, headers={"Cache-Control": CRL_CACHE})

    @r.get(
        "/pki/ca/{name}.cer",
        dependencies=[guard(Access.public())],
        response_class=Response,
        responses={200: {"content": {CERT_MEDIA_TYPE: {}}, "description": "DER certificate"}},
    )
    def get_ca(request: Request, name: Literal["root", "signature", "authentication", "agency"]) -> Response:
        """A CA certificate (DER): the root, or the signature, user-authentication or agency issuing CA."""
        with ctx_of(request).uow() as db:
            der = trust_of(request).ca_certificate(db, name)
        return Response(der, media_type=CERT_MEDIA_TYPE, headers={"Cache-Control": CA_CACHE})

    @r.post(
        "/api/v1/pki/status",
        response_model=StatusAnswer,
        dependencies=[_audited_guard(Access.staff(Permission.PKI_CERTIFICATE_STATUS_READ))],
    )
    def post_status(request: Request, query: StatusQuery) -> StatusAnswer:
        """Revocation status of a certificate, for registered verifiers (role ``verifier``). Every query is
        recorded in the audit trail."""
        try:
            serial = parse_serial(query.serial)
        except ValueError as exc:
            raise InvalidInput(str(exc), ja="シリアル番号の形式が正しくありません。", field="serial") from exc
        principal = staff_principal(request)
        with ctx_of(request).uow() as db:
            status = trust_of(request).status(db, serial, actor=principal.username)
        return StatusAnswer(
            serial=str(serial),
            serial_hex=serial_hex(serial),
            state=status.state,
            kind=status.kind.value if status.kind else None,
            revoked_at=status.revoked_at,
            reason=status.reason,
            not_after=status.not_after,
        )

    return r
