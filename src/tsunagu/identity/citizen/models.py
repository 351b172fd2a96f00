"""Tables of citizen (portal) sessions and the login history a resident can read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class CitizenSession(Base):
    """A resident's server-side session: the cookie holds a random id; only its SHA-256 is stored.

    It ends at the first of: idle timeout, absolute timeout, logout, "log out everywhere", or a card suspension.
    """

    __tablename__ = "identity_citizen_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        Integer, index=True
    )  # registry person (by id, not by relationship)
    display_name: Mapped[str] = mapped_column(String(200))  # the name at login, shown in the header
    method: Mapped[str] = mapped_column(String(16))  # card | passkey | qr
    acr: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    absolute_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    signature_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # last 署名用 PIN re-check
    acting_for: Mapped[int | None] = mapped_column(Integer)  # person acted for as a proxy (代理人)
    acting_for_name: Mapped[str | None] = mapped_column(String(200))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginRecord(Base):
    """One login attempt of a resident (successful or refused), listed on the resident's own page."""

    __tablename__ = "identity_login_records"
    __table_args__ = (Index("ix_identity_login_records_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(16))  # card | passkey | qr
    relying_party: Mapped[str | None] = mapped_column(String(100))  # OIDC client id; None for the portal
    outcome: Mapped[str] = mapped_column(String(16))  # succeeded | refused
    reason: Mapped[str | None] = mapped_column(String(64))  # for refusals: wrong_pin, revoked, …
