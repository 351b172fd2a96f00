"""Reports of the review items (SQLite and PostgreSQL): CSV that Excel opens (BOM, CRLF, Japanese and English
headers, no formulas), JSON with the counts, and an accessible standalone HTML page; filters apply to all three."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.laws import api as laws


@pytest.fixture
def reviewed(
    session_factory: sessionmaker[Session], imported: list[laws.ItemSummary]
) -> list[laws.ItemSummary]:
    """The first item decided by a ministry whose name would be a spreadsheet formula, with notes in markup."""
    with session_factory.begin() as db:
        laws.update_item(
            db,
            imported[0].id,
            actor="staff:housei",
            expected_version=imported[0].version,
            status="decided",
            phase=1,
            ministry="=HYPERLINK(1)",
            deadline=dt.date(2027, 3, 31),
            notes='<script>alert("x")</script>',
        )
    return imported


def report(factory: sessionmaker[Session], fmt: str, **flt: object) -> bytes:
    with factory() as db:
        return laws.report(db, laws.ItemFilter(**flt), fmt)  # type: ignore[arg-type]


def test_csv_opens_in_excel(session_factory: sessionmaker[Session], reviewed: list[laws.ItemSummary]) -> None:
    data = report(session_factory, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    body = data[3:].decode("utf-8")
    assert body.count("\r\n") == len(reviewed) + 1
    assert "\n" not in body.replace("\r\n", "")
    table = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(table) == len(reviewed)
    header = list(table[0])
    assert "法令名 (Law title)" in header
    assert "状態 (Status)" in header
    assert "所管府省 (Ministry)" in header
    first = table[0]
    assert int(first["ID"]) == reviewed[0].id
    assert first["状態 (Status)"] == "見直し方針決定"
    assert first["条項 (Provision)"] == "第一条第一項"
    assert first["所管府省 (Ministry)"] == "'=HYPERLINK(1)"  # not run as a formula
    assert first["期限 (Deadline)"] == "2027-03-31"
    assert first["最新版で該当 (Found in latest version)"] == "はい"
    assert {row["状態 (Status)"] for row in table[1:]} == {"未着手"}


def test_json_has_items_and_counts(
    session_factory: sessionmaker[Session], reviewed: list[laws.ItemSummary]
) -> None:
    data = json.loads(report(session_factory, "json", status="decided"))
    assert [i["id"] for i in data["items"]] == [reviewed[0].id]
    assert data["items"][0]["ministry"] == "=HYPERLINK(1)"  # JSON keeps the value as it is
    assert data["filter"] == {"status": "decided", "present": True}
    assert data["counts"]["totals"] == {
        "todo": len(reviewed) - 1,
        "decided": 1,
        "done": 0,
        "total": len(reviewed),
    }
    assert [r["category"] for r in data["counts"]["by_category"]][: len(laws.CATEGORIES)] == list(
        laws.CATEGORIES
    )


def test_html_is_a_standalone_accessible_page(
    session_factory: sessionmaker[Session], reviewed: list[laws.ItemSummary]
) -> None:
    data = report(session_factory, "html", law_id=reviewed[0].law_id)
    assert b"<script>" not in data
    page = lxml_html.fromstring(data)
    assert page.get("lang") == "ja"
    assert page.findtext(".//title")
    tables = page.findall(".//table")
    assert len(tables) == 2
    for table in tables:
        assert table.find("caption") is not None
        assert all(th.get("scope") in ("col", "row") for th in table.iter("th"))
    items = tables[1].findall("./tbody/tr")
    assert len(items) == len(reviewed)
    assert items[0].find(".//mark").text == reviewed[0].matched


def test_filters_apply_and_an_unknown_format_is_refused(
    session_factory: sessionmaker[Session], reviewed: list[laws.ItemSummary]
) -> None:
    only_todo = report(session_factory, "csv", status="todo")
    assert only_todo[3:].decode().count("\r\n") == len(reviewed)
    nothing = report(session_factory, "csv", law_id="405AC0000000000")
    assert nothing[3:].decode().count("\r\n") == 1
    with pytest.raises(ValueError, match="format"):
        report(session_factory, "xlsx")
