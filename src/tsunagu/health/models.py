"""Tables of the health domain. A person is referred to by the registry person id only (no relationship crosses a
domain).

- ``health_doses``: every dose entry, append-only (triggers refuse UPDATE and DELETE). A correction is a new row
  whose ``supersedes`` names the row it replaces (unique: a row is corrected at most once); the current doses of a
  person are the rows no other row supersedes. Nothing is ever rewritten: the history of a dose is the chain of
  rows linked by ``supersedes``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class Dose(Base):
    """One dose entry (接種記録): recorded, or a correction of an earlier entry."""

    __tablename__ = "health_doses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)  # registry person id
    occurrence: Mapped[dt.date] = mapped_column(Date)  # 接種日
    cvx: Mapped[str] = mapped_column(String(3))  # CVX vaccine code
    manufacturer: Mapped[str] = mapped_column(String(3))  # MVX manufacturer code
    lot: Mapped[str] = mapped_column(String(20))  # ロット番号
    municipality_code: Mapped[str] = mapped_column(String(6))  # 地方公共団体コード of where it was given
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("health_doses.id"), unique=True)
    action: Mapped[str] = mapped_column(String(12))  # recorded | corrected
    reason: Mapped[str] = mapped_column(Text, default="")  # why a correction was made
    recorded_by: Mapped[str] = mapped_column(String(64))  # staff:<username> | system (the demo seed)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
