"""Tables of the SD-JWT VC part of the credentials domain (issue 7). Rows of other domains are referred to by id
only (a registry person id): no relationship crosses a domain.

- ``cred_licences``: driver's licences (運転免許証) integrated with the My Number Card: the 12-digit number, the band
  colour, the vehicle categories with the date each was first granted, conditions (条件等), the issuing 公安委員会,
  and a state (``valid``, ``suspended``, ``revoked``). One per person.
- ``cred_qualifications``: national qualifications (国家資格) with their registration number and date.
- ``cred_status_lists``: Token Status Lists; ``allocated`` counts the indices handed out (at random, never reused).
- ``cred_sdjwt_issued``: every SD-JWT VC issued: who, which kind, the holder key's RFC 7638 thumbprint, the status
  list entry (unique: one entry per credential), validity and revocation. The credential itself is not kept.
- ``cred_presentation_requests``: a verifier's request (random id and nonce, the claims asked, 5 minutes) and its
  one answer: the state, the reason of a refusal and exactly the claims that were disclosed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Licence(Base):
    """A driver's licence (運転免許証), one per person."""

    __tablename__ = "cred_licences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, unique=True)  # registry person id
    number: Mapped[str] = mapped_column(String(12), unique=True)  # 免許証番号
    colour: Mapped[str] = mapped_column(String(8))  # green | blue | gold (帯の色)
    categories: Mapped[dict[str, str]] = mapped_column(JSON)  # vehicle category code → ISO date first granted
    conditions: Mapped[list[str]] = mapped_column(JSON)  # 条件等, e.g. ["glasses"]
    issue_date: Mapped[dt.date] = mapped_column(Date)
    expiry_date: Mapped[dt.date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(40))  # e.g. 東京都公安委員会
    state: Mapped[str] = mapped_column(String(10), default="valid")  # valid | suspended | revoked
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Qualification(Base):
    """A national qualification (国家資格) held by a person."""

    __tablename__ = "cred_qualifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(32))  # e.g. nurse
    name: Mapped[str] = mapped_column(String(40))  # e.g. 看護師
    registration_number: Mapped[str] = mapped_column(String(20))  # 登録番号
    registration_date: Mapped[dt.date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(40))  # e.g. 厚生労働大臣
    state: Mapped[str] = mapped_column(String(10), default="valid")  # valid | revoked

    __table_args__ = (
        UniqueConstraint("code", "registration_number", name="uq_cred_qualifications_registration"),
    )


class StatusListRow(Base):
    """A Token Status List of ``size`` one-bit entries; the statuses are read from the issued credentials."""

    __tablename__ = "cred_status_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bits: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer, default=0)  # indices handed out so far
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the last allocation or revocation


class IssuedSdJwt(Base):
    """One issued SD-JWT VC (the token itself is not kept: the holder has it)."""

    __tablename__ = "cred_sdjwt_issued"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # age | driving_licence | qualification
    vct: Mapped[str] = mapped_column(String(80))
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the licence or qualification row
    holder_thumbprint: Mapped[str] = mapped_column(String(43))  # RFC 7638 of the cnf key
    status_list_id: Mapped[int] = mapped_column(Integer)
    status_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index", name="uq_cred_sdjwt_issued_status_entry"),
    )


class PresentationRequest(Base):
    """A verifier's presentation request and its single answer."""

    __tablename__ = "cred_presentation_requests"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, URL-safe
    nonce: Mapped[str] = mapped_column(String(43), unique=True)
    vct: Mapped[str] = mapped_column(String(80))
    claims: Mapped[list[list[Any]]] = mapped_column(JSON)  # claim paths asked, e.g. [["age_over_20"]]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | valid | invalid
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    disclosed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # only what was disclosed
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
