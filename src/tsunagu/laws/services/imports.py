"""Importing law XML into the database (法令の取込み), file by file.

Each file is checked, parsed and run through the detector before anything is written; then its document, its
provisions and the review items it changes are written together. A file that cannot be read (``LawXmlError``: bad
XML, not a law, too large) writes nothing and the other files go on. The same bytes again (SHA-256) write nothing at
all. A newer version of a law becomes its latest document and updates the law's review items (new findings become
未着手 items; items keep their status, phase and notes; an item the new version no longer has is kept with
``present`` false, and one found again is present again). An older version is stored but changes no item.

:func:`import_files` takes either a unit-of-work factory, and then commits each file in its own transaction (so a
crash loses at most the file being written, and a re-run finishes the job), or the caller's session, where each
file is a savepoint the caller commits. :func:`import_bytes` (an upload) always works in the caller's session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.laws.core.detect import Finding, detect_law
from tsunagu.laws.core.model import Law, LawXmlError, Provision
from tsunagu.laws.core.xmlparse import parse_law
from tsunagu.laws.models import LawDocument, LawProvision, ReviewEvent, ReviewItem

Uow = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[int, int, str], None]
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_PROVISIONS = cast(Table, LawProvision.__table__)
_ITEMS = cast(Table, ReviewItem.__table__)
_EVENTS = cast(Table, ReviewEvent.__table__)


@dataclass(frozen=True)
class FileResult:
    """What happened to one file. ``error`` (for ``failed``) names the file, line and column."""

    file: str
    status: Literal["imported", "unchanged", "failed"]
    law_id: str | None
    version: str | None
    title: str | None
    findings: int
    error: LawXmlError | None
    latest: bool = False  # this file is now the law's latest version
    new_items: int = 0  # review items created
    absent_items: int = 0  # items the new version no longer has (改正で該当なし)
    restored_items: int = 0  # items absent before and found again


@dataclass(frozen=True)
class ImportReport:
    results: tuple[FileResult, ...]

    @property
    def imported(self) -> int:
        return sum(r.status == "imported" for r in self.results)

    @property
    def unchanged(self) -> int:
        return sum(r.status == "unchanged" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.results)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _too_large(name: str, size: int, max_bytes: int) -> LawXmlError:
    mb = max_bytes / (1024 * 1024)
    return LawXmlError(
        name,
        0,
        0,
        f"ファイルが大きすぎます（{size:,} バイト、上限 {mb:g} MB）。",
        f"file too large ({size:,} bytes; the limit is {mb:g} MB)",
    )


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(str(path), size, max_bytes)
        return path.read_bytes()
    except OSError as exc:
        raise LawXmlError(
            str(path), 0, 0, f"ファイルを開けません: {exc.strerror}", f"cannot open: {exc.strerror}"
        ) from exc


def _known(db: Session, digest: str) -> LawDocument | None:
    return db.scalars(select(LawDocument).where(LawDocument.sha256 == digest)).first()


def _unchanged(name: str, doc: LawDocument) -> FileResult:
    return FileResult(
        name, "unchanged", doc.law_id, doc.version, doc.title, doc.findings, None, doc.is_latest
    )


def _failed(name: str, error: LawXmlError) -> FileResult:
    return FileResult(name, "failed", None, None, None, 0, error)


@dataclass(frozen=True)
class _Parsed:
    name: str
    digest: str
    size: int
    law: Law
    findings: tuple[Finding, ...]


def _parse(name: str, data: bytes, max_bytes: int) -> _Parsed:
    """Everything that can fail on bad input, before any write."""
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    law = parse_law(data, name=name)
    return _Parsed(name, hashlib.sha256(data).hexdigest(), len(data), law, tuple(detect_law(law.provisions)))


def _insert_document(db: Session, parsed: _Parsed, *, actor: str, now: dt.datetime) -> LawDocument:
    law = parsed.law
    latest = db.scalars(
        select(LawDocument).where(LawDocument.law_id == law.law_id, LawDocument.is_latest.is_(True))
    ).first()
    is_latest = latest is None or law.version >= latest.version
    if latest is not None and is_latest:
        latest.is_latest = False
        db.flush()  # before the new row: one latest per law (partial unique index)
    doc = LawDocument(
        law_id=law.law_id,
        version=law.version,
        title=law.title,
        law_num=law.law_num,
        law_type=law.law_type,
        articles=law.articles,
        provisions=len(law.provisions),
        findings=len(parsed.findings),
        sha256=parsed.digest,
        file_name=Path(parsed.name).name[:255],
        size=parsed.size,
        is_latest=is_latest,
        imported_by=actor[:64],
        imported_at=now,
    )
    db.add(doc)
    db.flush()
    return doc


def insert_provisions(db: Session, document_id: int, law: Law) -> None:
    """All provisions of a document in one executemany."""
    rows = [
        {
            "document_id": document_id,
            "position": position,
            "address": p.address,
            "title": p.title,
            "caption": p.caption,
            "text": p.text,
            "roles": "|".join(s.role for s in p.sentences),
            "deleted": p.deleted,
        }
        for position, p in enumerate(law.provisions)
    ]
    if rows:
        db.connection().execute(insert(_PROVISIONS), rows)


@dataclass(frozen=True)
class ItemChanges:
    new: int
    absent: int
    restored: int


def _finding_values(f: Finding, document_id: int, position: int) -> dict[str, object]:
    return {
        "document_id": document_id,
        "position": position,
        "start": f.start,
        "end": f.end,
        "matched": f.matched,
        "confidence": f.confidence,
        "rule": f.rule,
        "technology": f.technology,
    }


def upsert_items(
    db: Session,
    doc: LawDocument,
    provisions: Sequence[Provision],
    findings: Sequence[Finding],
    *,
    actor: str,
    now: dt.datetime,
) -> ItemChanges:
    """Bring the law's review items in line with its new latest version, in bulk."""
    positions = {p.address: i for i, p in enumerate(provisions)}
    existing = {
        (row.address, row.category): row
        for row in db.execute(
            select(
                ReviewItem.id,
                ReviewItem.address,
                ReviewItem.category,
                ReviewItem.present,
                ReviewItem.matched,
                ReviewItem.status,
                ReviewItem.row_version,
            ).where(ReviewItem.law_id == doc.law_id)
        )
    }
    found = {(f.address, f.category): f for f in findings}
    inserts, updates, events = [], [], []
    restored = 0
    for key, f in found.items():
        values = _finding_values(f, doc.id, positions.get(f.address, 0))
        row = existing.get(key)
        if row is None:
            inserts.append(
                {
                    **values,
                    "law_id": doc.law_id,
                    "address": f.address,
                    "category": f.category,
                    "present": True,
                    "status": "todo",
                    "phase": None,
                    "ministry": None,
                    "deadline": None,
                    "notes": "",
                    "row_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        changed = (not row.present) or row.matched != f.matched
        updates.append(
            {
                **values,
                "item_id": row.id,
                "present": True,
                "row_version": row.row_version + (1 if changed else 0),
                "updated_at": now,
            }
        )
        if not row.present:
            restored += 1
            events.append(_presence_event(row.id, row.status, True, doc, actor, now))
    gone = [row for key, row in existing.items() if key not in found and row.present]
    for row in gone:
        events.append(_presence_event(row.id, row.status, False, doc, actor, now))
    conn = db.connection()
    if inserts:
        conn.execute(insert(_ITEMS), inserts)
    if updates:
        conn.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id == bindparam("item_id"))
            .values({k: bindparam(k) for k in updates[0] if k != "item_id"}),
            updates,
        )
    if gone:
        conn.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id == bindparam("item_id"))
            .values(present=False, row_version=bindparam("next_version"), updated_at=now),
            [{"item_id": row.id, "next_version": row.row_version + 1} for row in gone],
        )
    if events:
        conn.execute(insert(_EVENTS), events)
    return ItemChanges(len(inserts), len(gone), restored)


