"""Services of the linkage domain: load the agencies and the legal-basis table, issue and translate 符号, and
prepare agencies' signing keys. They work in the caller's transaction and never commit (the edge owns it)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import JST, Clock
from tsunagu.linkage import sources
from tsunagu.linkage.core.dictionary import AgencyEntry
from tsunagu.linkage.core.legal_basis import Decision, LegalBasisTable, authorise
from tsunagu.linkage.errors import (
    AgencyCertificateInvalid,
    AgencyInactive,
    NotPermittedByLegalBasis,
    TableVersionConflict,
    UnknownAgency,
    UnknownCode,
)
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.models import Agency, AgencyCode, LegalBasisVersion
from tsunagu.pki import api as pki

CODE_BYTES = 20  # 160 random bits per code, written as 32 base32 characters
KEY_ALGORITHM = "ecdsa-p256-sha256"


@dataclass(frozen=True)
class AgencyView:
    code: str
    type: str
    name_ja: str
    name_en: str
    active: bool
    certificate_serial: str | None
    has_key: bool


@dataclass(frozen=True)
class LoadResult:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class LoadedTable:
    version: str
    digest: str
    loaded_now: bool


@dataclass(frozen=True)
class AgencyKeyRecord:
    """What provisioning did: the agency's signing key (sealed in the hub) and its certificate from the PKI."""

    agency: str
    agency_type: str
    algorithm: str
    public_key_sha256: str  # of the SubjectPublicKeyInfo DER, hex
    public_key_pem: str
    created_at: dt.datetime
    certificate_serial: str  # lowercase hex, as the PKI stores it
    certificate_der: bytes  # an AGENCY certificate from the PKI's Organisation CA, holder ``agency:<code>``
    certificate_not_after: dt.datetime
    status: str  # "certificate-issued"


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or Clock()).now()


# --- agencies and the table --------------------------------------------------------------------------------------


def load_agencies(db: Session, entries: tuple[AgencyEntry, ...] | None = None) -> LoadResult:
    """Insert or update the agencies of ``data/agencies.csv`` by code (idempotent). Agencies missing from the file
    are left as they are (deactivate them explicitly); keys and certificates are never touched."""
    existing = {a.code: a for a in db.scalars(select(Agency))}
    added = updated = unchanged = 0
    for entry in entries if entries is not None else sources.agencies():
        row = existing.get(entry.code)
        if row is None:
            db.add(
                Agency(code=entry.code, type=entry.type.value, name_ja=entry.name_ja, name_en=entry.name_en)
            )
            added += 1
        elif (row.type, row.name_ja, row.name_en) != (entry.type.value, entry.name_ja, entry.name_en):
            row.type, row.name_ja, row.name_en = entry.type.value, entry.name_ja, entry.name_en
            updated += 1
        else:
            unchanged += 1
    db.flush()
    return LoadResult(added, updated, unchanged)


def list_agencies(db: Session) -> list[AgencyView]:
    return [
        AgencyView(
            a.code, a.type, a.name_ja, a.name_en, a.active, a.certificate_serial, a.public_key is not None
        )
        for a in db.scalars(select(Agency).order_by(Agency.code))
    ]


def load_legal_basis(
    db: Session, table: LegalBasisTable | None = None, *, clock: Clock | None = None
) -> LoadedTable:
    """Record the table version in force (idempotent by digest). The same version with other content is refused:
    a changed table needs a new version."""
    table = table or sources.legal_basis()
    found = db.scalar(select(LegalBasisVersion).where(LegalBasisVersion.digest == table.digest))
    if found is not None:
        return LoadedTable(found.version, found.digest, loaded_now=False)
    if db.scalar(select(LegalBasisVersion).where(LegalBasisVersion.version == table.version)) is not None:
        raise TableVersionConflict(
            f"Legal-basis table version {table.version} was loaded before with other content; "
            "give the changed table a new version.",
            ja=f"別表の版 {table.version} は別の内容で読み込み済みです。版を改めてください。",
        )
    db.add(
        LegalBasisVersion(
            version=table.version,
            effective_on=table.effective,
            digest=table.digest,
            row_count=len(table.rows),
            loaded_at=_now(clock),
        )
    )
    db.flush()
    return LoadedTable(table.version, table.digest, loaded_now=True)


