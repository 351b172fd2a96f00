"""The trust services: the CA hierarchy, issuing, revoking, status, verification and CRLs.

One :class:`TrustServices` per application: it caches the CA certificates after first load and remembers each
certificate's chain check, so ``verify`` costs at most one ECDSA verification plus one indexed query. CA private
keys are opened only to sign. Every method works in the caller's transaction and never commits."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import SignatureAlgorithmOID
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.pki import crls
from tsunagu.pki.authorities import Authorities
from tsunagu.pki.core import profiles
from tsunagu.pki.core.facts import check_facts, read_facts
from tsunagu.pki.core.serials import serial_hex
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
    CertificateRevoked,
    MalformedCertificate,
    UnknownIssuer,
    WrongCertificateKind,
    jst_text,
    utc_text,
)
from tsunagu.pki.models import Certificate, CertificateAuthority, CrlState
from tsunagu.settings import Settings

SYSTEM = "system"
CHECKED_CACHE = 8192  # certificates whose chain check is remembered (a few MB); logins repeat the same cards


@dataclass(frozen=True)
class _Checked:
    """A certificate that parsed and was signed by our issuing CA ``issuer`` (a :class:`CertificateKind` value)."""

    serial: int
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: ec.EllipticCurvePublicKey
    facts: SubjectFacts | None
    organisation: OrganisationSubject | None = None


def trust_services(settings: Settings, clock: Clock) -> TrustServices:
    """The application's one instance (it caches the CA certificates)."""
    return TrustServices(settings, clock)


_CERTIFICATES = cast(Table, Certificate.__table__)
# A Core statement built once (no ORM entity loading): verify runs on every card login.
_STATUS = select(_CERTIFICATES.c.holder, _CERTIFICATES.c.revoked_at, _CERTIFICATES.c.revocation_reason).where(
    _CERTIFICATES.c.serial == bindparam("serial")
)


