"""The review workflow on a real database (SQLite and PostgreSQL): every move between statuses allowed or refused
(refusals write nothing), a stale row version is a conflict, edits without a move are recorded, the history is
append-only, every change is audited, and lists, filters and counts agree."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.audit.models import AuditEntry
from tsunagu.laws import api as laws
from tsunagu.laws.models import ReviewEvent, ReviewItem

from .conftest import rows

DECISION = {"phase": 2, "ministry": "デジタル庁", "deadline": dt.date(2027, 3, 31)}
ALLOWED = {("todo", "decided"), ("decided", "done"), ("decided", "todo"), ("done", "decided")}


def change(factory: sessionmaker[Session], item_id: int, **kwargs: object) -> laws.ItemDetail:
    """One change in its own transaction, at the item's current version unless given."""
    with factory.begin() as db:
        if "expected_version" not in kwargs:
            current = laws.get_item(db, item_id)
            assert current is not None
            kwargs["expected_version"] = current.version
        return laws.update_item(db, item_id, actor=str(kwargs.pop("actor", "staff:housei")), **kwargs)  # type: ignore[arg-type]


def bring_to(factory: sessionmaker[Session], item_id: int, status: str) -> None:
    if status in ("decided", "done"):
        change(factory, item_id, status="decided", **DECISION)
    if status == "done":
        change(factory, item_id, status="done")


def refused(factory: sessionmaker[Session], item_id: int, reason: str, **kwargs: object) -> laws.ReviewError:
    before = rows(factory)
    with pytest.raises(laws.ReviewError) as info:
        change(factory, item_id, **kwargs)
    assert info.value.reason == reason
    assert info.value.message_ja
    assert info.value.message_en
    assert rows(factory) == before
    return info.value


@pytest.mark.parametrize(("start", "target"), list(itertools.permutations(laws.STATUSES, 2)))
def test_every_move_between_statuses(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary], start: str, target: str
) -> None:
    item = imported[0]
    bring_to(session_factory, item.id, start)
    note = "再検討のため差し戻す" if start == "done" else ""
    if (start, target) in ALLOWED:
        fields = DECISION if start == "todo" else {}
        done = change(session_factory, item.id, status=target, note=note, **fields)
        assert done.status == target
        assert done.events[-1].from_status == start
        assert done.events[-1].to_status == target
        assert done.events[-1].note == note
    else:
        reason = "decide-first" if (start, target) == ("todo", "done") else "bad-transition"
        refused(session_factory, item.id, reason, status=target, note=note)


def test_a_decision_needs_phase_ministry_and_deadline(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    item = imported[0]
    error = refused(session_factory, item.id, "decision-incomplete", status="decided", phase=1)
    assert "所管府省" in error.message_ja
    assert "期限" in error.message_ja
    assert "ministry, deadline" in error.message_en
    refused(
        session_factory,
        item.id,
        "decision-incomplete",
        status="decided",
        phase=1,
        ministry="  ",
        deadline=None,
    )
    done = change(session_factory, item.id, status="decided", **DECISION)
    assert (done.status, done.phase, done.ministry, done.deadline) == (
        "decided",
        2,
        "デジタル庁",
        dt.date(2027, 3, 31),
    )
    assert done.version == item.version + 1
    assert done.next_statuses == ("todo", "done")
    # a decided item keeps its decision: clearing a field is refused, changing it is fine
    refused(session_factory, item.id, "decision-incomplete", ministry=None)
    assert change(session_factory, item.id, phase=3).phase == 3


def test_reopening_a_reviewed_item_needs_a_note(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    item = imported[0]
    bring_to(session_factory, item.id, "done")
    refused(session_factory, item.id, "reopen-needs-note", status="decided", note="   ")
    reopened = change(session_factory, item.id, status="decided", note="施行規則の改正待ち")
    assert reopened.status == "decided"
    assert [(e.from_status, e.to_status) for e in reopened.events] == [
        ("todo", "decided"),
        ("decided", "done"),
        ("done", "decided"),
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "finished"}, "unknown-status"),
        ({"phase": 4}, "bad-phase"),
        ({"phase": 0}, "bad-phase"),
        ({"ministry": "省" * 101}, "ministry-too-long"),
        ({"notes": "x" * 2001}, "notes-too-long"),
        ({"note": "x" * 2001}, "note-too-long"),
    ],
)
def test_bad_values_are_refused(
    session_factory: sessionmaker[Session],
    imported: list[laws.ItemSummary],
    fields: dict[str, object],
    reason: str,
) -> None:
    refused(session_factory, imported[0].id, reason, **fields)


