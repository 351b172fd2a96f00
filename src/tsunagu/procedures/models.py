"""Tables of the procedures domain. Rows of other domains are referred to by id only (a registry person id, a
linkage exchange id, an agency code): no relationship crosses a domain.

- ``proc_applications``: one application (申請・届出) with its values, who filed it for whom, its state, signature,
  receipt and timestamps. ``(bundle_id, bundle_key)`` is unique: a one-stop creates each derived application once.
- ``proc_application_events``: every state change, by whom and why (append-only by trigger).
- ``proc_bundles``: a life-event one-stop filing (引越し, 出生, おくやみ) with its one input and the pre-filled facts.
- ``proc_outbox``: the durable fan-out: one row per application a bundle derives, created in the bundle's
  transaction and worked off (exactly once) by the worker.
- ``proc_staff_offices``: which office's queue a staff member works (staff username → agency code)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Bundle(Base):
    __tablename__ = "proc_bundles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid
    event: Mapped[str] = mapped_column(String(20))  # moving | birth | bereavement
    applicant_person_id: Mapped[int] = mapped_column(Integer, index=True)
    filed_by_person_id: Mapped[int] = mapped_column(Integer)  # the proxy, or the applicant
    state: Mapped[str] = mapped_column(String(12))  # open | closed | cancelled
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the person typed
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # pre-filled facts the fan-out derives from
    origin_lg: Mapped[str] = mapped_column(String(6), default="")
    destination_lg: Mapped[str] = mapped_column(String(6), default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Application(Base):
    __tablename__ = "proc_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)  # 受付番号, set on submission
    procedure_id: Mapped[str] = mapped_column(String(48))
    agency: Mapped[str] = mapped_column(String(32))  # the office's agency code (LG-142051, JPS, …)
    subject_person_id: Mapped[int] = mapped_column(Integer, index=True)  # whom it is about
    applicant_person_id: Mapped[int] = mapped_column(Integer, index=True)  # who applies (世帯員, 親, 遺族)
    filed_by_person_id: Mapped[int] = mapped_column(Integer)  # who pressed submit (a proxy, or the applicant)
    bundle_id: Mapped[str | None] = mapped_column(ForeignKey("proc_bundles.id"), index=True)
    bundle_key: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(12))  # online | one_stop | counter
    state: Mapped[str] = mapped_column(String(24))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # what the form offered: household members, held items
    prefilled: Mapped[list[str]] = mapped_column(JSON)  # names of the fields the government filled
    exchanges: Mapped[list[str]] = mapped_column(JSON)  # hub exchange ids behind the pre-filled values
    signed_digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the signed bytes
    signature: Mapped[str | None] = mapped_column(Text)  # base64 ECDSA (DER) by the 署名用 certificate
    certificate: Mapped[str | None] = mapped_column(Text)  # base64 DER of that certificate
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    receipt: Mapped[str | None] = mapped_column(Text)  # compact JWS signed by the receiving agency
    document: Mapped[str | None] = mapped_column(Text)  # an issued electronic document (compact JWS)
    reason: Mapped[str] = mapped_column(Text, default="")  # the last correction request or rejection reason
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a plain dict here
    __table_args__ = (
        UniqueConstraint("bundle_id", "bundle_key", name="uq_proc_applications_bundle_key"),
        Index("ix_proc_applications_queue", "agency", "state", "submitted_at"),
    )


class ApplicationEvent(Base):
    __tablename__ = "proc_application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("proc_applications.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    __tablename__ = "proc_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_id: Mapped[str] = mapped_column(ForeignKey("proc_bundles.id"))
    key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8))  # pending | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("bundle_id", "key", name="uq_proc_outbox_bundle_key"),
        Index("ix_proc_outbox_due", "state", "next_attempt_at"),
    )


class StaffOffice(Base):
    __tablename__ = "proc_staff_offices"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
