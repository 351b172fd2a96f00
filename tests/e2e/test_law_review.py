"""The law review as a new user would meet it, in Chromium (1280 px and a 360 px phone), with axe-core on every page
and no sideways scrolling: the 法令見直し担当 (``housei``) logs in, uploads law XML files on the import page, opens
the findings and filters them by a category, opens one, tries to decide its policy without a ministry (told on the
form), then moves it 未着手 → 見直し方針決定 (phase, ministry, deadline) → 見直し済; checks a draft sentence and reads
the finding with its rewrite; and exports the CSV through the link (BOM, Japanese and English header, the moved item
見直し済).

The demo already imported the current laws, so their upload reads 変更なし; an older version from xml-history is
imported (stored, not the latest). Each viewport's run moves an item of its own (the first 未着手 one)."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

from .conftest import ROOT, Server

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

pytestmark = pytest.mark.e2e

REVIEWER = ("housei", "demo-housei-pass")
LAWS = ROOT.parent / "shared" / "data" / "laws"
UPLOADS = (
    "xml/405AC0000000088_20240401_504AC0100000052.xml",  # 行政手続法 (current: imported by the demo)
    "xml/419M60400000005_20201228_502M60400000013.xml",  # a ministerial ordinance (current)
    "xml-history/419M60400000005_20161001_000000000000000.xml",  # its older version: stored, not the latest
)
CATEGORY = "書面交付"
DRAFT = "事業者は、その事業所に許可証を掲示しなければならない。"


def _login(page: Page, server: Server, axe_check: Check) -> None:
    page.goto(server.at("/staff/login"))
    page.get_by_label("ユーザー名").fill(REVIEWER[0])
    page.get_by_label("パスワード").fill(REVIEWER[1])
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(server.at("/staff"))
    axe_check(page, "staff home (law reviewer)")
    page.locator("main").get_by_role("link", name="法令の見直し").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("法令の見直し")


def _import(page: Page, axe_check: Check, shot: Shot) -> None:
    page.get_by_role("link", name="法令XMLの取込み").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("法令XMLの取込み")
    axe_check(page, "import form")
    page.get_by_label("法令XMLファイル（複数選べます）").set_input_files([LAWS / f for f in UPLOADS])
    page.get_by_role("button", name="取り込む").click()
    expect(page.get_by_role("heading", name="取込みの結果")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("失敗 0 件")
    outcomes = page.locator("td[data-label='結果']").all_inner_texts()
    assert len(outcomes) == len(UPLOADS)
    assert all(o in {"取り込みました", "変更なし（取込み済み）"} for o in outcomes), outcomes
    expect(page.locator("main")).to_contain_text("行政手続法")
    axe_check(page, "import results")
    shot(page, "laws-import")
    page.get_by_role("link", name="指摘事項を見る").click()


def _open_first_todo(page: Page, axe_check: Check, shot: Shot) -> str:
    expect(page.get_by_role("table", name=re.compile("類型・状態ごとの件数"))).to_be_visible()
    axe_check(page, "findings")
    page.get_by_label("類型", exact=True).select_option(label=CATEGORY)
    page.get_by_label("状態", exact=True).select_option(label="未着手")
    page.get_by_role("button", name="表示する").click()
    expect(page).to_have_url(re.compile(r"category=shomen"))
    categories = page.locator("td[data-label='類型']").all_inner_texts()
    assert categories, "no 未着手 書面交付 finding left"
    assert set(categories) == {CATEGORY}
    expect(page.locator("td[data-label='該当箇所'] mark").first).to_be_visible()
    axe_check(page, "findings filtered")
    page.locator("#items-heading").evaluate("e => e.scrollIntoView()")
    shot(page, "laws-findings", full_page=False)
    shot(page, "laws-findings-phone-360", full_page=False)
    page.locator("td[data-label='条項'] a").first.click()
    expect(page).to_have_url(re.compile(r"/staff/laws/items/\d+$"))
    return page.url.rsplit("/", 1)[1]


def _review(page: Page, axe_check: Check, shot: Shot) -> None:
    expect(page.locator("blockquote mark")).to_be_visible()
    axe_check(page, "item")
    page.get_by_label("見直し方針決定", exact=True).check()
    page.get_by_label("フェーズ2 一部自動化").check()
    page.get_by_label("期限").fill("2027-03-31")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("alert")).to_contain_text("所管府省を入力してください")
    expect(page.get_by_label("所管府省")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("期限")).to_have_value("2027-03-31")  # the input is kept
    axe_check(page, "item refused")
    shot(page, "laws-item-refused")
    page.get_by_label("見直し方針決定", exact=True).check()
    page.get_by_label("所管府省").fill("経済産業省")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("見直しの記録を保存しました")
    axe_check(page, "item decided")
    page.get_by_label("見直し済").check()
    page.get_by_label("履歴に残すメモ").fill("電磁的方法による提供を認める改正案を確認した")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("見直しの記録を保存しました")
    history = page.locator("section", has=page.locator("#history-heading"))
    expect(history).to_contain_text("見直し方針決定 → 見直し済")
    expect(history).to_contain_text("経済産業省")
    axe_check(page, "item reviewed")
    shot(page, "laws-item")
    shot(page, "laws-item-phone-360")


def _check_draft(page: Page, server: Server, axe_check: Check, shot: Shot) -> None:
    page.goto(server.at("/staff/laws"))
    page.get_by_role("link", name="条文案のデジタル原則適合性確認").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("デジタル原則適合性確認")
    axe_check(page, "draft form")
    page.get_by_label("条文案").fill(DRAFT)
    page.get_by_role("button", name="確認する").click()
    expect(page.get_by_role("heading", name="確認の結果")).to_be_visible()
    finding = page.locator("article.finding").first
    expect(finding.get_by_role("heading")).to_contain_text("書面掲示")
    expect(finding.locator("mark")).to_have_text("掲示")
    expect(finding.locator("ins")).to_contain_text("インターネットの利用その他の方法により公衆の閲覧に供し")
    expect(finding).to_contain_text("デジタル完結・自動化原則")
    axe_check(page, "draft result")
    shot(page, "laws-draft")
    shot(page, "laws-draft-phone-360")


def _export(page: Page, server: Server, item_id: str, tmp_path: Path) -> None:
    page.goto(server.at("/staff/laws"))
    page.get_by_label("類型", exact=True).select_option(label=CATEGORY)
    page.get_by_role("button", name="表示する").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV（Excel 用）").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert re.fullmatch(r"laws-review-\d{8}\.csv", target.name), target.name
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows
    assert "状態 (Status)" in rows[0]
    assert {r["類型 (Category)"] for r in rows} == {CATEGORY}
    [moved] = [r for r in rows if r["ID"] == item_id]
    assert moved["状態 (Status)"] == "見直し済"
    assert moved["所管府省 (Ministry)"] == "経済産業省"


def test_law_review(page: Page, server: Server, axe_check: Check, shot: Shot, tmp_path: Path) -> None:
    if not all((LAWS / f).is_file() for f in UPLOADS):
        pytest.skip(f"the law XML files are not at {LAWS} (../shared/data/laws)")
    _login(page, server, axe_check)
    shot(page, "laws-overview", full_page=False)
    shot(page, "laws-overview-phone-360", full_page=False)
    _import(page, axe_check, shot)
    item_id = _open_first_todo(page, axe_check, shot)
    _review(page, axe_check, shot)
    _check_draft(page, server, axe_check, shot)
    _export(page, server, item_id, tmp_path)
