"""The law-review staff pages over HTTP (/staff/laws): only the 法令見直し担当 may use them (anonymous visitors are
sent to the login, other staff roles refused); CSRF on every form; the progress table, filters and pagination; the
report downloads with the filters (CSV with a BOM); the workflow (未着手 → 見直し方針決定 → 見直し済) with each
refusal and a conflict told on the form; law XML upload (new, the same again, malformed); the draft checker on
pasted text and on XML.

The laws are small synthetic documents written here (no finding counts of the real corpus are assumed)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import ClientFactory, LoginFn, _logged_in
from tests.integration.laws.synthetic import EYES, PAPER, file_name
from tests.integration.laws.synthetic import law_xml as synthetic_law

from tsunagu.audit.models import AuditEntry
from tsunagu.laws import api
from tsunagu.laws.models import LawDocument, ReviewItem

UoW = Callable[[], AbstractContextManager[Session]]
HOUSEI = ("housei", "demo-housei-pass")
HOKEN = ("hoken", "demo-hoken-pass")
POSTING = "事業者は、その事業所に許可証を掲示しなければならない。"


def law_xml(law_id: str, title: str, sentences: list[str]) -> bytes:
    return synthetic_law(sentences, law_id=law_id, title=title)


BIG_LAW = "509AC0000000901"
MIXED_LAW = "509AC0000000902"
BIG = law_xml(BIG_LAW, "掲示試験法", [POSTING] * 60)
MIXED = law_xml(MIXED_LAW, "見直し試験法", [PAPER, EYES, POSTING, "事業者は、料金を定めなければならない。"])


@pytest.fixture(scope="module")
def laws_loaded(web_app: FastAPI) -> dict[str, int]:
    """The two synthetic laws imported once for the module; the category → count of the mixed law's items."""
    with web_app.state.ctx.uow() as db:
        for law_id, data in ((BIG_LAW, BIG), (MIXED_LAW, MIXED)):
            report = api.import_bytes(db, file_name("20270401", law_id=law_id), data, actor="test")
            assert report.imported == 1, report
        page = api.list_items(db, api.ItemFilter(law_id=MIXED_LAW), limit=50)
    found: dict[str, int] = {}
    for item in page.items:
        found[item.category] = found.get(item.category, 0) + 1
    assert {"keiji", "shomen", "mokushi"} <= set(found), found
    return found


@pytest.fixture
def reviewer(new_client: ClientFactory, login: LoginFn, laws_loaded: dict[str, int]) -> TestClient:
    del laws_loaded
    return _logged_in(new_client, login, *HOUSEI)


