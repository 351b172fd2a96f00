"""What a resident and a registry clerk do in the browser, at 1280 px and on a 360×740 phone.

Every page visited is checked with axe-core (no serious or critical violation) and for sideways scrolling.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Locator, Page
    from tests.e2e.conftest import Server

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

pytestmark = pytest.mark.e2e

CLERK = ("clerk", "demo-clerk-pass")
# Common family names in Faker's ja_JP tables; the seeded town of 300 has at least one of them.
FAMILY_KANA = (
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "ワタナベ",
    "イトウ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
)
NEW_BLOCK = "2番3号"


def no_shot(*_args: object, **_kwargs: object) -> None:
    """For journeys that pass through pages the main journey already photographs."""


def html_lang(page: Page) -> str:
    lang: str = page.evaluate("document.documentElement.lang")
    return lang


def test_top_page_in_japanese_then_english_and_back(
    page: Page, server: Server, axe_check: Check, shot: Shot
) -> None:
    page.goto(server.at("/"))
    assert html_lang(page) == "ja"
    expect(page.get_by_role("heading", level=1)).to_have_text("行政手続を、デジタルでつなぐ。")
    expect(page.get_by_role("link", name="職員ログイン")).to_be_visible()
    axe_check(page, "top (ja)")
    shot(page, "top-ja")
    shot(page, "top-phone-360")

    page.get_by_role("navigation", name="表示言語").get_by_role("link", name="English").click()
    expect(page).to_have_url(server.at("/"))
    assert html_lang(page) == "en", "the language switch did not stick (is the tsunagu_lang cookie dropped?)"
    expect(page.get_by_role("link", name="日本語")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("行政手続を、デジタルでつなぐ。")
    axe_check(page, "top (en)")
    shot(page, "top-en")

    page.get_by_role("link", name="日本語").click()
    assert html_lang(page) == "ja"
    expect(page.get_by_role("heading", level=1)).to_have_text("行政手続を、デジタルでつなぐ。")
    axe_check(page, "top (ja again)")


def login(page: Page, server: Server, axe_check: Check, shot: Shot) -> None:
    page.goto(server.at("/"))
    page.get_by_role("link", name="職員ログイン").click()
    expect(page).to_have_url(re.compile(r"/staff/login"))
    axe_check(page, "staff login")
    shot(page, "staff-login")
    page.get_by_label("ユーザー名").fill(CLERK[0])
    page.get_by_label("パスワード").fill(CLERK[1])
    page.get_by_role("button", name="ログイン").click()
    # The session cookie is __Host-tsunagu_session (Secure). If Chromium dropped it over plain http, the
    # redirect to /staff would land back on the login form.
    expect(page).to_have_url(server.at("/staff"))
    expect(page.get_by_role("heading", level=1)).to_have_text("職員トップ")
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
    axe_check(page, "staff home")


def test_clerk_sees_the_statistics(page: Page, server: Server, axe_check: Check) -> None:
    login(page, server, axe_check, no_shot)
    page.get_by_role("navigation", name="職員メニュー").get_by_role("link", name="統計").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("住民記録の統計")
    expect(page.locator(".figures")).to_contain_text("住民")
    axe_check(page, "statistics")


def search_residents(page: Page, server: Server, axe_check: Check, shot: Shot) -> Locator:
    """Search by kana on the search page; return the result rows that show an address."""
    page.get_by_role("navigation", name="職員メニュー").get_by_role("link", name="住民検索").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("住民検索")
    axe_check(page, "search (empty)")
    for kana in FAMILY_KANA:
        page.get_by_label("氏名・カナ・住民票コード・個人番号").fill(kana)
        page.get_by_role("button", name="検索", exact=True).click()
        expect(page.locator("#results-heading")).to_be_visible()
        rows = page.locator("table tbody tr").filter(has_not=page.locator(".badge-warn"))
        if rows.count() >= 2:
            for kana_cell in page.locator("table tbody tr .kana").all_inner_texts():
                assert kana_cell.startswith(kana), f"{kana_cell!r} does not match the search {kana!r}"
            axe_check(page, f"search results ({kana})")
            shot(page, "search-results", full_page=False)
            return rows
    pytest.fail(f"none of {FAMILY_KANA} found two residents with an address in the demo town")


def test_clerk_finds_a_resident_and_records_a_move(
    page: Page, server: Server, viewport: str, axe_check: Check, shot: Shot
) -> None:
    login(page, server, axe_check, shot)
    rows = search_residents(page, server, axe_check, shot)
    # Each viewport moves a different person, so the two runs never collide.
    row = rows.nth(0 if viewport == "desktop" else 1)
    link = row.get_by_role("link").first
    name = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    history = page.locator("ol.history > li")
    before = history.count()
    assert before >= 1, "a seeded resident has at least the event that made them a resident"
    address = page.locator(".facts div").filter(has_text="住所").locator("dd").first.inner_text()
    axe_check(page, "resident detail")
    shot(page, "resident-detail")

    page.get_by_role("link", name="転居を記録").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("転居の記録")
    axe_check(page, "move form")
    towns: list[str] = page.eval_on_selector_all("#towns option", "os => os.map(o => o.value)")
    assert len(towns) >= 3, "the datalist offers the demo town's 町字"
    candidates = [t for t in towns if t not in address]
    town = candidates[0 if viewport == "desktop" else -1]
    page.get_by_label("新しい住所: 町字").fill(town)
    page.get_by_label("番地・号").fill(NEW_BLOCK)
    shot(page, "move-form")
    page.get_by_role("button", name="記録する").click()

    expect(page).to_have_url(re.compile(r"/staff/residents/\d+\?done=move$"))
    notice = page.get_by_role("status")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("記録しました")
    expect(page.locator(".facts")).to_contain_text(town)
    expect(history).to_have_count(before + 1)
    entry = history.filter(has_text=f"{town}{NEW_BLOCK}")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("転居")
    expect(entry).to_contain_text(f"記録者: {CLERK[0]}")
    axe_check(page, "resident detail after move")
    page.get_by_role("heading", name="異動履歴").scroll_into_view_if_needed()
    shot(page, "history-after-move")


def test_clerk_sets_a_support_measure_and_the_address_is_flagged(
    page: Page, server: Server, viewport: str, axe_check: Check
) -> None:
    login(page, server, axe_check, no_shot)
    rows = search_residents(page, server, axe_check, no_shot)
    rows.nth(2 if viewport == "desktop" else 3).get_by_role("link").first.click()
    page.get_by_role("link", name="支援措置を設定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("支援措置の設定")
    axe_check(page, "support measure form")
    page.get_by_label("配偶者からの暴力（DV）").check()
    page.get_by_role("button", name="設定する").click()
    expect(page.get_by_role("status")).to_contain_text("支援措置を設定しました")
    expect(page.get_by_role("note")).to_contain_text("支援措置")
    axe_check(page, "resident detail under a support measure")


def test_move_form_error_is_announced(page: Page, server: Server, axe_check: Check) -> None:
    login(page, server, axe_check, no_shot)
    rows = search_residents(page, server, axe_check, no_shot)
    rows.last.get_by_role("link").first.click()
    history = page.locator("ol.history > li")
    before = history.count()
    page.get_by_role("link", name="転居を記録").click()
    towns: list[str] = page.eval_on_selector_all("#towns option", "os => os.map(o => o.value)")
    page.get_by_label("新しい住所: 町字").fill(towns[0])
    page.get_by_label("番地・号").fill("")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="記録する").click()
    response = nav.value
    assert response is not None
    assert response.status == 422
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("記録できませんでした")
    expect(alert).to_contain_text("番地・号を入力してください")
    expect(page.get_by_label("番地・号")).to_have_attribute("aria-invalid", "true")
    expect(alert).to_contain_text("何も記録されていません")
    expect(page).to_have_title(re.compile(r"^エラー: 転居の記録"))  # the title is read out first on page load
    # What was typed is kept, so only the mistake needs fixing.
    expect(page.get_by_label("新しい住所: 町字")).to_have_value(towns[0])
    axe_check(page, "move form with an error")

    page.get_by_role("link", name="取り消して戻る").click()
    expect(history).to_have_count(before)


def test_registration_form_refuses_an_empty_submission(page: Page, server: Server, axe_check: Check) -> None:
    login(page, server, axe_check, no_shot)
    page.get_by_role("link", name="住民の新規登録（出生・転入）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("住民の新規登録（出生・転入）")
    axe_check(page, "registration form")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("alert")).to_contain_text("記録できませんでした")
    expect(page).to_have_title(re.compile(r"^エラー: "))
    axe_check(page, "registration form with an error")


def test_wrong_password_is_announced(page: Page, server: Server, axe_check: Check) -> None:
    page.goto(server.at("/staff/login"))
    page.get_by_label("ユーザー名").fill("nobody")
    page.get_by_label("パスワード").fill("not-the-password")
    page.get_by_role("button", name="ログイン").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("ユーザー名またはパスワードが正しくありません")
    expect(page.get_by_label("ユーザー名")).to_have_value("nobody")
    expect(page).to_have_title(re.compile(r"^エラー: 職員ログイン"))
    axe_check(page, "login error")


def test_axe_check_catches_a_planted_violation(page: Page, server: Server, axe_check: Check) -> None:
    """The check itself works: axe is really injected despite the CSP, and a critical violation fails it."""
    page.goto(server.at("/"))
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    with pytest.raises(AssertionError, match=r"critical: label"):
        axe_check(page, "planted violation")


def test_auditor_reads_the_trail_of_a_clerks_work(page: Page, server: Server, axe_check: Check) -> None:
    login(page, server, axe_check, no_shot)  # the clerk's login is itself an entry
    page.get_by_role("button", name="ログアウト").click()
    page.goto(server.at("/staff/login"))
    page.get_by_label("ユーザー名").fill("auditor")
    page.get_by_label("パスワード").fill("demo-auditor-pass")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("navigation", name="職員メニュー")).not_to_contain_text("住民検索")
    page.get_by_role("navigation", name="職員メニュー").get_by_role("link", name="操作記録").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("操作記録")
    expect(page.locator("table")).to_contain_text("identity:session:login")
    axe_check(page, "audit trail")
    page.get_by_label("職員（ユーザー名）").fill(CLERK[0])
    page.get_by_role("button", name="絞り込む").click()
    expect(page.locator("tbody tr").first).to_contain_text(CLERK[0])
    axe_check(page, "audit trail filtered")
