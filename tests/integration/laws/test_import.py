"""Importing law XML on a real database (SQLite and PostgreSQL): each file on its own, the same bytes twice write
nothing, a failed file writes nothing while the others import, a crash mid-file is finished by a re-run, newer
versions update the review items (absent, found again), older versions change none, and the 42-file corpus
re-imports as all unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.audit.models import AuditEntry
from tsunagu.laws import api as laws
from tsunagu.laws.core.detect import detect_law
from tsunagu.laws.core.xmlparse import parse_law
from tsunagu.laws.models import LawDocument, LawProvision, ReviewEvent, ReviewItem
from tsunagu.laws.services import imports

from .conftest import Uow, items_state, rows
from .synthetic import BROKEN, ELECTRONIC, EYES, LAW_ID, PAPER, PLAIN, POSTED, file_name, law_xml, write

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "data" / "laws"


def expected(data: bytes, name: str) -> set[tuple[str, str]]:
    """(address, category) of what the detector finds in a document, as the import should store it."""
    law = parse_law(data, name=name)
    return {(f.address, f.category) for f in detect_law(law.provisions)}


def test_a_new_law_is_stored_with_its_provisions_items_and_an_audit_entry(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(tmp_path, "20200101", [EYES, POSTED, PAPER, PLAIN])
    report = laws.import_files(uow, [path], actor="test:import")
    [result] = report.results
    assert (result.status, result.law_id, result.version, result.title) == (
        "imported",
        LAW_ID,
        "20200101_000000000000000",
        "試験規制法",
    )
    assert result.latest
    assert result.error is None
    found = expected(path.read_bytes(), path.name)
    assert len(found) >= 3
    assert result.findings == result.new_items == len(found)
    with session_factory() as db:
        doc = db.scalars(select(LawDocument)).one()
        assert doc.is_latest
        assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (doc.articles, doc.provisions, doc.file_name) == (4, 4, path.name)
        provisions = db.scalars(select(LawProvision).order_by(LawProvision.position)).all()
        assert [p.address for p in provisions] == [f"main/a{n}/p1" for n in range(1, 5)]
        assert provisions[0].text == EYES
        items = db.scalars(select(ReviewItem)).all()
        assert {(i.address, i.category) for i in items} == found
        assert {(i.status, i.present, i.row_version, i.phase) for i in items} == {("todo", True, 1, None)}
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "laws:document:import")).one()
    assert (audit.actor, audit.subject) == ("test:import", f"law:{LAW_ID}")
    assert audit.detail["findings"] == len(found)


def test_the_same_bytes_again_write_nothing(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(tmp_path, "20200101", [EYES, POSTED])
    laws.import_files(uow, [path], actor="test")
    before = rows(session_factory)
    copy = tmp_path / "renamed.xml"
    copy.write_bytes(path.read_bytes())
    report = laws.import_files(uow, [path, copy], actor="test")
    assert [r.status for r in report.results] == ["unchanged", "unchanged"]
    assert (report.imported, report.unchanged, report.failed) == (0, 2, 0)
    assert report.results[0].law_id == LAW_ID
    assert rows(session_factory) == before


def test_a_failed_file_writes_nothing_and_the_others_import(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    good = write(tmp_path, "20200101", [EYES])
    other = write(tmp_path, "20200101", [POSTED], law_id="405AC0000000998")
    bad = tmp_path / file_name("20210101")
    bad.write_bytes(BROKEN)
    missing = tmp_path / "gone.xml"
    progress: list[tuple[int, int, str]] = []
    report = laws.import_files(
        uow, [good, bad, missing, other], actor="test", progress=lambda *a: progress.append(a)
    )
    assert [r.status for r in report.results] == ["imported", "failed", "failed", "imported"]
    assert [p[:2] for p in progress] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    error = report.results[1].error
    assert error is not None
    assert (error.file, error.line) == (str(bad), 3)
    assert error.column > 0
    assert error.message_ja
    assert error.message_en
    assert report.results[2].error is not None
    with session_factory() as db:
        versions = {(d.law_id, d.version) for d in db.scalars(select(LawDocument))}
    assert versions == {(LAW_ID, "20200101_000000000000000"), ("405AC0000000998", "20200101_000000000000000")}


def test_a_file_over_the_size_cap_is_refused_before_parsing(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "20200101", [EYES, POSTED, PAPER])
    monkeypatch.setattr(imports, "parse_law", lambda *a, **k: pytest.fail("parsed a file over the cap"))
    report = laws.import_files(uow, [path], actor="test", max_bytes=100)
    [result] = report.results
    assert result.status == "failed"
    assert result.error is not None
    assert "too large" in result.error.message_en
    assert "大きすぎ" in result.error.message_ja
    with session_factory() as db:
        upload = laws.import_bytes(db, path.name, path.read_bytes(), actor="test", max_bytes=100)
    assert upload.failed == 1
    assert rows(session_factory)["documents"] == 0


def test_a_crash_after_the_provisions_leaves_the_file_unimported_and_a_rerun_finishes(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path, "20200101", [EYES], law_id="405AC0000000998")
    second = write(tmp_path, "20200101", [EYES, POSTED, PAPER])
    real = imports.upsert_items
    calls: list[str] = []

    def crash(db: Session, doc: LawDocument, *args: object, **kwargs: object) -> object:
        calls.append(doc.law_id)
        if doc.law_id == LAW_ID:
            assert db.scalar(select(LawProvision.id).where(LawProvision.document_id == doc.id)) is not None
            raise RuntimeError("power cut")
        return real(db, doc, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "upsert_items", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        laws.import_files(uow, [first, second], actor="test")
    assert calls == ["405AC0000000998", LAW_ID]
    with session_factory() as db:
        assert [d.law_id for d in db.scalars(select(LawDocument))] == [
            "405AC0000000998"
        ]  # the first committed
        assert {d for (d,) in db.execute(select(LawProvision.document_id).distinct())} == {1}
    monkeypatch.setattr(imports, "upsert_items", real)
    report = laws.import_files(uow, [first, second], actor="test")
    assert [r.status for r in report.results] == ["unchanged", "imported"]
    assert {(law, address) for law, address, *_ in items_state(session_factory)} >= {
        (LAW_ID, a) for a, _ in expected(second.read_bytes(), second.name)
    }


def test_a_newer_version_updates_items_keeping_their_review(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    v1 = write(tmp_path, "20200101", [EYES, POSTED, PAPER])
    laws.import_files(uow, [v1], actor="test")
    with uow() as db:
        eyes = laws.list_items(db, laws.ItemFilter(q="目視")).items[0]
        laws.update_item(db, eyes.id, actor="test", expected_version=eyes.version, notes="要検討")
    # v2: article 2 (posting) now also allows publication online, so its finding goes; article 4 is new
    v2 = write(tmp_path, "20210101", [EYES, PLAIN, PAPER, POSTED])
    report = laws.import_files(uow, [v2], actor="test:v2")
    [result] = report.results
    assert result.latest
    gone = expected(v1.read_bytes(), v1.name) - expected(v2.read_bytes(), v2.name)
    new = expected(v2.read_bytes(), v2.name) - expected(v1.read_bytes(), v1.name)
    assert gone
    assert new
    assert (result.absent_items, result.new_items, result.restored_items) == (len(gone), len(new), 0)
    with session_factory() as db:
        by_key = {(i.address, i.category): i for i in db.scalars(select(ReviewItem))}
        assert all(not by_key[k].present for k in gone)
        assert all(by_key[k].present and by_key[k].status == "todo" for k in new)
        kept = by_key[("main/a1/p1", eyes.category)]
        assert (kept.present, kept.notes, kept.row_version) == (True, "要検討", eyes.version + 1)
        latest = db.scalars(select(LawDocument).where(LawDocument.is_latest.is_(True))).one()
        assert kept.document_id == latest.id
        events = db.scalars(select(ReviewEvent).where(ReviewEvent.actor == "test:v2")).all()
        assert {e.item_id for e in events} == {by_key[k].id for k in gone}
        assert all(e.changes == {"present": [True, False]} for e in events)
        absent = laws.list_items(db, laws.ItemFilter(present=False))
        assert {(i.address, i.category) for i in absent.items} == gone
        assert laws.counts(db).absent == len(gone)
    # v3 has the posting article back where it was: the absent item is present again, with its history
    v3 = write(tmp_path, "20220101", [EYES, POSTED, PAPER, POSTED])
    [again] = laws.import_files(uow, [v3], actor="test:v3").results
    assert again.restored_items == len(gone)
    with session_factory() as db:
        assert all(i.present for i in db.scalars(select(ReviewItem)))


def test_an_older_version_is_stored_but_changes_no_item(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    new = write(tmp_path, "20210101", [EYES, PLAIN])
    old = write(tmp_path, "20200101", [EYES, POSTED, PAPER])
    laws.import_files(uow, [new], actor="test")
    before = items_state(session_factory)
    [result] = laws.import_files(uow, [old], actor="test").results
    assert (result.status, result.latest, result.new_items) == ("imported", False, 0)
    assert items_state(session_factory) == before
    with session_factory() as db:
        docs = {d.version: d.is_latest for d in db.scalars(select(LawDocument))}
        assert docs == {"20210101_000000000000000": True, "20200101_000000000000000": False}
        assert laws.laws(db)[0].latest_version == "20210101_000000000000000"
        assert laws.laws(db)[0].documents == 2


def test_import_order_does_not_change_the_present_items(
    tmp_path: Path, uow: Uow, session_factory: sessionmaker[Session]
) -> None:
    v1 = write(tmp_path, "20200101", [EYES, POSTED, PAPER])
    v2 = write(tmp_path, "20210101", [EYES, PLAIN, PAPER, POSTED])
    laws.import_files(uow, [v2, v1], actor="test")
    newest_first = {k for k in items_state(session_factory) if k[3]}
    assert {(a, c) for _, a, c, _, _ in newest_first} == expected(v2.read_bytes(), v2.name)


def test_an_upload_is_a_savepoint_in_the_callers_transaction(session_factory: sessionmaker[Session]) -> None:
    good = law_xml([EYES, POSTED])
    with session_factory.begin() as db:
        bad = laws.import_bytes(db, file_name("20200101"), BROKEN, actor="staff:housei")
        ok = laws.import_bytes(db, file_name("20200101"), good, actor="staff:housei")
        same = laws.import_bytes(db, "copy.xml", good, actor="staff:housei")
        not_a_law = laws.import_bytes(db, "x.xml", b"<notes/>", actor="staff:housei")
    assert [r.results[0].status for r in (bad, ok, same, not_a_law)] == [
        "failed",
        "imported",
        "unchanged",
        "failed",
    ]
    assert bad.results[0].error is not None
    assert bad.results[0].error.file == file_name("20200101")
    assert rows(session_factory)["documents"] == 1


def test_a_law_without_findings_or_an_electronic_alternative_makes_no_items(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(tmp_path, "20200101", [PLAIN, ELECTRONIC])
    [result] = laws.import_files(uow, [path], actor="test").results
    assert (result.status, result.findings) == ("imported", len(expected(path.read_bytes(), path.name)))
    assert rows(session_factory)["items"] == result.findings


@pytest.mark.skipif(not (CORPUS / "xml").is_dir(), reason="../shared/data/laws is not here")
def test_the_whole_corpus_imports_and_reimports_as_unchanged(
    uow: Uow, session_factory: sessionmaker[Session]
) -> None:
    files = sorted((CORPUS / "xml").glob("*.xml")) + sorted((CORPUS / "xml-history").glob("*.xml"))
    assert len(files) == 42
    first = laws.import_files(uow, files, actor="test")
    assert first.failed == 0
    assert first.imported + first.unchanged == 42
    assert first.imported == len({hashlib.sha256(f.read_bytes()).digest() for f in files})
    before = rows(session_factory)
    state = items_state(session_factory)
    again = laws.import_files(uow, files, actor="test")
    assert (again.imported, again.unchanged, again.failed) == (0, 42, 0)
    assert rows(session_factory) == before
    assert items_state(session_factory) == state
    with session_factory() as db:
        summaries = laws.laws(db)
        assert len(summaries) == 16
        assert {s.title for s in summaries} >= {"行政手続法", "特許法", "電気事業法", "航空法"}
        assert sum(s.documents for s in summaries) == first.imported
        assert before["provisions"] == sum(d.provisions for d in db.scalars(select(LawDocument)))
        latest = {s.law_id: s.latest_version for s in summaries}
    newest = {}
    for f in files:
        law_id, version = f.stem.split("_", 1)
        newest[law_id] = max(newest.get(law_id, ""), version)
    assert latest == newest


def test_redetect_brings_items_in_line_with_the_current_rules(
    uow: Uow, session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imported under rules that found only the first article, the law is checked again with the real rules: the
    other findings become items, the reviewed one keeps its review, and a second run changes nothing."""
    path = write(tmp_path, "20200101", [EYES, POSTED, PAPER, PLAIN])
    monkeypatch.setattr(
        imports,
        "detect_law",
        lambda provisions: [f for f in detect_law(provisions) if f.address == "main/a1/p1"],
    )
    laws.import_files(uow, [path], actor="test")
    monkeypatch.undo()
    with uow() as db:
        [first] = laws.list_items(db, laws.ItemFilter()).items
        laws.update_item(db, first.id, actor="test", expected_version=first.version, notes="確認済み")
    with uow() as db:
        [done] = laws.redetect(db, actor="test:rules")
    found = expected(path.read_bytes(), path.name)
    assert (done.law_id, done.findings, done.new_items, done.absent_items) == (
        LAW_ID,
        len(found),
        len(found) - 1,
        0,
    )
    assert {(a, c) for _, a, c, present, _ in items_state(session_factory) if present} == found
    with session_factory() as db:
        kept = laws.get_item(db, first.id)
        assert kept is not None
        assert kept.notes == "確認済み"
        assert db.scalars(select(LawDocument)).one().findings == len(found)
        assert db.scalar(select(AuditEntry.subject).where(AuditEntry.action == "laws:document:redetect")) == (
            f"law:{LAW_ID}"
        )
    state = items_state(session_factory)
    with uow() as db:
        [again] = laws.redetect(db, actor="test:rules", law_id=LAW_ID)
        assert laws.redetect(db, actor="test:rules", law_id="405AC0000000000") == ()
    assert (again.new_items, again.absent_items, again.restored_items) == (0, 0, 0)
    assert items_state(session_factory) == state
