"""Tables of お知らせ: the notices agencies send and who has read them.

A notice addressed to one person holds the hub's keyed blind index of that person (the same HMAC as
``linkage_codes.person_index``), never a My Number, a registry person id or the agency's 符号. Segment notices
hold the segment instead (``all``, or a municipality code). Read state is per person, by the same index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Notice(Base):
    """One お知らせ from an agency, to one person (``audience="person"``) or to a segment."""

    __tablename__ = "linkage_notices"
    __table_args__ = (
        Index("ix_linkage_notices_person_index", "person_index"),
        Index("ix_linkage_notices_audience_segment", "audience", "segment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("linkage_agencies.id"))  # the sender
    audience: Mapped[str] = mapped_column(String(16))  # "person" | "all" | "municipality"
    person_index: Mapped[bytes | None] = mapped_column(LargeBinary)  # HMAC-SHA-256; only for "person"
    segment: Mapped[str | None] = mapped_column(String(16))  # the municipality code for "municipality"
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class NoticeRead(Base):
    """That the person behind ``person_index`` has opened the notice (once: the first reading is kept)."""

    __tablename__ = "linkage_notice_reads"

    notice_id: Mapped[int] = mapped_column(ForeignKey("linkage_notices.id"), primary_key=True)
    person_index: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