class TrustServices:
    """The trust services of one platform. Build one per application with :func:`trust_services`."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self.hierarchy = Authorities(settings, clock)
        self._checked = functools.lru_cache(maxsize=CHECKED_CACHE)(self._check)

    # --- the hierarchy -----------------------------------------------------------------------------------------

    def ensure_hierarchy(self, db: Session, *, actor: str = SYSTEM) -> None:
        """Create the root and the issuing CAs (signature, authentication, agency) once; idempotent, and a
        database made before a CA was added gets just the missing one (each creation is audited)."""
        self.hierarchy.ensure(db, actor)

    def ca_certificate(self, db: Session, name: str) -> bytes:
        """DER of ``root``, ``signature``, ``authentication`` or ``agency`` (the hierarchy is created on first
        use)."""
        return self.hierarchy.anchor(db, name, SYSTEM).der

    def authorities(self, db: Session) -> list[AuthoritySummary]:
        """The CAs, root first: subjects, validity, fingerprints."""
        return self.hierarchy.summaries(db, SYSTEM)

    # --- issuing and revoking ----------------------------------------------------------------------------------

    def crl_url(self, kind: CertificateKind) -> str:
        return f"{self._settings.public_url}/pki/crl/{kind.value}.crl"

    def issue(
        self,
        db: Session,
        kind: CertificateKind,
        public_key: ec.EllipticCurvePublicKey,
        not_after: dt.datetime,
        holder: str,
        facts: SubjectFacts | None = None,
        *,
        organisation: OrganisationSubject | None = None,
        actor: str = SYSTEM,
    ) -> IssuedCertificate:
        """Issue a certificate of ``kind`` for ``public_key`` to ``holder`` (facts required for SIGNATURE,
        refused for the other kinds; ``organisation`` required for AGENCY, refused for the card kinds). Audited."""
        kind = CertificateKind(kind)
        _check_request(kind, public_key, holder, facts, organisation)
        anchor = self.hierarchy.anchor(db, kind.value, actor)
        now = self._clock.now()
        if not_after.tzinfo is None or not_after <= now:
            raise InvalidInput(
                "not_after must be an aware time in the future.", ja="有効期限が正しくありません。"
            )
        if not_after > anchor.certificate.not_valid_after_utc:
            raise InvalidInput(
                "not_after is beyond the issuing CA's own validity.",
                ja="有効期限が認証局の有効期間を超えています。",
            )
        request = profiles.EndEntityRequest(
            kind,
            public_key,
            x509.random_serial_number(),
            now,
            not_after,
            self.crl_url(kind),
            facts,
            organisation,
        )
        cert = profiles.build_end_entity(request, anchor.certificate, self.hierarchy.signing_key(db, anchor))
        der = cert.public_bytes(serialization.Encoding.DER)
        serial = serial_hex(cert.serial_number)
        db.add(
            Certificate(
                serial=serial,
                authority_id=anchor.id,
                kind=kind.value,
                holder=holder,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                der=der,
                issued_at=now,
            )
        )
        audit.record(
            db,
            actor,
            audit.AuditAction.CERTIFICATE_ISSUED,
            f"certificate:{serial}",
            kind=kind.value,
            holder=holder,
        )
        return IssuedCertificate(
            cert.serial_number, kind, der, cert.not_valid_before_utc, cert.not_valid_after_utc
        )

    def revoke(self, db: Session, serial: int, reason: RevocationReason, *, actor: str = SYSTEM) -> bool:
        """Revoke a certificate. Idempotent: ``False`` when nothing changed. The first revocation time is kept;
        a hold (``CERTIFICATE_HOLD``) may be turned into a permanent revocation. Audited when it changes."""
        reason = RevocationReason(reason)
        row = self._row_for_update(db, serial)
        if row.revoked_at is None:
            row.revoked_at = self._clock.now().replace(microsecond=0)  # CRLs carry whole seconds
        elif (
            row.revocation_reason == RevocationReason.CERTIFICATE_HOLD
            and reason != RevocationReason.CERTIFICATE_HOLD
        ):
            pass  # a held certificate is now revoked for good, still as from the hold
        else:
            return False
        row.revocation_reason = reason.value
        audit.record(
            db,
            actor,
            audit.AuditAction.CERTIFICATE_REVOKED,
            f"certificate:{row.serial}",
            kind=row.kind,
            reason=reason.value,
        )
        return True

    def release_hold(self, db: Session, serial: int, *, actor: str = SYSTEM) -> bool:
        """End a hold (一時保留の解除, when a suspended card is restored). ``False`` if it was not on hold."""
        row = self._row_for_update(db, serial)
        if row.revocation_reason != RevocationReason.CERTIFICATE_HOLD:
            return False
        row.revoked_at, row.revocation_reason = None, None
        audit.record(
            db,
            actor,
            audit.AuditAction.CERTIFICATE_REVOKED,
            f"certificate:{row.serial}",
            kind=row.kind,
            reason="hold_released",
        )
        return True

    def revoke_holder(
        self,
        db: Session,
        holder: str,
        reason: RevocationReason,
        kind: CertificateKind | None = None,
        *,
        actor: str = SYSTEM,
    ) -> list[int]:
        """Revoke every live certificate of ``holder`` (of one ``kind``, or both); the serials that changed."""
        stmt = select(Certificate.serial).where(Certificate.holder == holder)
        if kind is not None:
            stmt = stmt.where(Certificate.kind == CertificateKind(kind).value)
        serials = [int(s, 16) for s in db.scalars(stmt.order_by(Certificate.id))]
        return [s for s in serials if self.revoke(db, s, reason, actor=actor)]

    def _row_for_update(self, db: Session, serial: int) -> Certificate:
        row = db.scalars(
            select(Certificate).where(Certificate.serial == serial_hex(serial)).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound(
                "No certificate of ours has this serial number.", ja="その電子証明書は見つかりません。"
            )
        return row

    def certificate(self, db: Session, serial: int) -> IssuedCertificate | None:
        """A certificate we issued, by serial (``None`` if we have none with it); see :meth:`status` for its
        revocation."""
        row = db.scalars(select(Certificate).where(Certificate.serial == serial_hex(serial))).one_or_none()
        if row is None:
            return None
        return IssuedCertificate(serial, CertificateKind(row.kind), row.der, row.not_before, row.not_after)

    # --- status and verification -------------------------------------------------------------------------------

    def status(self, db: Session, serial: int, *, actor: str | None = None) -> CertificateStatus:
        """good | revoked | unknown. Audited (``CERTIFICATE_STATUS_QUERIED``) when an ``actor`` is given."""
        row = db.execute(
            select(
                Certificate.kind, Certificate.not_after, Certificate.revoked_at, Certificate.revocation_reason
            ).where(Certificate.serial == serial_hex(serial))
        ).one_or_none()
        if row is None:
            result = CertificateStatus(serial, "unknown", None, None)
        else:
            kind, not_after, revoked_at, reason = row
            state = "good" if revoked_at is None else "revoked"
            result = CertificateStatus(serial, state, revoked_at, reason, CertificateKind(kind), not_after)
        if actor is not None:
            audit.record(
                db,
                actor,
                audit.AuditAction.CERTIFICATE_STATUS_QUERIED,
                f"certificate:{serial_hex(serial)}"[:64],
                state=result.state,
            )
        return result

    def verify(
        self, db: Session, der: bytes, kind: CertificateKind, at: dt.datetime | None = None
    ) -> VerifiedCertificate:
        """Accept ``der`` only if our CA of ``kind`` issued it, it is valid at ``at`` (default now) and not
        revoked at ``at``. Raises a :class:`~tsunagu.pki.errors.CertificateRefused` otherwise."""
        verified, _revoked_at, _reason = self._verify(db, der, CertificateKind(kind), self._instant(at))
        return verified

    def _instant(self, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return self._clock.now()
        if at.tzinfo is None:
            raise InvalidInput("The time must be an aware datetime.", ja="日時にはタイムゾーンが必要です。")
        return at

    def _verify(
        self, db: Session, der: bytes, kind: CertificateKind, at: dt.datetime
    ) -> tuple[VerifiedCertificate, dt.datetime | None, str | None]:
        if not self.hierarchy.ready(db):  # no CA yet: nothing can be ours
            _parse(der)
            raise UnknownIssuer
        checked = self._checked(der)
        if checked.issuer != kind.value:
            raise WrongCertificateKind
        if at < checked.not_before:
            raise CertificateNotYetValid
        if at > checked.not_after:
            raise CertificateExpired
        row = db.connection().execute(_STATUS, {"serial": serial_hex(checked.serial)}).one_or_none()
        if row is None:  # signed by our CA but not in our records (a database restored from an old backup?)
            raise UnknownIssuer("The certificate is not in this platform's records.")
        holder, revoked_at, reason = row
        if revoked_at is not None and revoked_at <= at:
            raise CertificateRevoked(revoked_at)
        verified = VerifiedCertificate(
            checked.serial,
            kind,
            holder,
            checked.not_before,
            checked.not_after,
            checked.public_key,
            checked.facts,
            checked.organisation,
        )
        return verified, revoked_at, reason

    def _check(self, der: bytes) -> _Checked:
        """What the certificate's bytes alone establish: parsed, and signed by one of our issuing CAs (one
        ECDSA verification against that CA's cached public key). Memoised per DER (refusals are not)."""
        cert = _parse(der)
        anchor = self.hierarchy.issuing_ca_for(cert)
        if anchor is None or cert.signature_algorithm_oid != SignatureAlgorithmOID.ECDSA_WITH_SHA256:
            raise UnknownIssuer
        try:
            anchor.public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise UnknownIssuer from exc
        public_key = cert.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):  # pragma: no cover - we issue EC only
            raise MalformedCertificate
        try:
            facts = read_facts(cert) if anchor.name == CertificateKind.SIGNATURE.value else None
            organisation = (
                profiles.read_organisation(cert) if anchor.name == CertificateKind.AGENCY.value else None
            )
        except ValueError as exc:
            raise MalformedCertificate from exc
        return _Checked(
            cert.serial_number,
            anchor.name,
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
            public_key,
            facts,
            organisation,
        )

    def verify_signature(
        self,
        db: Session,
        der: bytes,
        kind: CertificateKind,
        data: bytes,
        signature: bytes,
        signed_at: dt.datetime | None = None,
    ) -> SignatureVerdict:
        """Check an ECDSA-SHA256 (DER) signature over ``data`` made with the certificate's key at ``signed_at``
        (default now). The certificate must have been valid then (refusals raise as in :meth:`verify`); a
        revocation after ``signed_at`` leaves the signature valid and is reported in ``revoked_at``."""
        verified, revoked_at, reason = self._verify(db, der, CertificateKind(kind), self._instant(signed_at))
        try:
            verified.public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return SignatureVerdict(
                False,
                verified,
                revoked_at,
                "The signature does not match the data and the certificate.",
                "署名が検証できませんでした（データまたは署名が改変されているか、別の鍵で署名されています）。",
                reason,
            )
        if revoked_at is not None:
            return SignatureVerdict(
                True,
                verified,
                revoked_at,
                f"Valid signature; the certificate was revoked at {utc_text(revoked_at)}, after signing.",
                f"署名は有効です。ただし電子証明書は署名の後、{jst_text(revoked_at)} に失効しています。",
                reason,
            )
        return SignatureVerdict(True, verified, None, "Valid signature.", "署名は有効です。")

    # --- CRLs --------------------------------------------------------------------------------------------------

    def crl(self, db: Session, kind: CertificateKind) -> bytes:
        """The DER CRL of the issuing CA of ``kind``. The last one is served again while its content is
        unchanged and it is fresh (under 12 h old); otherwise a new one is signed with crlNumber + 1, valid 24 h.
        Every revoked certificate stays listed (none is dropped at expiry)."""
        anchor = self.hierarchy.anchor(db, CertificateKind(kind).value, SYSTEM)
        now = self._clock.now()
        entries, digest = crls.revoked_entries(db, anchor.id)
        state = crls.last_crl(db, anchor.id)
        if (served := crls.servable(state, digest, now)) is not None:
            return served
        # Serialise CRL signing per CA (a row lock on PostgreSQL; SQLite has one writer anyway) so that two
        # requests never sign two different CRLs under one number; then look again at what is committed.
        db.execute(
            select(CertificateAuthority.id).where(CertificateAuthority.id == anchor.id).with_for_update()
        )
        entries, digest = crls.revoked_entries(db, anchor.id)
        state = crls.last_crl(db, anchor.id)
        if (served := crls.servable(state, digest, now)) is not None:
            return served
        number = 1 if state is None else state.number + 1
        signing_key = self.hierarchy.signing_key(db, anchor)
        crl = profiles.build_crl(anchor.certificate, signing_key, entries, number, now, now + crls.LIFETIME)
        der = crl.public_bytes(serialization.Encoding.DER)
        if state is None:
            state = CrlState(authority_id=anchor.id)
            db.add(state)
        state.number, state.content_digest, state.der = number, digest, der
        state.this_update, state.next_update = crl.last_update_utc, crl.next_update_utc or now + crls.LIFETIME
        return der