def token_of(c: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert match, path
    return match.group(1)


def first_item(web_db: UoW, category: str, status: str = "todo") -> int:
    with web_db() as db:
        found = db.scalar(
            select(ReviewItem.id)
            .where(ReviewItem.category == category, ReviewItem.status == status, ReviewItem.present.is_(True))
            .order_by(ReviewItem.id)
        )
    assert found is not None, (category, status)
    return int(found)


def form_of(page: str) -> dict[str, str]:
    """The workflow form's values as the page shows them (checked radios, inputs, textareas)."""
    values = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]
    values["expected_version"] = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    for name in ("status", "phase"):
        checked = re.search(rf'name="{name}" value="([^"]*)" checked', page)
        values[name] = checked.group(1) if checked else ""
    for name in ("ministry", "deadline"):
        values[name] = re.search(rf'name="{name}"[^>]* value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    for name in ("notes", "note"):
        values[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', page).group(1)  # type: ignore[union-attr]
    return values


# --- who may use the pages -----------------------------------------------------------------------------------

PATHS = [
    "/staff/laws",
    "/staff/laws/items/1",
    "/staff/laws/import",
    "/staff/laws/draft",
    "/staff/laws/report.csv",
]


def test_anonymous_visitors_are_sent_to_the_login(client: TestClient) -> None:
    for path in PATHS:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/staff/login?next=/staff/laws")


def test_other_staff_roles_are_refused(
    clerk: TestClient, new_client: ClientFactory, login: LoginFn, laws_loaded: dict[str, int]
) -> None:
    del laws_loaded
    hoken = _logged_in(new_client, login, *HOKEN)
    for staff in (clerk, hoken):
        for path in PATHS:
            assert staff.get(path).status_code == 403, path
        assert "/staff/laws" not in staff.get("/staff").text  # no menu entry either


def test_forms_need_the_csrf_token(reviewer: TestClient, web_db: UoW) -> None:
    item = first_item(web_db, "keiji")
    assert reviewer.post(f"/staff/laws/items/{item}", data={"status": "todo"}).status_code == 403
    assert reviewer.post("/staff/laws/draft", data={"text": POSTING}).status_code == 403
    files = {"files": ("x.xml", MIXED, "application/xml")}
    assert reviewer.post("/staff/laws/import", files=files).status_code == 403


def test_the_reviewer_has_the_menu_entry(reviewer: TestClient) -> None:
    home = reviewer.get("/staff").text
    assert 'href="/staff/laws"' in home
    assert "法令の見直し" in home


# --- the overview: progress, filters, pages ------------------------------------------------------------------


def test_progress_table_counts_per_category_and_status(reviewer: TestClient, web_app: FastAPI) -> None:
    page = reviewer.get("/staff/laws")
    assert page.status_code == 200
    with web_app.state.ctx.uow() as db:
        counts = api.counts(db)
    table = page.text[page.text.index('<table class="counts">') : page.text.index("</table>")]
    assert "<caption" in table
    assert '<th scope="col"' in table
    assert '<th scope="row">書面掲示</th>' in table
    assert f'<td class="num">{counts.totals.total:,}</td>' in table
    assert "<tfoot>" in table
    assert f"{counts.totals.total:,} 件" in page.text


def test_filter_by_category_and_law(reviewer: TestClient, laws_loaded: dict[str, int]) -> None:
    page = reviewer.get("/staff/laws", params={"category": "shomen"}).text
    rows = re.findall(r'data-label="類型">([^<]+)</td>', page)
    assert rows
    assert set(rows) == {"書面交付"}
    assert '<option value="shomen" selected>' in page
    page = reviewer.get("/staff/laws", params={"law": MIXED_LAW}).text
    assert len(re.findall(r'href="/staff/laws/items/\d+"', page)) == sum(laws_loaded.values())
    assert "<mark>掲示</mark>" in page
    page = reviewer.get("/staff/laws", params={"law": MIXED_LAW, "q": "目視"}).text
    assert re.findall(r'data-label="類型">([^<]+)</td>', page) == ["目視"]


def test_fifty_a_page_with_links_that_keep_the_filters(reviewer: TestClient) -> None:
    first = reviewer.get("/staff/laws", params={"law": BIG_LAW}).text
    assert len(re.findall(r'href="/staff/laws/items/\d+"', first)) == 50
    assert 'aria-label="ページ送り"' in first
    assert f'href="/staff/laws?law={BIG_LAW}&amp;page=2" rel="next"' in first
    second = reviewer.get("/staff/laws", params={"law": BIG_LAW, "page": "2"}).text
    assert len(re.findall(r'href="/staff/laws/items/\d+"', second)) == 10
    assert 'aria-current="page">2<' in second
    beyond = reviewer.get("/staff/laws", params={"law": BIG_LAW, "page": "99"}).text
    assert 'aria-current="page">2<' in beyond
    bad = reviewer.get("/staff/laws", params={"category": "nonsense", "phase": "9", "page": "x"})
    assert bad.status_code == 200  # values that are not choices are ignored


def test_reports_carry_the_filters(reviewer: TestClient, laws_loaded: dict[str, int]) -> None:
    page = reviewer.get("/staff/laws", params={"law": MIXED_LAW, "category": "keiji"}).text
    link = re.search(r'href="(/staff/laws/report\.csv\?[^"]+)"', page)
    assert link
    csv_response = reviewer.get(link.group(1).replace("&amp;", "&"))
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert re.match(
        r'attachment; filename="laws-review-\d{8}\.csv"', csv_response.headers["content-disposition"]
    )
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert "法令ID (Law ID)" in rows[0]
    assert len(rows) - 1 == laws_loaded["keiji"]
    as_json = reviewer.get(f"/staff/laws/report.json?law={MIXED_LAW}")
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.headers["content-disposition"].endswith('.json"')
    assert json.loads(as_json.content)
    as_html = reviewer.get(f"/staff/laws/report.html?law={MIXED_LAW}")
    assert as_html.headers["content-type"].startswith("text/html")
    assert "<caption" in as_html.text
    assert reviewer.get("/staff/laws/report.pdf").status_code == 404


# --- one item and its workflow -------------------------------------------------------------------------------


def test_the_item_page_shows_the_evidence_and_only_the_allowed_next_states(
    reviewer: TestClient, web_db: UoW
) -> None:
    item = first_item(web_db, "mokushi")
    page = reviewer.get(f"/staff/laws/items/{item}").text
    assert "<mark>目視</mark>" in page
    assert "見直し試験法" in page
    assert 'name="status" value="todo" checked' in page
    assert 'value="decided"' in page
    assert 'value="done"' not in page  # 未着手 cannot go straight to 見直し済
    assert "フェーズ1 デジタル完結の補助" in page
    assert 'type="date"' in page
    assert reviewer.get("/staff/laws/items/999999").status_code == 404


def _decide(values: dict[str, str], **changes: str) -> dict[str, str]:
    values = dict(values)
    values.update({"status": "decided", "phase": "2", "ministry": "経済産業省", "deadline": "2027-03-31"})
    values.update(changes)
    return values


def test_an_item_goes_through_the_workflow(reviewer: TestClient, web_db: UoW) -> None:
    item = first_item(web_db, "keiji")
    path = f"/staff/laws/items/{item}"
    done = reviewer.post(path, data=_decide(form_of(reviewer.get(path).text)), follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=saved"
    page = reviewer.get(done.headers["location"]).text
    assert "見直しの記録を保存しました" in page
    assert 'name="status" value="decided" checked' in page
    assert 'value="done"' in page
    assert 'value="todo"' in page  # may be reconsidered
    values = form_of(page)
    values.update(status="done", note="掲示に加えウェブ公表を義務付ける改正案を確認")
    assert reviewer.post(path, data=values, follow_redirects=False).status_code == 303
    page = reviewer.get(path).text
    assert 'name="status" value="done" checked' in page
    history = page[page.index('id="history-heading"') :]
    assert "未着手 → 見直し方針決定" in history
    assert "見直し方針決定 → 見直し済" in history
    assert "経済産業省" in history
    assert "ウェブ公表" in history
    with web_db() as db:
        row = db.get_one(ReviewItem, item)
        assert (row.status, row.phase, row.ministry, str(row.deadline)) == (
            "done",
            2,
            "経済産業省",
            "2027-03-31",
        )
        audits = db.scalar(
            select(func.count()).where(
                AuditEntry.action == "laws:review_item:change", AuditEntry.actor == "housei"
            )
        )
    assert audits == 2
    unchanged = reviewer.post(path, data=form_of(reviewer.get(path).text), follow_redirects=False)
    assert unchanged.headers["location"] == f"{path}?done=unchanged"


@pytest.mark.parametrize(
    ("changes", "message", "invalid"),
    [
        ({"phase": "", "ministry": ""}, "フェーズ・所管府省を入力してください", ("i-status",)),
        ({"deadline": "not-a-date"}, "期限を日付で入力してください", ("i-deadline",)),
        ({"phase": "7"}, "フェーズを選んでください", ()),
        ({"status": "done"}, "先に見直し方針を決定してください", ()),
        ({"ministry": "省" * 101}, "所管府省は100文字以内", ("i-ministry",)),
    ],
)
def test_a_refused_change_is_told_on_the_form_and_keeps_the_input(
    reviewer: TestClient, web_db: UoW, changes: dict[str, str], message: str, invalid: tuple[str, ...]
) -> None:
    item = first_item(web_db, "keiji")
    path = f"/staff/laws/items/{item}"
    values = _decide(form_of(reviewer.get(path).text), notes="検討中のメモ", **changes)
    refused = reviewer.post(path, data=values)
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert message in refused.text
    assert ">検討中のメモ</textarea>" in refused.text
    for field in invalid:
        if field == "i-status":  # decision-incomplete marks the missing fields
            assert re.search(r'id="i-ministry"[^>]*aria-invalid="true"', refused.text)
            assert re.search(r'id="i-phase" aria-invalid="true"', refused.text)
        else:
            assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text)
    with web_db() as db:
        assert db.get_one(ReviewItem, item).status == "todo"


def test_reopening_a_reviewed_item_needs_a_note(reviewer: TestClient, web_db: UoW) -> None:
    item = first_item(web_db, "shomen")
    path = f"/staff/laws/items/{item}"
    assert reviewer.post(path, data=_decide(form_of(reviewer.get(path).text))).status_code == 200
    values = form_of(reviewer.get(path).text)
    assert reviewer.post(path, data={**values, "status": "done"}).status_code == 200
    values = form_of(reviewer.get(path).text)
    refused = reviewer.post(path, data={**values, "status": "decided"})
    assert refused.status_code == 422
    assert "理由をメモに書いてください" in refused.text
    assert re.search(r'id="i-note"[^>]*aria-invalid="true"', refused.text)
    reopened = reviewer.post(path, data={**values, "status": "decided", "note": "法改正の範囲を再検討"})
    assert reopened.status_code == 200
    assert 'name="status" value="decided" checked' in reopened.text


def test_a_conflict_is_told_on_the_form_with_the_input_kept(
    reviewer: TestClient, new_client: ClientFactory, login: LoginFn, web_db: UoW
) -> None:
    item = first_item(web_db, "keiji")
    path = f"/staff/laws/items/{item}"
    mine = form_of(reviewer.get(path).text)
    other = _logged_in(new_client, login, *HOUSEI)
    theirs = form_of(other.get(path).text)
    assert other.post(path, data={**theirs, "notes": "先に保存"}).status_code == 200
    refused = reviewer.post(path, data=_decide(mine, ministry="国土交通省"))
    assert refused.status_code == 409
    assert "他の担当者が先に変更しました" in refused.text
    assert 'value="国土交通省"' in refused.text
    again = form_of(refused.text)
    assert int(again["expected_version"]) == int(mine["expected_version"]) + 1
    assert reviewer.post(path, data=again, follow_redirects=False).status_code == 303


# --- import ----------------------------------------------------------------------------------------------------


def test_upload_new_the_same_again_and_malformed(reviewer: TestClient, web_db: UoW) -> None:
    new_law = "509AC0000000903"
    good = law_xml(new_law, "取込試験法", [PAPER])
    bad = good.replace(b"</Paragraph>", b"</Paragrap>", 1)
    name = file_name("20270401", law_id=new_law)
    with pytest.raises(api.LawXmlError) as parsed:
        api.parse_law(bad, name=name)
    where = f"{parsed.value.line}行 {parsed.value.column}列: XML として正しくありません"
    token = token_of(reviewer, "/staff/laws/import")

    def documents() -> int:
        with web_db() as db:
            return int(db.scalar(select(func.count()).select_from(LawDocument)) or 0)

    before = documents()
    page = reviewer.post(
        "/staff/laws/import",
        data={"csrf_token": token},
        files=[
            ("files", (name, good, "application/xml")),
            ("files", ("509AC0000000904_20270401_000000000000000.xml", bad, "application/xml")),
        ],
    )
    assert page.status_code == 200
    assert "取り込み 1 件、変更なし 0 件、失敗 1 件" in page.text
    assert "取込試験法" in page.text
    assert where in page.text
    assert documents() == before + 1  # nothing of the malformed file
    again = reviewer.post(
        "/staff/laws/import", data={"csrf_token": token}, files=[("files", (name, good, "application/xml"))]
    )
    assert "取り込み 0 件、変更なし 1 件、失敗 0 件" in again.text
    assert documents() == before + 1
    empty = reviewer.post("/staff/laws/import", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "取り込む XML ファイルを選んでください" in empty.text


# --- the draft checker -----------------------------------------------------------------------------------------


def visible(html: str) -> str:
    """The page as seen: without the words only screen readers hear (［追加：…］ around a change)."""
    return re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)


def _draft(c: TestClient, **data: Any) -> Any:
    files = data.pop("files", None)
    return c.post(
        "/staff/laws/draft", data={"csrf_token": token_of(c, "/staff/laws/draft"), **data}, files=files
    )


def test_a_pasted_draft_gets_findings_and_rewrites(reviewer: TestClient) -> None:
    form = reviewer.get("/staff/laws/draft").text
    assert "<details" in form
    assert "<textarea" in form
    page = _draft(reviewer, text=f"第三条　{POSTING}\n２　{EYES}")
    assert page.status_code == 200
    assert "第三条第一項 — 書面掲示" in page.text
    assert "<mark>掲示</mark>" in page.text
    assert "掲示し<ins>、及びインターネットの利用その他の方法により公衆の閲覧に供し</ins>なければ" in visible(
        page.text
    )
    assert '<span class="visually-hidden">［追加：</span>' in page.text
    assert "デジタル完結・自動化原則" in page.text
    assert "第三条第二項 — 目視" in page.text
    assert POSTING in page.text  # the textarea keeps the text


def test_a_draft_that_already_allows_electronic_means_has_no_finding(reviewer: TestClient) -> None:
    page = _draft(reviewer, text="事業者は、書面の交付に代えて、電磁的方法により提供することができる。")
    assert page.status_code == 200
    assert "アナログ規制に当たる文言は見つかりませんでした" in page.text


def test_draft_limits_and_errors(reviewer: TestClient) -> None:
    empty = _draft(reviewer, text="  ")
    assert empty.status_code == 422
    assert "確認する条文を入力してください" in empty.text
    too_long = _draft(reviewer, text="あ" * 20_001)
    assert too_long.status_code == 413
    assert "20,000文字以内" in too_long.text
    way_too_long = _draft(reviewer, text="あ" * 200_000)
    assert way_too_long.status_code == 413
    assert "20,000文字まで" in way_too_long.text
    malformed = MIXED.replace(b"</Paragraph>", b"</Paragrap>", 1)
    bad = _draft(reviewer, text="", files={"file": ("draft.xml", malformed, "application/xml")})
    assert bad.status_code == 422
    assert re.search(r"\d+行 \d+列: XML として正しくありません", bad.text)
    big = _draft(
        reviewer, text="", files={"file": ("big.xml", b" " * (2 * 1024 * 1024 + 1), "application/xml")}
    )
    assert big.status_code == 413


def test_a_draft_in_xml_is_checked(reviewer: TestClient) -> None:
    page = _draft(reviewer, text="", files={"file": ("draft.xml", MIXED, "application/xml")})
    assert page.status_code == 200
    assert "見直し試験法" in page.text
    assert "第一条第一項 — 書面交付" in page.text
    assert "交付し<ins>、又は電磁的方法により提供し</ins>なければ" in visible(page.text)


def test_the_pages_read_in_english(reviewer: TestClient, web_db: UoW) -> None:
    reviewer.get("/language/en")
    assert "<h1>Law review</h1>" in reviewer.get("/staff/laws").text
    page = _draft(reviewer, text=POSTING)
    assert "Digital completion and automation" in page.text
    assert "Posted paper notice" in page.text
    item = reviewer.get(f"/staff/laws/items/{first_item(web_db, 'mokushi')}").text
    assert "Phase 1: digital assistance" in item
    reviewer.get("/language/ja")
