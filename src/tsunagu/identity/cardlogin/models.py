"""Tables of the card-login protocol: single-use challenges and 2D-code (QR) logins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class CardLoginChallenge(Base):
    """A burnt (answered) challenge: written once when answered, so a second answer finds it (single use). Issued
    challenges are not stored (see ``services.ChallengeKey``); rows are purged once expired."""

    __tablename__ = "identity_card_login_challenges"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # the challenge id (carries a MAC)
    nonce: Mapped[str] = mapped_column(String(64))  # empty: the nonce is derived from the id
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    qr_login_id: Mapped[str | None] = mapped_column(
        String(32)
    )  # set when the login completes a 2D-code login


class QrLogin(Base):
    """2D-code login: the PC shows a QR code; a phone completes a card login for it; the PC's session opens.

    Only the browser that started it holds ``pc_secret`` (a cookie; its SHA-256 is stored), so only that PC
    gets the session. Both screens show the same short ``confirmation`` code for the person to compare.
    """

    __tablename__ = "identity_qr_logins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pc_secret_hash: Mapped[str] = mapped_column(String(64))
    confirmation: Mapped[str] = mapped_column(String(8))
    next_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))  # pending | completed | consumed
    person_id: Mapped[int | None] = mapped_column(Integer)
    display_name: Mapped[str | None] = mapped_column(String(200))