def loaded_versions(db: Session) -> list[tuple[str, dt.date, str, dt.datetime]]:
    rows = db.scalars(select(LegalBasisVersion).order_by(LegalBasisVersion.id))
    return [(r.version, r.effective_on, r.digest, r.loaded_at) for r in rows]


# --- codes (符号) ------------------------------------------------------------------------------------------------


def _agency(db: Session, code: str, *, active: bool = True) -> Agency:
    row = db.scalar(select(Agency).where(Agency.code == code))
    if row is None:
        raise UnknownAgency(
            f"No agency with code {code!r}.", ja=f"機関コード {code!r} は登録されていません。"
        )
    if active and not row.active:
        raise AgencyInactive(f"Agency {code} is not active.", ja=f"機関 {code} は現在利用できません。")
    return row


def _new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode().rstrip("=")


def _issued(db: Session, agency: Agency, index: bytes) -> str | None:
    return db.scalar(
        select(AgencyCode.code).where(AgencyCode.agency_id == agency.id, AgencyCode.person_index == index)
    )


def _issue(db: Session, keys: LinkageKeys, agency: Agency, person_id: int, clock: Clock | None) -> str:
    index = keys.index(person_id)
    found = _issued(db, agency, index)
    if found is not None:
        return found
    code = _new_code()
    try:
        with db.begin_nested():  # another transaction may issue the same person's first code at the same time
            db.add(
                AgencyCode(
                    agency_id=agency.id,
                    code=code,
                    person_index=index,
                    person_sealed=keys.seal_person(person_id),
                    issued_at=_now(clock),
                )
            )
    except IntegrityError:
        found = _issued(db, agency, index)  # theirs won: use it (the code stays stable)
        if found is None:
            raise
        return found
    return code


def code_for(
    db: Session, keys: LinkageKeys, agency_code: str, person_id: int, *, clock: Clock | None = None
) -> str:
    """The agency's 符号 for a registry person (issued on first use, the same afterwards; different per agency).

    Called at the registry edge, which has already turned a My Number into a person id."""
    return _issue(db, keys, _agency(db, agency_code), person_id, clock)


def _row_for(db: Session, agency: Agency, code: str) -> AgencyCode | None:
    return db.scalar(select(AgencyCode).where(AgencyCode.agency_id == agency.id, AgencyCode.code == code))


def person_for(db: Session, keys: LinkageKeys, agency_code: str, code: str) -> int | None:
    """Hub side only: the registry person id behind an agency's code, or ``None`` if the hub never issued it."""
    row = _row_for(db, _agency(db, agency_code, active=False), code)
    return None if row is None else keys.open_person(row.person_sealed)


def translate(
    db: Session, keys: LinkageKeys, from_agency: str, code: str, to_agency: str, *, clock: Clock | None = None
) -> str:
    """The hub's translation of ``from_agency``'s code into ``to_agency``'s code for the same person (issuing it
    if needed). Only codes cross the boundary; the person id stays inside the hub."""
    source = _agency(db, from_agency)
    target = _agency(db, to_agency)
    row = _row_for(db, source, code)
    if row is None:
        raise UnknownCode(
            f"Agency {from_agency} holds no such code.", ja=f"機関 {from_agency} にこの符号はありません。"
        )
    return _issue(db, keys, target, keys.open_person(row.person_sealed), clock)


# --- agency signing keys ------------------------------------------------------------------------------------------


def provision_agency_certificate(
    db: Session,
    trust: pki.TrustServices,
    keys: LinkageKeys,
    agency_code: str,
    *,
    clock: Clock | None = None,
) -> AgencyKeyRecord:
    """Give the agency a signing key (EC P-256, sealed in the hub) and an AGENCY certificate for it from the PKI
    (subject ``O=<name_ja>, CN=<code>``, holder ``agency:<code>``, 2 years); the serial is stored on the agency row.

    Idempotent: while the stored certificate is live (not revoked, not expired) it is returned as it is; after a
    revocation or expiry a new certificate is issued for the same key (a compromised key is replaced by clearing
    the agency's key first). The public key certified is derived from the sealed private key, not taken from the
    stored copy, and the two must agree."""
    agency = _agency(db, agency_code)
    if agency.sealed_key is None or agency.public_key is None:
        private = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        agency.sealed_key = keys.agency_key_box.seal(pkcs8)
        agency.public_key = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        agency.key_created_at = _now(clock)
        db.flush()
    certificate = _live_certificate(db, trust, agency, _now(clock))
    if certificate is None:
        certificate = _certify(db, trust, keys, agency, _now(clock))
    return _key_record(agency, agency.public_key, agency.key_created_at or _now(clock), certificate)