def _parse(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, TypeError) as exc:
        raise MalformedCertificate from exc


def _check_request(
    kind: CertificateKind,
    public_key: object,
    holder: str,
    facts: SubjectFacts | None,
    organisation: OrganisationSubject | None,
) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise InvalidInput(
            "The public key must be a P-256 (secp256r1) key.", ja="公開鍵は P-256 の鍵にしてください。"
        )
    if not holder or len(holder) > 64:
        raise InvalidInput(
            "The holder reference must have 1 to 64 characters.", ja="保有者の参照が正しくありません。"
        )
    if kind is CertificateKind.AUTHENTICATION and facts is not None:
        raise InvalidInput(
            "A user-authentication certificate carries no personal attributes; give no facts.",
            ja="利用者証明用電子証明書には個人の属性を記録しません。",
        )
    if kind is CertificateKind.AGENCY and facts is not None:
        raise InvalidInput(
            "An agency certificate carries no personal attributes; give no facts.",
            ja="組織の電子証明書には個人の属性を記録しません。",
        )
    if kind is CertificateKind.SIGNATURE and facts is None:
        raise InvalidInput(
            "A signature certificate needs the basic 4 facts (name, address, birth date, sex).",
            ja="署名用電子証明書には基本4情報（氏名・住所・生年月日・性別）が必要です。",
        )
    try:
        check_facts(kind, facts)
    except ValueError as exc:
        raise InvalidInput(
            f"The facts cannot be certified: {exc}.", ja="基本4情報の形式が正しくありません。"
        ) from exc
    try:
        profiles.check_organisation(kind, organisation)
    except ValueError as exc:
        raise InvalidInput(
            f"The organisation cannot be certified: {exc}.", ja="組織の名称またはコードが正しくありません。"
        ) from exc
