"""自己情報 and やりとり履歴 in Chromium (1280 px and a 360 px phone), with axe-core on every page: a resident logs in
with a demo card, fetches their information from the agencies, finds each fetch in the exchange history, downloads
the proof of one and checks it with the independent RFC 9162 verifier."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.rfc9162_verifier import verify_inclusion_json, verify_tree_head_signature

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from tests.e2e.conftest import Server

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

from .test_national_id import DEMO_AUTH_PIN, card_login

pytestmark = pytest.mark.e2e

AGENCIES = (
    "藤沢市 市民税課",
    "日本年金機構",
    "ワクチン接種記録システム（VRS）",
    "デジタル庁 公的給付支給等口座登録簿",
)


def _adult_card(page: Page, nth: int) -> int:
    """The index on the demo reader of the nth card of an adult (20 or over: taxed, insured for a pension), past
    the first two cards (the national-ID journey's residents). The reader lists cards by issue time."""
    labels = page.locator("label[for^='card-']").all_inner_texts()
    ages = [int(m.group(1)) if (m := re.search(r"（(\d+)歳", label)) else 0 for label in labels]
    adults = [i for i, age in enumerate(ages) if i >= 2 and age >= 20]
    assert len(adults) > nth, labels
    return adults[nth]


def test_a_resident_fetches_their_information_and_verifies_the_proof_of_an_exchange(
    page: Page, server: Server, viewport: str, axe_check: Check, shot: Shot
) -> None:
    page.goto(server.at("/login/card?next=/my/self-information"))
    card_login(page, _adult_card(page, 0 if viewport == "desktop" else 1), DEMO_AUTH_PIN)
    expect(page).to_have_url(server.at("/my/self-information"))
    expect(page.get_by_role("heading", level=1)).to_have_text("自己情報")
    axe_check(page, "self-information (before fetching)")

    page.get_by_role("button", name="各機関から取得する").click()
    expect(page.get_by_role("status")).to_contain_text("各機関から取得しました")
    sources = page.locator("main section.source h2")
    expect(sources).to_have_count(5)
    with_data = [
        name
        for name in sources.all_inner_texts()
        if page.locator("section.source", has=page.get_by_role("heading", name=name, exact=True))
        .locator("td", has_not_text="記録なし")
        .count()
    ]
    assert len(set(with_data) & set(AGENCIES)) >= 3, with_data
    expect(page.locator("main")).to_contain_text("円")
    axe_check(page, "self-information (fetched)")
    shot(page, "linkage-self-information")
    shot(page, "linkage-self-information-phone-360")

    page.get_by_role("link", name="やりとり履歴", exact=True).click()
    expect(page).to_have_url(server.at("/my/exchanges"))
    expect(page.get_by_role("heading", level=1)).to_have_text("やりとり履歴")
    table = page.get_by_role("table")
    expect(table).to_contain_text("本人の求めによる自己情報の提供（マイナポータル）")
    rows = table.locator("tbody tr")
    assert rows.count() >= 3
    axe_check(page, "exchange history")
    shot(page, "linkage-exchanges")
    shot(page, "linkage-exchanges-phone-360")

    link = rows.first.get_by_role("link", name="証明をダウンロード (JSON)")
    exchange_id = re.search(r"/my/exchanges/([0-9a-f-]{36})/proof\.json", link.get_attribute("href") or "")
    assert exchange_id is not None
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"tsunagu-proof-{exchange_id.group(1)}.json"
    proof = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert proof["exchange_id"] == exchange_id.group(1)
    assert verify_inclusion_json(proof)
    assert verify_tree_head_signature(proof["tree_head"], base64.b64decode(proof["log_public_key"]))


def test_a_resident_reads_a_notice_and_it_is_marked_read(
    page: Page, server: Server, viewport: str, axe_check: Check, shot: Shot
) -> None:
    """お知らせ: the demo sends notices to every card holder; opening one marks it read (in text, not colour)."""
    page.goto(server.at("/login/card?next=/my/notices"))
    card_login(page, _adult_card(page, 2 if viewport == "desktop" else 3), DEMO_AUTH_PIN)
    expect(page).to_have_url(server.at("/my/notices"))
    expect(page.get_by_role("heading", level=1)).to_have_text("お知らせ")
    summary = page.locator("main strong").first
    before = re.search(r"未読 (\d+) 件／全 (\d+) 件", summary.inner_text())
    assert before is not None
    unread, total = int(before.group(1)), int(before.group(2))
    assert unread >= 1
    assert total >= unread
    axe_check(page, "notices")
    shot(page, "linkage-notices")
    shot(page, "linkage-notices-phone-360")
    first = page.locator("main li.choice").filter(has_text="未読").first.get_by_role("link")
    title = first.inner_text().replace("未読", "").strip()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    axe_check(page, "a notice")
    page.goto(server.at("/my/notices"))
    expect(page.locator("main strong").first).to_contain_text(f"未読 {unread - 1} 件／全 {total} 件")
    expect(page.locator("main li.choice", has_text=title).first).to_contain_text("既読")


def test_the_linkage_pages_in_english(page: Page, server: Server, viewport: str, axe_check: Check) -> None:
    """自己情報, やりとり履歴 and お知らせ in English, axe-core clean."""
    page.goto(server.at("/login/card?next=/my/self-information"))
    card_login(page, _adult_card(page, 4 if viewport == "desktop" else 5), DEMO_AUTH_PIN)
    page.goto(server.at("/language/en?next=/my/self-information"))
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("button").filter(has_text=re.compile("agencies", re.IGNORECASE)).first.click()
    expect(page.locator("main section.source h2")).to_have_count(5)
    axe_check(page, "self-information (en)")
    page.goto(server.at("/my/exchanges"))
    expect(page.get_by_role("table")).to_be_visible()
    axe_check(page, "exchange history (en)")
    page.goto(server.at("/my/notices"))
    axe_check(page, "notices (en)")
