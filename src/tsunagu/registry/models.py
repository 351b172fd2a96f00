"""Tables of the registry domain. Other domains never read these: they call :mod:`tsunagu.registry.api`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Household(Base):
    """世帯. The head (世帯主) is the member whose relationship is ``head``."""

    __tablename__ = "registry_households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Person(Base):
    """Current state of a person (the projection of :class:`PersonEvent`). Rebuildable from the events."""

    __tablename__ = "registry_persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_code: Mapped[str] = mapped_column(String(11), unique=True)  # 住民票コード
    my_number_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # AES-GCM nonce || ciphertext
    my_number_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)  # HMAC blind index
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50))
    family_name_kana: Mapped[str] = mapped_column(String(100))
    given_name_kana: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    lg_code: Mapped[str] = mapped_column(String(6))
    town: Mapped[str] = mapped_column(String(100))
    block: Mapped[str] = mapped_column(String(50))
    building: Mapped[str] = mapped_column(String(100), default="")
    household_id: Mapped[int] = mapped_column(ForeignKey("registry_households.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    registered_on: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    last_event_on: Mapped[dt.date | None] = mapped_column(Date)
    address_suppressed: Mapped[bool] = mapped_column(Boolean, default=False)  # 支援措置 (抑止設定) in force
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a plain dict here

    # Name search is a prefix match ordered by kana: composite indexes serve both the range and the order.
    __table_args__ = (
        Index("ix_registry_persons_kana", "family_name_kana", "given_name_kana"),
        Index("ix_registry_persons_name", "family_name", "given_name"),
    )


class PersonEvent(Base):
    """異動履歴: append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "registry_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    filing_id: Mapped[str | None] = mapped_column(String(36), index=True)  # one 届出 may move several people
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")


class SupportMeasure(Base):
    """住民基本台帳事務における支援措置 (DV, stalking, abuse): while active, the address is shown only to
    staff holding ``registry:suppressed_address:read``."""

    __tablename__ = "registry_support_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_persons.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RegistryImport(Base):
    """One imported CSV file, by SHA-256, so that importing the same file twice does nothing."""

    __tablename__ = "registry_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    persons: Mapped[int] = mapped_column(Integer)
