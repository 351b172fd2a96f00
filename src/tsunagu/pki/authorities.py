"""The CA hierarchy: created once in the database, then cached in memory (certificates and public keys; private
keys are opened from their sealed form only to sign, and never kept)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import SealedBox, derive_key
from tsunagu.kernel.errors import NotFound
from tsunagu.pki.core import profiles
from tsunagu.pki.core.types import AuthoritySummary, CertificateKind
from tsunagu.pki.models import CertificateAuthority
from tsunagu.settings import Settings

ROOT = "root"
AUTHORITY_NAMES = (ROOT, *(kind.value for kind in CertificateKind))  # root, signature, authentication, agency
KEY_PURPOSE = "pki.ca-key"  # derive_key purpose of the key that seals CA private keys


@dataclass(frozen=True)
class Anchor:
    """A CA of ours as cached in memory."""

    id: int
    name: str
    certificate: x509.Certificate
    der: bytes
    public_key: ec.EllipticCurvePublicKey


class Authorities:
    """The CAs (``root``, ``signature``, ``authentication``, ``agency``) of one platform.

    A database made before a CA was added to the hierarchy (e.g. one with only the first three) keeps verifying
    what its CAs issued (:meth:`ready`), and gets the missing CA on the next :meth:`ensure`."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._anchors: dict[str, Anchor] | None = None
        self._by_issuer: dict[bytes, Anchor] = {}

    @cached_property
    def _sealing_key(self) -> bytes:
        return derive_key(self._settings.master_secret(), KEY_PURPOSE)

    def _box(self, name: str) -> SealedBox:
        return SealedBox(self._sealing_key, f"pki.ca:{name}".encode())

    def ensure(self, db: Session, actor: str) -> None:
        """Create whatever CA is missing (the first time: all of them; each creation audited)."""
        if self._load(db):
            return
        rows = {a.name: a for a in db.scalars(select(CertificateAuthority))}
        now = self._clock.now()
        if ROOT in rows:
            root_cert = x509.load_der_x509_certificate(rows[ROOT].certificate)
            root_key = self.open_key(rows[ROOT])
        else:
            root_key = ec.generate_private_key(ec.SECP256R1())
            root_cert = profiles.build_root(root_key, x509.random_serial_number(), now)
            self._store(db, ROOT, "root", root_cert, root_key, actor)
        for kind in CertificateKind:
            if kind.value not in rows:
                key = ec.generate_private_key(ec.SECP256R1())
                serial = x509.random_serial_number()
                cert = profiles.build_issuing_ca(kind, key.public_key(), serial, root_cert, root_key, now)
                self._store(db, kind.value, "issuing", cert, key, actor)
        db.flush()
        self._load(db)

    def _store(
        self,
        db: Session,
        name: str,
        kind: str,
        cert: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        actor: str,
    ) -> None:
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        db.add(
            CertificateAuthority(
                name=name,
                kind=kind,
                subject=cert.subject.rfc4514_string(),
                certificate=cert.public_bytes(serialization.Encoding.DER),
                sealed_key=self._box(name).seal(pkcs8),
                created_at=self._clock.now(),
            )
        )
        audit.record(db, actor, audit.AuditAction.CA_CREATED, f"ca:{name}", kind=kind)

    def _load(self, db: Session) -> bool:
        """Fill the cache from the table; ``False`` while the hierarchy is incomplete (then the issuing CAs that
        do exist are still known to :meth:`issuing_ca_for`, but nothing is cached: the next call reads again)."""
        if self._anchors is not None:
            return True
        rows = db.execute(
            select(CertificateAuthority.id, CertificateAuthority.name, CertificateAuthority.certificate)
        ).all()
        anchors = {name: _anchor(ca_id, name, der) for ca_id, name, der in rows}
        self._by_issuer = {
            a.certificate.subject.public_bytes(): a for a in anchors.values() if a.name != ROOT
        }
        if set(anchors) != set(AUTHORITY_NAMES):
            return False
        self._anchors = anchors
        return True

    def anchor(self, db: Session, name: str, actor: str) -> Anchor:
        """The CA called ``name`` (the hierarchy is created on first use)."""
        if name not in AUTHORITY_NAMES:
            raise NotFound(
                f"There is no CA named {name!r} ({', '.join(AUTHORITY_NAMES)}).",
                ja="その認証局はありません。",
            )
        self.ensure(db, actor)
        assert self._anchors is not None  # noqa: S101 - ensure() loaded it
        return self._anchors[name]

    def ready(self, db: Session) -> bool:
        """Whether some issuing CA exists, so that a certificate can be checked against it (loading the
        hierarchy into the cache once it is complete); creates nothing. A database whose hierarchy predates a
        newer CA is ready for the CAs it has."""
        return self._load(db) or bool(self._by_issuer)

    def issuing_ca_for(self, cert: x509.Certificate) -> Anchor | None:
        """Our issuing CA whose name is the certificate's issuer (call :meth:`ready` first)."""
        return self._by_issuer.get(cert.issuer.public_bytes())

    def open_key(self, row: CertificateAuthority) -> ec.EllipticCurvePrivateKey:
        """Unseal a CA's private key (AES-GCM; raises ``InvalidTag`` under another master secret)."""
        key = serialization.load_der_private_key(self._box(row.name).open(row.sealed_key), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - we store EC keys only
            msg = f"the key of CA {row.name} is not an EC key"
            raise TypeError(msg)
        return key

    def signing_key(self, db: Session, anchor: Anchor) -> ec.EllipticCurvePrivateKey:
        row = db.get(CertificateAuthority, anchor.id)
        if row is None:  # pragma: no cover - the cache came from this table
            msg = f"CA {anchor.name} vanished"
            raise RuntimeError(msg)
        return self.open_key(row)

    def summaries(self, db: Session, actor: str) -> list[AuthoritySummary]:
        """The CAs, root first."""
        out = []
        for name in AUTHORITY_NAMES:
            cert = self.anchor(db, name, actor).certificate
            out.append(
                AuthoritySummary(
                    name=name,
                    subject=cert.subject.rfc4514_string(),
                    issuer=cert.issuer.rfc4514_string(),
                    serial=cert.serial_number,
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
                )
            )
        return out


def _anchor(ca_id: int, name: str, der: bytes) -> Anchor:
    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - we create EC CAs only
        msg = f"CA {name} does not have an EC key"
        raise TypeError(msg)
    return Anchor(ca_id, name, cert, der, key)
