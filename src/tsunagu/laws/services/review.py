"""The review workflow on the database: listing and filtering items, one item with its history, changing an item
(status, phase, ministry, deadline, notes) with optimistic concurrency, counts per category and status, and the
imported laws. Every change appends a ``laws_review_events`` row and an audit entry in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Final, TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.errors import Conflict, InvalidInput, NotFound
from tsunagu.laws.core.review import (
    ItemState,
    check_change,
    next_statuses,
)
from tsunagu.laws.core.review import (
    article_label as label_of,
)
from tsunagu.laws.core.rules import CATEGORIES, default_rules
from tsunagu.laws.models import LawDocument, LawProvision, ReviewEvent, ReviewItem

MAX_LIMIT = 500
Ts = TypeVarTuple("Ts")
EVIDENCE_MARGIN = 20


class Unset(enum.Enum):
    """A field left as it is (``None`` clears it)."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET


class ReviewError(InvalidInput):
    """A change the workflow refuses; ``reason`` is a stable code (``decision-incomplete``, ``bad-transition``,
    ``reopen-needs-note``, …), with the reason in Japanese and English. Nothing was written."""

    code = "review-refused"
    title = "The review change was refused"

    def __init__(self, reason: str, message_ja: str, message_en: str) -> None:
        super().__init__(message_en, ja=message_ja, reason=reason)
        self.reason = reason
        self.message_ja = message_ja
        self.message_en = message_en


class ReviewConflict(Conflict):
    """Someone else changed the item since it was read (its row version moved on). Nothing was written."""

    code = "review-conflict"
    title = "The item was changed by someone else"

    def __init__(self, item_id: int, expected: int, current: int) -> None:
        self.message_ja = (
            "この項目は他の担当者が先に変更しました。最新の内容を確かめてから、もう一度変更してください。"
        )
        self.message_en = (
            "Someone else changed this item since you opened it: check the current values and try again."
        )
        super().__init__(
            self.message_en, ja=self.message_ja, item=item_id, expected=expected, current=current
        )
        self.item_id = item_id
        self.current_version = current


