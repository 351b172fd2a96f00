"""The verifier page's service: read what was given (a ``.smart-health-card`` file, a QR image, a JWS or ``shc:/``
text), verify it against the trust list (this platform's own issuer with its CRL from the database, and the trust
folder's issuers with their CRL files), and keep for display only what a checker needs: name, birth date, doses
(vaccine, date, lot, place) and the issuer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.credentials.context import CredentialsContext
from tsunagu.credentials.core import qrimage, verify
from tsunagu.credentials.services import revocation
from tsunagu.health import api as health

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ShownDose:
    vaccine_ja: str
    vaccine_en: str
    code: str
    date: str
    lot: str
    place: str


@dataclass(frozen=True)
class Outcome:
    """One card's result: valid or the reasons (each in Japanese and English), and what to show when valid."""

    valid: bool
    reasons: list[tuple[str, str, str]] = field(default_factory=list)  # (reason, ja, en)
    issuer: str = ""
    issuer_is_us: bool = False
    name: str = ""
    birth_date: str = ""
    doses: list[ShownDose] = field(default_factory=list)


def read_input(data: bytes) -> bytes | str:
    """The card text in an upload: an image is decoded as a QR code; anything else is taken as it is."""
    if not qrimage.looks_like_image(data):
        return data
    try:
        return qrimage.read_shc_text(data)
    except qrimage.NotAQrImage as exc:
        return f"image: {exc}"  # verified as malformed, with the reason in the detail


def _vaccine_names(code: str) -> tuple[str, str]:
    known = {v.cvx: v for v in health.vaccines()}.get(code)
    return (known.name_ja, known.name_en) if known else (f"CVX {code}", f"CVX {code}")


def _resources(payload: dict[str, Any]) -> list[dict[str, Any]]:
    bundle = payload.get("vc", {}).get("credentialSubject", {}).get("fhirBundle", {})
    return [e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, dict)]


def _shown(payload: dict[str, Any], own_iss: str) -> Outcome:
    resources = _resources(payload)
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    name = (patient.get("name") or [{}])[0]
    doses = []
    for imm in (r for r in resources if r.get("resourceType") == "Immunization"):
        code = str((imm.get("vaccineCode", {}).get("coding") or [{}])[0].get("code", ""))
        ja, en = _vaccine_names(code)
        performer = (imm.get("performer") or [{}])[0].get("actor", {}).get("display", "")
        doses.append(
            ShownDose(
                ja, en, code, str(imm.get("occurrenceDateTime", "")), str(imm.get("lotNumber", "")), performer
            )
        )
    iss = str(payload.get("iss", ""))
    return Outcome(
        valid=True,
        issuer=iss,
        issuer_is_us=iss == own_iss,
        name=" ".join([str(name.get("family", "")), *map(str, name.get("given", []))]).strip(),
        birth_date=str(patient.get("birthDate", "")),
        doses=doses,
    )


def _outcome(result: verify.Result, own_iss: str) -> Outcome:
    if result.valid and result.payload is not None:
        return _shown(result.payload, own_iss)
    reasons = [(r.value, *verify.MESSAGES[r]) for r in result.reasons]
    return Outcome(valid=False, reasons=reasons)


def check(db: Session, ctx: CredentialsContext, data: bytes | str) -> list[Outcome]:
    """Verify at the context clock's time; one outcome per card in the input."""
    version = revocation.crl_version(db, ctx.kid)
    crls = {**ctx.trusted_crls, **revocation.own_crls(db, ctx)}
    at = int(ctx.clock.now().timestamp())
    results = verify.verify(data, ctx.trust_list(version), at, crls)
    return [_outcome(r, ctx.iss) for r in results]