def test_a_stale_version_is_a_conflict_and_writes_nothing(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    item = imported[0]
    change(session_factory, item.id, notes="先に開いた人の変更", expected_version=item.version)
    before = rows(session_factory)
    with pytest.raises(laws.ReviewConflict) as info:
        change(session_factory, item.id, notes="後から保存", expected_version=item.version)
    assert info.value.current_version == item.version + 1
    assert info.value.status == 409
    assert "他の担当者" in info.value.message_ja
    assert rows(session_factory) == before
    with session_factory() as db:
        current = laws.get_item(db, item.id)
    assert current is not None
    assert current.notes == "先に開いた人の変更"


def test_a_missing_item_is_not_found(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        assert laws.get_item(db, 999) is None
        with pytest.raises(laws.NotFound) as info:
            laws.update_item(db, 999, actor="x", expected_version=1, status="decided")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, laws.ItemNotFound)


def test_edits_without_a_move_are_recorded_and_audited(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    item = imported[1]
    edited = change(
        session_factory,
        item.id,
        phase=1,
        ministry=" 経済産業省 ",
        notes="  要確認  ",
        note="所管を確認",
        actor="staff:a",
    )
    assert (edited.status, edited.phase, edited.ministry, edited.notes) == ("todo", 1, "経済産業省", "要確認")
    [event] = edited.events
    assert event.changes == {"phase": [None, 1], "ministry": [None, "経済産業省"], "notes": ["", "要確認"]}
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        "staff:a",
        "所管を確認",
        "todo",
        "todo",
    )
    cleared = change(session_factory, item.id, phase=None, deadline=None)
    assert cleared.phase is None
    assert cleared.events[-1].changes == {"phase": [1, None]}
    with session_factory() as db:
        audit = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "laws:review_item:change").order_by(AuditEntry.id)
        ).all()
    assert [(a.actor, a.subject) for a in audit] == [
        ("staff:a", f"laws_item:{item.id}"),
        ("staff:housei", f"laws_item:{item.id}"),
    ]
    assert audit[0].detail["fields"] == ["ministry", "notes", "phase"]
    assert audit[0].detail["from_status"] == audit[0].detail["to_status"] == "todo"


def test_nothing_to_change_writes_nothing_but_a_note_alone_is_kept(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    item = imported[0]
    before = rows(session_factory)
    same = change(session_factory, item.id, status="todo", phase=None)
    assert same.version == item.version
    assert rows(session_factory) == before
    noted = change(session_factory, item.id, note="担当課に照会中")
    assert noted.version == item.version + 1
    assert noted.events[-1].changes == {}
    assert noted.events[-1].note == "担当課に照会中"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE laws_review_events SET note = 'rewritten'", id="update"),
        pytest.param("DELETE FROM laws_review_events", id="delete"),
    ],
)
def test_the_history_is_append_only(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary], statement: str
) -> None:
    change(session_factory, imported[0].id, notes="一件目")
    with session_factory() as db:
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        db.rollback()
        assert db.scalar(select(ReviewEvent.note)) == ""
        assert len(db.scalars(select(ReviewEvent)).all()) == 1


def test_lists_filters_and_counts_agree(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> None:
    first, second = imported[0], imported[1]
    bring_to(session_factory, first.id, "done")
    change(
        session_factory,
        second.id,
        status="decided",
        phase=3,
        ministry="国土交通省",
        deadline=dt.date(2026, 12, 1),
    )
    with session_factory() as db:
        c = laws.counts(db)
        for row in c.rows:
            for status in laws.STATUSES:
                page = laws.list_items(db, laws.ItemFilter(category=row.category, status=status))
                assert page.total == row.get(status) == c.get(row.category, status)
        assert c.totals.total == laws.list_items(db, laws.ItemFilter()).total == len(imported)
        assert c.totals.done == 1
        assert c.done_ratio == pytest.approx(1 / len(imported))
        assert [r.category for r in c.rows][: len(laws.CATEGORIES)] == list(laws.CATEGORIES)
        assert laws.counts(db, law_id="405AC0000000000").totals.total == 0

        def ids(**kw: object) -> list[int]:
            return [i.id for i in laws.list_items(db, laws.ItemFilter(**kw)).items]  # type: ignore[arg-type]

        assert ids(status="done") == [first.id]
        assert ids(ministry="国土") == [second.id]
        assert ids(ministry="%") == []  # LIKE wildcards are text
        assert ids(phase=3) == [second.id]
        assert ids(law_id=first.law_id) == [i.id for i in imported]
        assert ids(law_id="405AC0000000000") == []
        assert ids(q=first.matched)[0] == first.id
        assert ids(q="試験規制法") == [i.id for i in imported]  # the law title
        assert ids(q="公布の日") == []  # in a provision with no finding
        assert ids(present=False) == []
        assert ids(present=None) == [i.id for i in imported]
        page = laws.list_items(db, laws.ItemFilter(), offset=1, limit=1)
        assert (page.total, [i.id for i in page.items]) == (len(imported), [imported[1].id])
        assert imported == sorted(imported, key=lambda i: i.address)  # provision order
        summary = imported[0]
        assert summary.article_label == "第一条第一項"
        assert summary.law_title == "試験規制法"
        assert summary.category_ja == laws.category_names()[summary.category]
        assert (
            summary.before + summary.matched + summary.after
            in "管理者は、設備の状態を目視により確認しなければならない。"
        )
        detail = laws.get_item(db, summary.id)
        assert detail is not None
        assert detail.text[detail.start : detail.end] == detail.matched
        assert detail.law_version == "20200101_000000000000000"
        assert detail.technology
        [law] = laws.laws(db)
        assert (law.title, law.documents, law.items) == ("試験規制法", 1, len(imported))
        stored = db.scalars(select(ReviewItem).where(ReviewItem.id == first.id)).one()
        assert stored.status == "done"