class ItemNotFound(NotFound, LookupError):
    """No review item with that id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"No review item {item_id}.", ja=f"見直し項目 {item_id} はありません。")
        self.item_id = item_id


def category_names() -> dict[str, str]:
    """Category id → Japanese name, in the order of :data:`CATEGORIES`."""
    rules = default_rules()
    return {c: rules.category(c).name_ja for c in CATEGORIES}


@dataclass(frozen=True)
class ItemFilter:
    category: str | None = None
    status: str | None = None
    law_id: str | None = None
    ministry: str | None = None  # substring of the ministry
    phase: int | None = None
    present: bool | None = True  # None: present and absent alike
    q: str | None = None  # substring of the matched evidence, the provision text or the law title


@dataclass(frozen=True)
class ItemSummary:
    id: int
    law_id: str
    law_title: str
    address: str
    article_label: str  # 第四条の二第一項第三号
    category: str
    category_ja: str
    status: str
    phase: int | None
    ministry: str | None
    deadline: dt.date | None
    confidence: float
    matched: str
    present: bool
    version: int  # row version, for update_item(expected_version=...)
    before: str  # up to 20 characters of the provision before the match (for showing the evidence)
    after: str  # and after it


@dataclass(frozen=True)
class ItemEvent:
    at: dt.datetime
    actor: str
    from_status: str
    to_status: str
    changes: dict[str, Any]  # field -> [old, new]
    note: str


@dataclass(frozen=True)
class ItemDetail(ItemSummary):
    caption: str
    text: str  # the provision's text in the version last found in
    start: int
    end: int
    technology: str
    rule: str
    notes: str
    updated_at: dt.datetime
    law_version: str  # the document version the evidence is from
    law_num: str
    next_statuses: tuple[str, ...]
    events: tuple[ItemEvent, ...]


@dataclass(frozen=True)
class ItemPage:
    items: tuple[ItemSummary, ...]
    total: int
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class CountRow:
    category: str  # "" for the totals row
    category_ja: str
    todo: int
    decided: int
    done: int

    @property
    def total(self) -> int:
        return self.todo + self.decided + self.done

    def get(self, status: str) -> int:
        return int(getattr(self, status))


@dataclass(frozen=True)
class Counts:
    """Present items per category × status (every category, zeros included) and their totals. ``absent``
    counts the items no longer found in the latest versions (改正で該当なし), which the rows leave out."""

    rows: tuple[CountRow, ...]
    totals: CountRow
    absent: int

    def get(self, category: str, status: str) -> int:
        for row in self.rows:
            if row.category == category:
                return row.get(status)
        raise KeyError(category)

    @property
    def done_ratio(self) -> float:
        return self.totals.done / self.totals.total if self.totals.total else 0.0


@dataclass(frozen=True)
class LawSummary:
    law_id: str
    title: str
    law_num: str
    latest_version: str
    documents: int
    items: int  # present review items


# --- reading -----------------------------------------------------------------------------------------------


def _conditions(flt: ItemFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.category:
        where.append(ReviewItem.category == flt.category)
    if flt.status:
        where.append(ReviewItem.status == flt.status)
    if flt.law_id:
        where.append(ReviewItem.law_id == flt.law_id)
    if flt.ministry:
        where.append(ReviewItem.ministry.contains(flt.ministry, autoescape=True))
    if flt.phase is not None:
        where.append(ReviewItem.phase == flt.phase)
    if flt.present is not None:
        where.append(ReviewItem.present.is_(flt.present))
    if flt.q:
        where.append(
            or_(
                ReviewItem.matched.contains(flt.q, autoescape=True),
                LawProvision.text.contains(flt.q, autoescape=True),
                LawDocument.title.contains(flt.q, autoescape=True),
            )
        )
    return where


def _joined(stmt: Select[*Ts]) -> Select[*Ts]:
    """Items with the document and the provision their evidence is from."""
    return stmt.join(LawDocument, LawDocument.id == ReviewItem.document_id).join(
        LawProvision,
        and_(LawProvision.document_id == ReviewItem.document_id, LawProvision.address == ReviewItem.address),
    )


def _summary(item: ReviewItem, title: str, text: str, names: dict[str, str]) -> ItemSummary:
    return ItemSummary(
        id=item.id,
        law_id=item.law_id,
        law_title=title,
        address=item.address,
        article_label=label_of(item.address),
        category=item.category,
        category_ja=names.get(item.category, item.category),
        status=item.status,
        phase=item.phase,
        ministry=item.ministry,
        deadline=item.deadline,
        confidence=item.confidence,
        matched=item.matched,
        present=item.present,
        version=item.row_version,
        before=text[max(0, item.start - EVIDENCE_MARGIN) : item.start],
        after=text[item.end : item.end + EVIDENCE_MARGIN],
    )


def _order() -> tuple[Any, ...]:
    return (ReviewItem.law_id, ReviewItem.position, ReviewItem.category, ReviewItem.id)


def list_items(db: Session, flt: ItemFilter, *, offset: int = 0, limit: int = 50) -> ItemPage:
    """One page of the items matching ``flt``, in law order (law ID, then provision order), and their total."""
    offset, limit = max(0, offset), max(1, min(limit, MAX_LIMIT))
    where = _conditions(flt)
    total = db.scalar(_joined(select(func.count(ReviewItem.id))).where(*where)) or 0
    rows = db.execute(
        _joined(select(ReviewItem, LawDocument.title, LawProvision.text))
        .where(*where)
        .order_by(*_order())
        .offset(offset)
        .limit(limit)
    ).all()
    names = category_names()
    return ItemPage(tuple(_summary(i, t, x, names) for i, t, x in rows), total, offset, limit)


def all_items(db: Session, flt: ItemFilter) -> list[tuple[ItemSummary, ReviewItem]]:
    """Every item matching ``flt`` with its row (for reports), in law order."""
    rows = db.execute(
        _joined(select(ReviewItem, LawDocument.title, LawProvision.text))
        .where(*_conditions(flt))
        .order_by(*_order())
    ).all()
    names = category_names()
    return [(_summary(i, t, x, names), i) for i, t, x in rows]


def _events(db: Session, item_id: int) -> tuple[ItemEvent, ...]:
    rows = db.scalars(select(ReviewEvent).where(ReviewEvent.item_id == item_id).order_by(ReviewEvent.id))
    return tuple(
        ItemEvent(e.at, e.actor, e.from_status, e.to_status, dict(e.changes or {}), e.note) for e in rows
    )


def get_item(db: Session, item_id: int) -> ItemDetail | None:
    """One item with its provision's text, evidence span and history (oldest first); None if there is none."""
    row = db.execute(
        _joined(select(ReviewItem, LawDocument, LawProvision)).where(ReviewItem.id == item_id)
    ).first()
    if row is None:
        return None
    item, doc, provision = row
    summary = _summary(item, doc.title, provision.text, category_names())
    return ItemDetail(
        **{f: getattr(summary, f) for f in ItemSummary.__dataclass_fields__},
        caption=provision.caption,
        text=provision.text,
        start=item.start,
        end=item.end,
        technology=item.technology,
        rule=item.rule,
        notes=item.notes,
        updated_at=item.updated_at,
        law_version=doc.version,
        law_num=doc.law_num,
        next_statuses=next_statuses(item.status),
        events=_events(db, item.id),
    )


