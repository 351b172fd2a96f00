"""Proxies (代理人): who may act for whom, of which kind, and since when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class ProxyGrant(Base):
    """``proxy_person_id`` may act for ``principal_person_id`` (委任者) while ``state`` is active.

    Kinds: ``legal_parent`` (親権者 of a minor in the same household), ``legal_guardian`` (後見人, registered by
    staff) and ``voluntary`` (任意代理人, invited by the principal with a one-time code that the proxy enters).
    The principal alone revokes (or staff, for legal kinds); the proxy cannot extend or keep it.
    """

    __tablename__ = "identity_proxy_grants"
    __table_args__ = (
        Index("ix_identity_proxy_grants_principal", "principal_person_id", "state"),
        Index("ix_identity_proxy_grants_proxy", "proxy_person_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_person_id: Mapped[int] = mapped_column(Integer)
    proxy_person_id: Mapped[int | None] = mapped_column(
        Integer
    )  # unknown until a voluntary invite is accepted
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # pending | active | revoked
    invite_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