def agency_holder(agency_code: str) -> str:
    """The holder reference of an agency's certificates in the PKI."""
    return f"agency:{agency_code}"


def _live_certificate(
    db: Session, trust: pki.TrustServices, agency: Agency, now: dt.datetime
) -> pki.IssuedCertificate | None:
    """The agency's stored certificate if it is still usable: ours, of kind AGENCY, unrevoked, unexpired, and
    for the agency's current key."""
    if agency.certificate_serial is None:
        return None
    serial = int(agency.certificate_serial, 16)
    certificate = trust.certificate(db, serial)
    if (
        certificate is None
        or certificate.kind is not pki.CertificateKind.AGENCY
        or certificate.not_after <= now
    ):
        return None
    if trust.status(db, serial).state != "good":
        return None
    certified = x509.load_der_x509_certificate(certificate.der).public_key()
    spki = certified.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if spki != agency.public_key:  # the key was replaced since: certify the new one
        return None
    return certificate


def _certify(
    db: Session, trust: pki.TrustServices, keys: LinkageKeys, agency: Agency, now: dt.datetime
) -> pki.IssuedCertificate:
    if agency.sealed_key is None:  # pragma: no cover - provisioning made the key first
        msg = f"agency {agency.code} has no signing key"
        raise RuntimeError(msg)
    private = serialization.load_der_private_key(keys.agency_key_box.open(agency.sealed_key), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):  # pragma: no cover - we seal EC keys only
        msg = f"the signing key of agency {agency.code} is not an EC key"
        raise TypeError(msg)
    public = private.public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if spki != agency.public_key:
        msg = f"the stored public key of agency {agency.code} does not match its sealed private key"
        raise RuntimeError(msg)
    certificate = trust.issue(
        db,
        pki.CertificateKind.AGENCY,
        public,
        pki.agency_validity_end(now.astimezone(JST).date()),
        agency_holder(agency.code),
        organisation=pki.OrganisationSubject(agency.code, agency.name_ja),
    )
    agency.certificate_serial = format(certificate.serial, "x")
    db.flush()
    return certificate


def _key_record(
    agency: Agency, public_der: bytes, created_at: dt.datetime, certificate: pki.IssuedCertificate
) -> AgencyKeyRecord:
    public = serialization.load_der_public_key(public_der)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return AgencyKeyRecord(
        agency=agency.code,
        agency_type=agency.type,
        algorithm=KEY_ALGORITHM,
        public_key_sha256=hashlib.sha256(public_der).hexdigest(),
        public_key_pem=pem.decode(),
        created_at=created_at,
        certificate_serial=format(certificate.serial, "x"),
        certificate_der=certificate.der,
        certificate_not_after=certificate.not_after,
        status="certificate-issued",
    )


# --- the legal basis, between agencies ---------------------------------------------------------------------------


def require_legal_basis(
    db: Session,
    requester_agency: str,
    business_code: str,
    provider_agency: str,
    items: tuple[str, ...],
    table: LegalBasisTable | None = None,
) -> Decision:
    """Authorise a request between two registered, active agencies; raise :class:`NotPermittedByLegalBasis`
    naming what the table lacks."""
    requester = _agency(db, requester_agency)
    provider = _agency(db, provider_agency)
    decision = authorise(table or sources.legal_basis(), requester.type, business_code, provider.type, items)
    if not decision.allowed:
        raise NotPermittedByLegalBasis(
            decision.reason,
            ja=decision.reason_ja,
            refusal=decision.refusal.value if decision.refusal else None,
            missing=list(decision.missing),
        )
    return decision


# --- what the exchange needs from the agency and code tables ----------------------------------------------------


