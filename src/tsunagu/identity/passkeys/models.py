"""Tables of passkeys (スマホ用の認証情報 as WebAuthn credentials) and of their registration and login ceremonies.

A passkey is a credential of its own, with its own lifecycle: registered after a card login, listed, revoked by
the resident (or on suspicion of cloning), replaced on a phone change. Rows refer to the registry person by id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class PasskeyUser(Base):
    """The WebAuthn user handle of a person: random, opaque, one per person (never the person id or My Number).

    Authenticators store it with a discoverable credential and return it at login."""

    __tablename__ = "identity_passkey_users"

    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Passkey(Base):
    """One registered credential (public key only; the private key never leaves the resident's device)."""

    __tablename__ = "identity_passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    sign_count: Mapped[int] = mapped_column(BigInteger)  # the authenticator's counter (32-bit unsigned)
    transports: Mapped[str] = mapped_column(String(200))  # comma-separated: internal, hybrid, usb, …
    aaguid: Mapped[str] = mapped_column(String(36))  # the authenticator model (zeros when not disclosed)
    label: Mapped[str] = mapped_column(String(64))  # chosen by the resident, e.g. "Pixel 9"
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))  # resident | replaced | clone_suspected


class PasskeyCeremony(Base):
    """A pending registration or login: the SHA-256 of its challenge, single use, valid for a few minutes."""

    __tablename__ = "identity_passkey_ceremonies"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # registration | authentication
    person_id: Mapped[int | None] = mapped_column(Integer)  # who registers; None for a login
    label: Mapped[str | None] = mapped_column(String(64))  # registration: the label of the new passkey
    replaces: Mapped[int | None] = mapped_column(Integer)  # registration: the passkey a phone change replaces
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
