"""Tables of the trust services: the certification authorities, the certificates they issued, CRL counters.

Serial numbers are 20-byte random positive integers (they do not fit BIGINT): stored as lowercase hexadecimal
without leading zeros, unique. CA private keys are stored only sealed (AES-256-GCM under a key derived from the
master secret, associated data naming the CA)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class CertificateAuthority(Base):
    """One CA: ``root``, ``signature`` (署名用認証局), ``authentication`` (利用者証明用認証局) or ``agency``
    (the Organisation CA of agencies' signing certificates)."""

    __tablename__ = "pki_authorities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # root | issuing
    subject: Mapped[str] = mapped_column(String(300))  # RFC 4514 form, for people
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)  # nonce || AES-GCM(PKCS#8 DER)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Certificate(Base):
    """An end-entity certificate issued to a holder (an opaque reference given by the caller, e.g. ``card:12``)."""

    __tablename__ = "pki_certificates"
    __table_args__ = (Index("ix_pki_certificates_authority_revoked", "authority_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)  # lowercase hex
    authority_id: Mapped[int] = mapped_column(ForeignKey("pki_authorities.id"))
    kind: Mapped[str] = mapped_column(String(16))  # signature | authentication | agency
    holder: Mapped[str] = mapped_column(String(64), index=True)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(String(32))


class CrlState(Base):
    """The last CRL an issuing CA signed: its number (crlNumber, only ever increases), what it listed (a digest
    of the revoked entries), its times and its DER, served again while its content and freshness hold."""

    __tablename__ = "pki_crl_states"

    authority_id: Mapped[int] = mapped_column(ForeignKey("pki_authorities.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(64))
    this_update: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_update: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    der: Mapped[bytes] = mapped_column(LargeBinary)