def signing_key(db: Session, keys: LinkageKeys, agency_code: str) -> ec.EllipticCurvePrivateKey:
    """The private key of an agency whose key the hub holds (in-process agencies and the hub itself)."""
    agency = _agency(db, agency_code)
    if agency.sealed_key is None:
        raise AgencyInactive(
            f"Agency {agency_code} has no signing key yet.",
            ja=f"機関 {agency_code} には署名鍵がまだありません。",
        )
    private = serialization.load_der_private_key(keys.agency_key_box.open(agency.sealed_key), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):  # pragma: no cover - we seal EC keys only
        msg = f"the signing key of agency {agency_code} is not an EC key"
        raise TypeError(msg)
    return private


def verification_key(
    db: Session, trust: pki.TrustServices, agency_code: str, *, clock: Clock | None = None
) -> ec.EllipticCurvePublicKey:
    """The public key certified for an active agency by a live (unrevoked, unexpired) AGENCY certificate.

    Raises :class:`UnknownAgency`, :class:`AgencyInactive` or :class:`AgencyCertificateInvalid`."""
    agency = _agency(db, agency_code)
    certificate = _live_certificate(db, trust, agency, _now(clock))
    if certificate is None:
        raise AgencyCertificateInvalid(
            f"Agency {agency_code} has no valid signing certificate (missing, revoked or expired).",
            ja=f"機関 {agency_code} の署名用証明書が有効ではありません（未発行・失効・期限切れ）。",
        )
    public = x509.load_der_x509_certificate(certificate.der).public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):  # pragma: no cover - AGENCY certificates are EC
        msg = f"the certificate of agency {agency_code} does not carry an EC key"
        raise TypeError(msg)
    return public


@dataclass(frozen=True)
class AgencyInfo:
    """What the exchange needs of an agency on every message (cached by the key ring)."""

    id: int
    code: str
    type: str
    active: bool


_AGENCIES = cast(Table, Agency.__table__)
_CODES = cast(Table, AgencyCode.__table__)


def agency_info(db: Session, agency_code: str) -> AgencyInfo:
    """The agency row as a small value; raises :class:`UnknownAgency` (inactive agencies are returned, marked)."""
    a = _AGENCIES.c
    row = db.connection().execute(select(a.id, a.type, a.active).where(a.code == agency_code)).first()
    if row is None:
        raise UnknownAgency(
            f"No agency with code {agency_code!r}.", ja=f"機関コード {agency_code!r} は登録されていません。"
        )
    return AgencyInfo(row.id, agency_code, row.type, bool(row.active))


_MINE, _THEIRS = _CODES.alias("mine"), _CODES.alias("theirs")
_TRANSLATE = (
    select(_MINE.c.person_index, _MINE.c.person_sealed, _THEIRS.c.code)
    .select_from(
        _MINE.outerjoin(
            _THEIRS,
            (_THEIRS.c.person_index == _MINE.c.person_index) & (_THEIRS.c.agency_id == bindparam("target")),
        )
    )
    .where(_MINE.c.agency_id == bindparam("source"), _MINE.c.code == bindparam("code"))
)


def translate_for_exchange(
    db: Session,
    keys: LinkageKeys,
    source: AgencyInfo,
    code: str,
    target: AgencyInfo,
    *,
    clock: Clock | None = None,
) -> tuple[str, bytes]:
    """The hub's translation on the hot path: ``(target's code, the person's blind index)`` in one query when
    the target's code exists already (it is issued on first use otherwise). Raises :class:`UnknownCode`."""
    row = (
        db.connection().execute(_TRANSLATE, {"source": source.id, "code": code, "target": target.id}).first()
    )
    if row is None:
        raise UnknownCode(
            f"Agency {source.code} holds no such code.", ja=f"機関 {source.code} にこの符号はありません。"
        )
    if row.code is not None:
        return row.code, row.person_index
    # The target's first code is issued and committed on its own, before anything is forwarded: the exchange's
    # transaction must not hold a write (on SQLite, the database's one writer lock) while a provider in another
    # process answers and writes its own log. Issuing is idempotent, so a later refusal leaves nothing wrong.
    with Session(bind=db.get_bind()) as other:
        issued = _issue(other, keys, _agency(other, target.code), keys.open_person(row.person_sealed), clock)
        other.commit()
    return issued, row.person_index
