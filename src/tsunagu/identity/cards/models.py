"""Tables of My Number cards (the municipality's record of each card) and of the software chip's state.

The chip tables hold only sealed private keys (AES-256-GCM under a key derived from the master secret and the card
number), keyed PIN hashes and the failure counters: what a real card keeps inside its chip."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Card(Base):
    """A マイナンバーカード issued to a resident. ``status``: active, suspended, revoked or expired."""

    __tablename__ = "identity_cards"

    serial: Mapped[str] = mapped_column(String(12), primary_key=True)  # card number (not the My Number)
    person_id: Mapped[int] = mapped_column(
        Integer, index=True
    )  # registry person (by id, not by relationship)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)  # last day of validity
    status: Mapped[str] = mapped_column(String(16))
    # PKI certificate serials (as text: X.509 serials reach 159 bits, beyond a BIGINT)
    auth_cert_serial: Mapped[str] = mapped_column(String(64), unique=True)
    signature_cert_serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    signature_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(String(32))  # lost, reissued, death, moved_out, ...
    replaces: Mapped[str | None] = mapped_column(String(12))  # the card this one reissues
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChipRow(Base):
    """The chip of one card: the sealed 券面事項 (name, address, birth date, sex; never the My Number)."""

    __tablename__ = "identity_card_chips"

    serial: Mapped[str] = mapped_column(ForeignKey("identity_cards.serial"), primary_key=True)
    surface_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    surface_written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChipSlotRow(Base):
    """One PIN-protected slot of a chip (authentication, signature, surface): the keyed PIN hash, the failure
    counter and lock, and for certificate slots the sealed private key and the certificate."""

    __tablename__ = "identity_card_chip_slots"

    serial: Mapped[str] = mapped_column(ForeignKey("identity_card_chips.serial"), primary_key=True)
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    pin_hash: Mapped[bytes] = mapped_column(LargeBinary)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed_key: Mapped[bytes | None] = mapped_column(
        LargeBinary
    )  # AES-GCM(PKCS#8 DER); never leaves the chip
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)  # X.509 DER
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
