"""Tables of the linkage domain: agencies, the hub's per-agency codes (符号), legal-basis table versions.

No table holds a My Number. The hub's code table refers to a registry person only through a keyed blind index
(HMAC-SHA-256 of the registry person id) and a sealed copy of that id (AES-256-GCM); the code itself is random
and differs per agency, so two agencies cannot join their copies (副本) without the hub."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Agency(Base):
    """A participating organisation (情報照会者・情報提供者) and its signing key once provisioned."""

    __tablename__ = "linkage_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    certificate_serial: Mapped[str | None] = mapped_column(String(40))  # from the PKI; None until issued
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # SubjectPublicKeyInfo DER
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # nonce || AES-GCM(PKCS#8 DER)
    key_created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AgencyCode(Base):
    """One 符号: the code the hub gave ``agency_id`` for one person (blind index + sealed registry person id)."""

    __tablename__ = "linkage_codes"
    __table_args__ = (
        UniqueConstraint("agency_id", "person_index", name="uq_linkage_codes_agency_person"),
        UniqueConstraint("agency_id", "code", name="uq_linkage_codes_agency_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("linkage_agencies.id"))
    code: Mapped[str] = mapped_column(String(40))
    person_index: Mapped[bytes] = mapped_column(LargeBinary)  # HMAC-SHA-256, 32 bytes
    person_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LegalBasisVersion(Base):
    """A version of the legal-basis table that was loaded (identified by the digest of the file)."""

    __tablename__ = "linkage_legal_basis_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    row_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
