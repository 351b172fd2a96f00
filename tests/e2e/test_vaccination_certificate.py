"""The vaccination certificate (SMART Health Card) in Chromium (1280 px and a 360 px phone), with axe-core on every
page: a card holder with recorded doses logs in, sees the doses on /my/vaccinations, gets a domestic certificate,
sees the QR code (an image with a text alternative) and downloads the .smart-health-card file; someone else, on
their own device and without logging in, uploads that file and then the QR image on /verify and reads 有効 with the
name and the doses; a tampered text reads 無効 with the reason."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

from .conftest import DESKTOP, Server

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Browser, Page

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

pytestmark = pytest.mark.e2e

AUTH_PIN = "1234"
WITH_DOSES = "SELECT COUNT(*) FROM identity_cards c JOIN health_doses d ON d.person_id = c.person_id WHERE c.serial = ?"


def _query(server: Server, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    uri = f"file:{server.data_dir / 'tsunagu.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def _card_login(page: Page, server: Server) -> None:
    page.goto(server.at("/login/card?next=/my/vaccinations"))
    serials = [
        (s or "").removeprefix("card-")
        for s in page.locator("label[for^='card-']").evaluate_all("ls => ls.map(l => l.htmlFor)")
    ]
    vaccinated = [s for s in serials if _query(server, WITH_DOSES, (s,))[0][0] > 0]
    if not vaccinated:
        pytest.fail(f"no card holder with recorded doses on the demo reader: {serials}")
    page.locator(f"#card-{vaccinated[-1]}").check()
    page.get_by_label("利用者証明用電子証明書の暗証番号（数字4桁）").fill(AUTH_PIN)
    page.locator("main").get_by_role("button", name="ログイン", exact=True).click()
    expect(page).to_have_url(server.at("/my/vaccinations"))


def _issue(page: Page, axe_check: Check, shot: Shot, tmp_path: Path) -> tuple[Path, Path]:
    expect(page.get_by_role("heading", level=1)).to_have_text("予防接種と接種証明書")
    expect(page.locator("#doses-caption")).to_contain_text("接種")
    axe_check(page, "vaccinations")
    shot(page, "shc-vaccinations")
    shot(page, "shc-vaccinations-phone-360")
    page.get_by_role("button", name="接種証明書を発行する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("接種証明書")
    qr = page.locator("figure img")
    alt = qr.get_attribute("alt") or ""
    assert "二次元コード" in alt, alt
    assert page.evaluate("img => img.naturalWidth", qr.element_handle()) > 0
    axe_check(page, "certificate")
    shot(page, "shc-certificate")
    shot(page, "shc-certificate-phone-360")
    files = []
    for name in ("SMART Health Card ファイル（.smart-health-card）", "二次元コード画像（PNG）"):
        with page.expect_download() as download:
            page.get_by_role("link", name=name).click()
        target = tmp_path / download.value.suggested_filename
        download.value.save_as(target)
        files.append(target)
    return files[0], files[1]


def _verify(verifier: Page, server: Server, upload: Path, axe_check: Check) -> None:
    verifier.goto(server.at("/verify"))
    expect(verifier.get_by_role("heading", level=1)).to_have_text("接種証明書の検証")
    axe_check(verifier, "verifier form")
    verifier.get_by_label(
        "ファイル（.smart-health-card、または二次元コードの画像 PNG・JPEG）"
    ).set_input_files(upload)
    verifier.get_by_role("button", name="検証する").click()
    expect(verifier.get_by_role("heading", level=2).first).to_have_text("有効 / Valid")
    expect(verifier.locator("table")).to_contain_text("/")
    axe_check(verifier, "verifier result (valid)")


def test_vaccination_certificate(
    page: Page, browser: Browser, server: Server, axe_check: Check, shot: Shot, tmp_path: Path
) -> None:
    _card_login(page, server)
    card, png = _issue(page, axe_check, shot, tmp_path)
    [jws] = json.loads(card.read_text(encoding="utf-8"))["verifiableCredential"]
    other = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=DESKTOP)
    try:
        verifier = other.new_page()
        _verify(verifier, server, card, axe_check)
        shot(verifier, "shc-verify-valid")
        _verify(verifier, server, png, axe_check)
        verifier.goto(server.at("/verify"))
        verifier.get_by_label("または、証明書の文字列を貼り付け（shc:/ で始まる文字列、または JWS）").fill(
            jws[:-4] + ("AAAA" if not jws.endswith("AAAA") else "BBBB")
        )
        verifier.get_by_role("button", name="検証する").click()
        expect(verifier.get_by_role("heading", level=2).first).to_have_text("無効 / Not valid")
        expect(verifier.locator("[data-reason]").first).to_contain_text("署名が正しくありません")
        axe_check(verifier, "verifier result (not valid)")
    finally:
        other.close()
