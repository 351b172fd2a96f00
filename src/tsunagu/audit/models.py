"""The audit table: append-only (database triggers refuse UPDATE and DELETE, as for the movement history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(
        String(64)
    )  # staff username, "cli:<user>" or "-" for an unknown caller
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64), default="")  # e.g. "person:123"; never a My Number
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # counts and kinds only: no search text, no address

    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_actor_at", "actor", "at"),
        Index("ix_audit_entries_subject", "subject"),
    )