def counts(db: Session, *, law_id: str | None = None) -> Counts:
    """Present items per category and status, every category listed; ``absent`` the items no longer found."""
    where = [ReviewItem.law_id == law_id] if law_id else []
    cells: dict[tuple[str, str], int] = {
        (category, status): n
        for category, status, n in db.execute(
            select(ReviewItem.category, ReviewItem.status, func.count())
            .where(ReviewItem.present.is_(True), *where)
            .group_by(ReviewItem.category, ReviewItem.status)
        )
    }
    absent = db.scalar(select(func.count()).where(ReviewItem.present.is_(False), *where)) or 0
    names = category_names()
    known = list(CATEGORIES) + sorted({c for c, _ in cells} - set(CATEGORIES))
    rows = tuple(
        CountRow(
            c,
            names.get(c, c),
            cells.get((c, "todo"), 0),
            cells.get((c, "decided"), 0),
            cells.get((c, "done"), 0),
        )
        for c in known
    )
    totals = CountRow(
        "",
        "合計",
        sum(r.todo for r in rows),
        sum(r.decided for r in rows),
        sum(r.done for r in rows),
    )
    return Counts(rows, totals, absent)


def laws(db: Session) -> tuple[LawSummary, ...]:
    """The imported laws by law ID: title and number of the latest version, versions held, present items."""
    documents: dict[str, int] = dict(
        db.execute(select(LawDocument.law_id, func.count()).group_by(LawDocument.law_id)).all()
    )
    present = (
        select(ReviewItem.law_id, func.count())
        .where(ReviewItem.present.is_(True))
        .group_by(ReviewItem.law_id)
    )
    items: dict[str, int] = dict(db.execute(present).all())
    latest = db.scalars(
        select(LawDocument).where(LawDocument.is_latest.is_(True)).order_by(LawDocument.law_id)
    ).all()
    return tuple(
        LawSummary(
            d.law_id, d.title, d.law_num, d.version, documents.get(d.law_id, 0), items.get(d.law_id, 0)
        )
        for d in latest
    )


# --- changing --------------------------------------------------------------------------------------------------


def _clean_ministry(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def update_item(
    db: Session,
    item_id: int,
    *,
    actor: str,
    expected_version: int,
    status: str | None = None,
    phase: int | Unset | None = UNSET,
    ministry: str | Unset | None = UNSET,
    deadline: dt.date | Unset | None = UNSET,
    notes: str | Unset = UNSET,
    note: str = "",
    now: dt.datetime | None = None,
) -> ItemDetail:
    """Change an item (``UNSET`` leaves a field, ``None`` clears it), append its history and an audit entry,
    stamped ``now`` (the caller's clock; the system clock when not given).

    Raises :class:`ItemNotFound`, :class:`ReviewConflict` when ``expected_version`` is not the item's current
    row version, or :class:`ReviewError` for a move or a value the workflow refuses. Nothing is written then."""
    item = db.get(ReviewItem, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    if item.row_version != expected_version:
        raise ReviewConflict(item_id, expected_version, item.row_version)
    before = ItemState(item.status, item.phase, item.ministry, item.deadline, item.notes)
    after = ItemState(
        status=item.status if status is None else status,
        phase=item.phase if isinstance(phase, Unset) else phase,
        ministry=item.ministry if isinstance(ministry, Unset) else _clean_ministry(ministry),
        deadline=item.deadline if isinstance(deadline, Unset) else deadline,
        notes=item.notes if isinstance(notes, Unset) else notes.strip(),
    )
    note = note.strip()
    refusal = check_change(before, after, note)
    if refusal is not None:
        raise ReviewError(refusal.code, refusal.message_ja, refusal.message_en)
    changes = {
        field: [_json_value(getattr(before, field)), _json_value(getattr(after, field))]
        for field in ("status", "phase", "ministry", "deadline", "notes")
        if getattr(before, field) != getattr(after, field)
    }
    if not changes and not note:
        detail = get_item(db, item_id)
        assert detail is not None  # noqa: S101 - read just above in the same transaction
        return detail
    now = now or dt.datetime.now(dt.UTC)
    moved = db.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.row_version == expected_version)
        .values(
            status=after.status,
            phase=after.phase,
            ministry=after.ministry,
            deadline=after.deadline,
            notes=after.notes,
            row_version=expected_version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # changed between the read and the write
        db.expire(item)
        raise ReviewConflict(item_id, expected_version, db.get_one(ReviewItem, item_id).row_version)
    db.add(
        ReviewEvent(
            item_id=item_id,
            at=now,
            actor=actor[:64],
            from_status=before.status,
            to_status=after.status,
            changes=changes,
            note=note,
        )
    )
    db.flush()
    db.expire(item)
    audit.record(
        db,
        actor,
        audit.AuditAction.LAWS_REVIEW_ITEM_CHANGED,
        f"laws_item:{item_id}",
        law=item.law_id,
        category=item.category,
        from_status=before.status,
        to_status=after.status,
        fields=sorted(changes),
    )
    detail = get_item(db, item_id)
    assert detail is not None  # noqa: S101 - updated just above in the same transaction
    return detail