def _presence_event(
    item_id: int, status: str, present: bool, doc: LawDocument, actor: str, now: dt.datetime
) -> dict[str, object]:
    note = (
        f"版 {doc.version} で再び該当 / found again in version {doc.version}"
        if present
        else f"版 {doc.version} で該当なし（改正） / not found in version {doc.version}"
    )
    return {
        "item_id": item_id,
        "at": now,
        "actor": actor[:64],
        "from_status": status,
        "to_status": status,
        "changes": {"present": [not present, present]},
        "note": note,
    }


def _write(db: Session, parsed: _Parsed, *, actor: str, now: dt.datetime) -> FileResult:
    """Write one parsed file in the caller's transaction (or savepoint)."""
    doc = _insert_document(db, parsed, actor=actor, now=now)
    insert_provisions(db, doc.id, parsed.law)
    changes = (
        upsert_items(db, doc, parsed.law.provisions, parsed.findings, actor=actor, now=now)
        if doc.is_latest
        else ItemChanges(0, 0, 0)
    )
    audit.record(
        db,
        actor,
        audit.AuditAction.LAWS_DOCUMENT_IMPORTED,
        f"law:{doc.law_id}",
        version=doc.version,
        document=doc.id,
        latest=doc.is_latest,
        findings=len(parsed.findings),
        new_items=changes.new,
        absent_items=changes.absent,
    )
    law = parsed.law
    return FileResult(
        parsed.name,
        "imported",
        law.law_id,
        law.version,
        law.title,
        len(parsed.findings),
        None,
        doc.is_latest,
        changes.new,
        changes.absent,
        changes.restored,
    )


