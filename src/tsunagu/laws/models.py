"""Tables of the laws domain (法令見直し).

- ``laws_documents``: one row per imported version of a law (the file's bytes are identified by their SHA-256, so
  the same file twice is one row). ``is_latest`` marks the newest version of each law (by the file name's
  ``{date}_{amend id}``, the date first); a partial unique index keeps it to one per law.
- ``laws_provisions``: each document's provisions by address, with caption, text and sentence roles.
- ``laws_review_items``: one review item per (law, address, category), stable across versions: it holds the latest
  finding, ``present`` (false when the newest version no longer has it: 改正で該当なし), and the review's status,
  phase, ministry, deadline and notes, with ``row_version`` for optimistic concurrency.
- ``laws_review_events``: the history of every item, append-only (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class LawDocument(Base):
    """One imported version of a law (one XML file)."""

    __tablename__ = "laws_documents"
    __table_args__ = (
        Index(
            "uq_laws_documents_latest",
            "law_id",
            unique=True,
            sqlite_where=text("is_latest"),
            postgresql_where=text("is_latest"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    law_id: Mapped[str] = mapped_column(String(20), index=True)  # 法令ID, e.g. 405AC0000000088
    version: Mapped[str] = mapped_column(String(40))  # {date}_{amend law id} from the file name ("" if none)
    title: Mapped[str] = mapped_column(Text)  # 法令名
    law_num: Mapped[str] = mapped_column(String(200))  # 法令番号
    law_type: Mapped[str] = mapped_column(String(40))  # Act, CabinetOrder, MinisterialOrdinance, …
    articles: Mapped[int] = mapped_column(Integer)
    provisions: Mapped[int] = mapped_column(Integer)
    findings: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    is_latest: Mapped[bool] = mapped_column(Boolean)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LawProvision(Base):
    """A provision of one document: paragraph, item or sub-item, by its stable address."""

    __tablename__ = "laws_provisions"
    __table_args__ = (UniqueConstraint("document_id", "address", name="uq_laws_provisions_document_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("laws_documents.id"))
    position: Mapped[int] = mapped_column(Integer)  # order in the document
    address: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)  # the article's own name: 第四条の二
    caption: Mapped[str] = mapped_column(Text)  # 条見出し
    text: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(Text)  # sentence roles in order, "|"-joined: main, proviso or ""
    deleted: Mapped[bool] = mapped_column(Boolean)


class ReviewItem(Base):
    """A finding to review, the same item across every version of the law."""

    __tablename__ = "laws_review_items"
    __table_args__ = (
        UniqueConstraint("law_id", "address", "category", name="uq_laws_review_items_law_address_category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    law_id: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the provision's order in the document last found in
    document_id: Mapped[int] = mapped_column(ForeignKey("laws_documents.id"))  # where it was last found
    start: Mapped[int] = mapped_column(Integer)  # evidence span in the provision's text
    end: Mapped[int] = mapped_column(Integer)
    matched: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(100))
    technology: Mapped[str] = mapped_column(Text)
    present: Mapped[bool] = mapped_column(Boolean)  # False: 改正で該当なし
    status: Mapped[str] = mapped_column(String(10), index=True)  # todo | decided | done
    phase: Mapped[int | None] = mapped_column(Integer)  # 1 | 2 | 3
    ministry: Mapped[str | None] = mapped_column(String(100))  # 所管府省
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReviewEvent(Base):
    """One change of an item (append-only): a reviewer's change, or an import that found the item gone or back."""

    __tablename__ = "laws_review_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("laws_review_items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # field -> [old, new]
    note: Mapped[str] = mapped_column(Text)
