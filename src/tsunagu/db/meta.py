"""Platform metadata (key → JSON), e.g. which demo seed has been loaded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from tsunagu.db.base import Base


class Meta(Base):
    __tablename__ = "platform_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


def get_meta(db: Session, key: str) -> dict[str, Any] | None:
    row = db.get(Meta, key)
    return None if row is None else dict(row.value)


def set_meta(db: Session, key: str, value: dict[str, Any]) -> None:
    row = db.get(Meta, key)
    if row is None:
        db.add(Meta(key=key, value=value))
    else:
        row.value = value