def _import_in_savepoint(
    db: Session, name: str, data: bytes, *, actor: str, max_bytes: int, now: dt.datetime | None
) -> FileResult:
    digest = hashlib.sha256(data).hexdigest()
    known = _known(db, digest)
    if known is not None:
        return _unchanged(name, known)
    try:
        parsed = _parse(name, data, max_bytes)
    except LawXmlError as exc:
        return _failed(name, exc)
    try:
        with db.begin_nested():
            return _write(db, parsed, actor=actor, now=now or dt.datetime.now(dt.UTC))
    except IntegrityError:  # the same file imported at the same moment by someone else
        known = _known(db, digest)
        if known is None:
            raise
        return _unchanged(name, known)


def import_bytes(
    db: Session,
    name: str,
    data: bytes,
    *,
    actor: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import one uploaded file (``name`` as the browser gave it: its ``{LawId}_{date}_{amend}`` part gives the
    law and version) in the caller's transaction; a failure writes nothing and leaves the session usable. ``now``
    stamps what is written (the caller's clock; the system clock when not given)."""
    return ImportReport((_import_in_savepoint(db, name, data, actor=actor, max_bytes=max_bytes, now=now),))


def _import_in_uow(
    uow: Uow, path: Path, *, actor: str, max_bytes: int, now: dt.datetime | None
) -> FileResult:
    name = str(path)
    try:
        data = _read(path, max_bytes)
    except LawXmlError as exc:
        return _failed(name, exc)
    with uow() as db:
        return _import_in_savepoint(db, name, data, actor=actor, max_bytes=max_bytes, now=now)


def import_files(
    db: Session | Uow,
    paths: Sequence[Path],
    *,
    actor: str,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import law XML files one by one. With a unit-of-work factory each file commits on its own; with a session
    each file is a savepoint in the caller's transaction. ``progress(done, total, file)`` after each file; ``now``
    as in :func:`import_bytes`."""
    results: list[FileResult] = []
    for done, path in enumerate(paths, start=1):
        if isinstance(db, Session):
            try:
                data = _read(path, max_bytes)
            except LawXmlError as exc:
                result = _failed(str(path), exc)
            else:
                result = _import_in_savepoint(db, str(path), data, actor=actor, max_bytes=max_bytes, now=now)
        else:
            result = _import_in_uow(db, path, actor=actor, max_bytes=max_bytes, now=now)
        results.append(result)
        if progress is not None:
            progress(done, len(paths), str(path))
    return ImportReport(tuple(results))
