"""Tables of the exchange: the hub's record of each exchange, the agencies' own logs, refusals, the agencies'
copies (副本) and the endpoints of agencies that run as their own node.

No table holds a My Number. The hub's record refers to the person through the keyed blind index the code table
uses (``person_index``), so the portal can list a person's exchanges; agency logs and copies hold only that
agency's own code. The record, the logs and the refusals are append-only (database triggers refuse UPDATE and
DELETE, as for the Merkle log)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Exchange(Base):
    """The hub's record of one completed exchange (情報提供等記録); its leaf in the Merkle log is ``leaf_index``."""

    __tablename__ = "linkage_exchanges"
    __table_args__ = (
        UniqueConstraint("requester", "request_id", name="uq_linkage_exchanges_request"),
        Index("ix_linkage_exchanges_person", "person_index", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(36), unique=True)
    requester: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(36))
    request_hash: Mapped[str] = mapped_column(String(43))
    provider: Mapped[str] = mapped_column(String(32))
    business: Mapped[str] = mapped_column(String(32))
    items: Mapped[str] = mapped_column(String(1200))  # space-separated item codes, as asked
    withheld: Mapped[str] = mapped_column(
        String(1200), default=""
    )  # items marked not disclosable (art. 23(2))
    by_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    person_index: Mapped[bytes] = mapped_column(LargeBinary)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    leaf_index: Mapped[int] = mapped_column(Integer, unique=True)
    reply: Mapped[str] = mapped_column(Text)  # the signed reply, returned again for a repeated request id


class AgencyLogEntry(Base):
    """An agency's own record of an exchange it took part in, as requester or as provider (番号法 art. 23)."""

    __tablename__ = "linkage_agency_log"
    __table_args__ = (
        UniqueConstraint("agency", "role", "exchange_id", name="uq_linkage_agency_log_exchange"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16))  # requester | provider
    exchange_id: Mapped[str] = mapped_column(String(36))
    message_id: Mapped[str] = mapped_column(
        String(36)
    )  # the request's id (requester) or the answer's (provider)
    counterpart: Mapped[str] = mapped_column(String(32))
    business: Mapped[str] = mapped_column(String(32))
    items: Mapped[str] = mapped_column(String(1200))
    withheld: Mapped[str] = mapped_column(String(1200), default="")
    subject_code: Mapped[str] = mapped_column(String(40))  # this agency's own code for the person
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text)  # the signed message this agency sent (provider: the answer)


class Refusal(Base):
    """A message the hub refused, and why (the only trace a refused request leaves besides the audit entry)."""

    __tablename__ = "linkage_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500))
    requester: Mapped[str | None] = mapped_column(String(32))  # as claimed; None when unreadable
    request_id: Mapped[str | None] = mapped_column(String(36))
    request_hash: Mapped[str | None] = mapped_column(String(43))


class Copy(Base):
    """One item of an agency's copy (副本) for one person, keyed only by the agency's own code."""

    __tablename__ = "linkage_copies"
    __table_args__ = (UniqueConstraint("agency", "code", "item", name="uq_linkage_copies_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON
    disclose: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Endpoint(Base):
    """Where the hub reaches an agency that runs as its own node (``tsunagu node``); absent: in-process."""

    __tablename__ = "linkage_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), unique=True)
    url: Mapped[str] = mapped_column(String(300))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# Core handles on the tables, for the hot path (statements without ORM entity loading).
EXCHANGES = cast(Table, Exchange.__table__)
AGENCY_LOG = cast(Table, AgencyLogEntry.__table__)
COPIES = cast(Table, Copy.__table__)
ENDPOINTS = cast(Table, Endpoint.__table__)
