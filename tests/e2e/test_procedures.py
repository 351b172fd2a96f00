"""申請・届出 in Chromium (1280 px and a 360 px phone), with axe-core on every page: the moving one-stop from the
keyword search to the destination's counter (the citizen files, 藤沢市 records the move-out, 千代田区 checks the
card and records the move-in), a birth with its derived applications, and おくやみ for a household member whose
death is recorded through the CLI against the e2e server's data directory.

Each journey takes a card holder of its own from the demo reader (one with no application yet), so the desktop and
phone runs never share a person."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Browser, BrowserContext, Page

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

from .conftest import DESKTOP, PHONE, Server, _clean_env, _run_tsunagu

pytestmark = pytest.mark.e2e

AUTH_PIN = "1234"
SIGNATURE_PIN = "TSUNAGU1"
ORIGIN_CLERK = ("clerk", "demo-clerk-pass")  # LG-142051 藤沢市
DESTINATION_CLERK = ("chiyoda", "demo-chiyoda-pass")  # LG-131016 千代田区
ORIGIN_LG = "142051"
MOVING_INPUTS = {
    "csrf_token",
    "action",
    "movers",
    "destination_lg_code",
    "destination_town",
    "destination_block",
    "destination_building",
    "move_date",
}
MOVING_PREFILLED = {"氏", "名", "氏（フリガナ）", "名（フリガナ）", "生年月日", "現住所"}


def today() -> dt.date:
    """The server's today: it runs on the real clock, in Japan."""
    return dt.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).date()


@dataclass(frozen=True)
class Holder:
    serial: str
    person_id: int
    family_name: str
    given_name: str
    family_kana: str
    birth_date: str
    household_id: int
    relationship: str
    household_size: int

    @property
    def member_label(self) -> str:
        """How the moving form names the person among the movers."""
        return f"{self.family_name} {self.given_name}（{self.birth_date}）"


def _query(server: Server, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the e2e server's SQLite database (read-only)."""
    uri = f"file:{server.data_dir / 'tsunagu.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def _age(birth: str) -> int:
    b, t = dt.date.fromisoformat(birth), today()
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def pick_holder(page: Page, server: Server, *wanted: Callable[[Holder], bool], fresh: bool = True) -> Holder:
    """On the demo card reader (open now): the last offered card whose holder lives in 藤沢市, can still sign,
    whose household has no application yet (unless not ``fresh``: journeys in the same household would see each
    other's records) and fits the first of the ``wanted`` rules that any holder fits."""
    serials = [
        (s or "").removeprefix("card-")
        for s in page.locator("label[for^='card-']").evaluate_all("ls => ls.map(l => l.htmlFor)")
    ]
    holders = []
    for serial in reversed(serials):
        rows = _query(
            server,
            "SELECT p.id, p.family_name, p.given_name, p.family_name_kana, p.birth_date, p.household_id,"
            " p.relationship, p.lg_code,"
            " (SELECT count(*) FROM registry_persons q WHERE q.household_id = p.household_id"
            "  AND q.status = 'resident'),"
            " (SELECT count(*) FROM proc_applications a JOIN registry_persons m"
            "  ON m.id = a.applicant_person_id OR m.id = a.subject_person_id"
            "  WHERE m.household_id = p.household_id)"
            " FROM identity_cards c JOIN registry_persons p ON p.id = c.person_id WHERE c.serial = ?"
            # a live signature certificate: another e2e module may have recorded a 転居 that revoked it
            " AND c.signature_cert_serial IS NOT NULL AND c.signature_revoked_at IS NULL",
            (serial,),
        )
        if rows and rows[0][7] == ORIGIN_LG and (rows[0][9] == 0 or not fresh):
            pid, fam, given, kana, birth, household, relationship, _lg, size, _applied = rows[0]
            holders.append(Holder(serial, pid, fam, given, kana, str(birth), household, relationship, size))
    for rule in wanted:
        for holder in holders:
            if rule(holder):
                return holder
    pytest.fail(f"no card on the demo reader fits this journey: {serials}")


def card_login(page: Page, holder: Holder) -> None:
    page.locator(f"#card-{holder.serial}").check()
    page.get_by_label("利用者証明用電子証明書の暗証番号（数字4桁）").fill(AUTH_PIN)
    page.locator("main").get_by_role("button", name="ログイン", exact=True).click()


@pytest.fixture
def new_page(browser: Browser, viewport: str) -> Iterator[Callable[[], Page]]:
    """Pages in fresh browser profiles (a clerk's browser beside the resident's), in the test's viewport."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        options: dict[str, Any] = {"locale": "ja-JP", "timezone_id": "Asia/Tokyo", "device_scale_factor": 1}
        if viewport == "phone":
            options |= {"viewport": PHONE, "is_mobile": True, "has_touch": True}
        else:
            options |= {"viewport": DESKTOP}
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    try:
        yield make
    finally:
        for ctx in contexts:
            ctx.close()


def both(shot: Shot, page: Page, name: str) -> None:
    shot(page, f"procedures-{name}")
    shot(page, f"procedures-{name}-phone-360")


def staff_login(page: Page, server: Server, who: tuple[str, str], axe_check: Check) -> None:
    page.goto(server.at("/staff/login"))
    page.get_by_label("ユーザー名").fill(who[0])
    page.get_by_label("パスワード").fill(who[1])
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(server.at("/staff"))
    axe_check(page, f"staff home ({who[0]})")


def open_in_queue(page: Page, server: Server, office: str, receipt: str, axe_check: Check) -> None:
    """The office's queue (chosen in the switcher when the clerk works several), then the application."""
    page.goto(server.at("/staff/procedures"))
    expect(page.get_by_role("heading", level=1)).to_have_text("申請の受付一覧")
    switcher = page.locator("select#office")
    if switcher.count():
        switcher.select_option(office)
        page.get_by_role("button", name="表示する").click()
    expect(page.locator("main table")).to_contain_text(receipt)
    axe_check(page, f"staff queue ({office})")
    page.get_by_role("link", name=receipt, exact=True).click()
    expect(page.locator("main")).to_contain_text(receipt)
    axe_check(page, f"staff detail {receipt}")


def act(page: Page, button: str, done: str, axe_check: Check) -> None:
    page.locator("main").get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(done)
    axe_check(page, f"staff detail after {button}")


def review_and_complete(page: Page, axe_check: Check) -> None:
    """審査を開始する, then 承認する when the workflow asks for it before 完了, then 完了にする."""
    main = page.locator("main")
    act(page, "審査を開始する", "審査を開始しました", axe_check)
    if not main.get_by_role("button", name="完了にする", exact=True).count():
        act(page, "承認する", "承認しました", axe_check)
    act(page, "完了にする", "完了しました", axe_check)
    expect(page.locator("main dl.facts")).to_contain_text("完了")


def receipt_on_status(page: Page) -> str:
    receipt = (
        page.locator("main dl.facts").first.locator("div", has_text="受付番号").locator("dd").inner_text()
    )
    assert re.fullmatch(r"[0-9A-Za-z-]+", receipt.strip()), receipt
    return receipt.strip()


def exchange_rows(page: Page, server: Server) -> int:
    page.goto(server.at("/my/exchanges"))
    expect(page.get_by_role("heading", level=1)).to_have_text("やりとり履歴")
    return page.locator("main table tbody tr").count()


def test_moving_one_stop_from_the_search_to_the_destination_counter(  # noqa: PLR0915 - one journey, in order
    page: Page, server: Server, viewport: str, new_page: Callable[[], Page], axe_check: Check, shot: Shot
) -> None:
    day = today()
    page.goto(server.at("/login/card?next=/my"))
    # Moved alone: an adult, and not the head of a household who would leave the others behind.
    holder = pick_holder(
        page,
        server,
        lambda h: _age(h.birth_date) >= 18 and (h.relationship != "head" or h.household_size == 1),
    )
    card_login(page, holder)
    expect(page).to_have_url(server.at("/my"))
    rows_before = exchange_rows(page, server)

    # Find the procedure by a word a person would type, in hiragana.
    page.goto(server.at("/procedures"))
    expect(page.get_by_role("heading", level=1)).to_have_text("手続をさがす")
    axe_check(page, "procedure catalogue")
    page.get_by_label("キーワード（例: 引越し、児童手当、住民票）").fill("ひっこし")
    page.get_by_role("button", name="さがす", exact=True).click()
    found = page.locator("#found-heading")
    expect(found).to_contain_text("「ひっこし」の検索結果")
    expect(page.locator("main").get_by_role("link", name="転出届", exact=True)).to_be_visible()
    axe_check(page, "procedure search")
    both(shot, page, "search")
    page.locator("main").get_by_role("link", name="転出届", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("転出届")
    axe_check(page, "procedure page 転出届")

    page.goto(server.at("/procedures?event=moving"))
    axe_check(page, "moving life event")
    page.get_by_role("button", name="引越しの手続をまとめて始める").click()
    expect(page).to_have_url(re.compile(r"/my/applications/\d+/edit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("転出届")

    # What the government holds is shown, marked 自動入力, and cannot be typed over.
    held = page.locator("main dl.prefilled > div")
    labels = {t.strip() for t in held.locator("dt").all_inner_texts()}
    assert labels == MOVING_PREFILLED, labels
    for i in range(held.count()):
        expect(held.nth(i).locator("dd .badge")).to_have_text("自動入力")
    assert not held.locator("input, select, textarea").count()
    form = page.locator("main form[action$='/edit']")
    names = set(form.locator("[name]").evaluate_all("es => es.map(e => e.name)"))
    assert names == MOVING_INPUTS, names
    axe_check(page, "moving form")
    both(shot, page, "form")

    # First without a town and with a date outside the one-stop's window: the errors are announced.
    page.get_by_label(holder.member_label).check()
    page.get_by_label("転出先の市区町村").select_option("131016")
    page.get_by_label("転出先の番地").fill("1-2")
    page.get_by_label("引越し予定日（転出予定日）").fill((day + dt.timedelta(days=90)).isoformat())
    page.get_by_role("button", name="確認画面へ").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("入力内容を確認してください")
    assert alert.locator("li").count() >= 1
    axe_check(page, "moving form with errors")
    page.get_by_label("転出先の町名").select_option("丸の内一丁目")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#f-move_date")
    expect(page.get_by_role("alert")).to_contain_text("以前の日付を入力してください")
    expect(page.locator("#i-move_date")).to_have_attribute("aria-invalid", "true")
    axe_check(page, "moving form with a date outside the window")

    page.get_by_label("転出先の町名").select_option("丸の内一丁目")
    if not page.get_by_label(holder.member_label).is_checked():
        page.get_by_label(holder.member_label).check()
    page.get_by_label("建物名・部屋番号").fill("つなぐビル 301")
    # Already moved (the one-stop takes filings until 10 days after the move): 千代田区 records the 転入 on the
    # day of the move at the latest, and a move-in may not come before the move-out 藤沢市 records.
    page.get_by_label("引越し予定日（転出予定日）").fill((day - dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="確認画面へ").click()
    expect(page).to_have_url(re.compile(r"/my/applications/\d+/confirm$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("内容の確認")
    expect(page.locator("main")).to_contain_text("千代田区")
    expect(page.locator("main")).to_contain_text("丸の内一丁目")
    expect(page.locator("#plan-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text("転入予約")
    axe_check(page, "moving confirm")
    both(shot, page, "confirm")

    page.get_by_label("署名用パスワード").fill("WRONG999")
    page.get_by_role("button", name="署名して送信する").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#signature_pin")).to_have_attribute("aria-invalid", "true")
    axe_check(page, "moving confirm after a wrong signature PIN")
    page.get_by_label("署名用パスワード").fill(SIGNATURE_PIN)
    page.get_by_role("button", name="署名して送信する").click()
    expect(page).to_have_url(re.compile(r"/my/applications/\d+$"))
    status_url = page.url
    expect(page.locator("main dl.facts").first).to_contain_text("受付済み")
    receipt = receipt_on_status(page)
    siblings = page.locator("section[aria-labelledby='bundle-heading'] table tbody tr")
    expect(page.locator("#bundle-heading")).to_have_text("引越しワンストップでまとめて届け出た手続")
    assert siblings.count() >= 2
    reservation = siblings.filter(has_text="転入予約")
    expect(reservation).to_have_count(1)
    reservation_receipt = reservation.locator("td").nth(2).inner_text().strip()
    assert reservation_receipt not in ("", "—")
    expect(page.locator("main")).to_contain_text("署名用電子証明書で署名済み")
    axe_check(page, "moving status")
    both(shot, page, "status")

    # The pre-fill went through the hub: it is in the person's own exchange history.
    assert exchange_rows(page, server) > rows_before
    expect(page.locator("main table")).to_contain_text("申請書の事前入力")
    axe_check(page, "exchange history after the pre-fill")
    page.goto(server.at("/my/notices"))
    expect(page.locator("main")).to_contain_text("受け付けました")
    axe_check(page, "notices after filing")
    page.goto(server.at("/my/applications"))
    expect(page.locator("main table")).to_contain_text(receipt)
    axe_check(page, "my applications")

    # 藤沢市 records the move-out.
    origin = new_page()
    staff_login(origin, server, ORIGIN_CLERK, axe_check)
    open_in_queue(origin, server, "LG-142051", receipt, axe_check)
    both(shot, origin, "staff-detail")
    review_and_complete(origin, axe_check)
    origin.goto(server.at("/staff/procedures"))
    both(shot, origin, "staff-queue")

    # 千代田区 sees the reservation, checks the mover's card at the counter (a wrong PIN first), completes it.
    counter = new_page()
    staff_login(counter, server, DESTINATION_CLERK, axe_check)
    open_in_queue(counter, server, "LG-131016", reservation_receipt, axe_check)
    main = counter.locator("main")
    if not main.get_by_role("button", name="カードを確認して完了にする").count():
        act(counter, "承認する", "承認しました", axe_check)
    expect(counter.get_by_label("暗証番号（数字4桁）")).to_be_visible()
    axe_check(counter, "counter card check")
    both(shot, counter, "counter")
    counter.get_by_label("暗証番号（数字4桁）").fill("0000")
    main.get_by_role("button", name="カードを確認して完了にする").click()
    expect(counter.get_by_role("alert")).to_contain_text("暗証番号")
    axe_check(counter, "counter card check after a wrong PIN")
    counter.get_by_label("暗証番号（数字4桁）").fill(AUTH_PIN)
    act(counter, "カードを確認して完了にする", "完了しました", axe_check)

    # The resident sees the one-stop closed.
    page.goto(status_url)
    reservation = page.locator("section[aria-labelledby='bundle-heading'] table tbody tr").filter(
        has_text="転入予約"
    )
    expect(reservation.locator("td").nth(3)).to_have_text("完了")
    expect(page.locator("section[aria-labelledby='bundle-heading']")).to_contain_text(
        "ワンストップの手続は完了しました。"
    )
    axe_check(page, "moving status after both municipalities")


def test_birth_one_stop_and_the_clerk_records_the_birth(
    page: Page, server: Server, new_page: Callable[[], Page], axe_check: Check, shot: Shot
) -> None:
    born = today() - dt.timedelta(days=3)
    page.goto(server.at("/login/card?next=/my"))
    holder = pick_holder(
        page, server, lambda h: 20 <= _age(h.birth_date) <= 45, lambda h: _age(h.birth_date) >= 18
    )
    card_login(page, holder)
    expect(page).to_have_url(server.at("/my"))
    page.goto(server.at("/procedures?event=birth"))
    axe_check(page, "birth life event")
    page.get_by_role("button", name="出生の手続をまとめて始める").click()
    expect(page).to_have_url(re.compile(r"/my/applications/\d+/edit$"))
    expect(page.locator("main dl.prefilled")).to_contain_text(holder.given_name)
    page.locator("#i-child_family_name").fill(holder.family_name)
    page.locator("#i-child_given_name").fill("花子")
    page.locator("#i-child_family_name_kana").fill(holder.family_kana)
    page.locator("#i-child_given_name_kana").fill("ハナコ")
    page.locator("#i-child_birth_date").fill(born.isoformat())
    page.locator("#i-child_sex").select_option("female")
    axe_check(page, "birth form")
    both(shot, page, "birth")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page).to_have_url(re.compile(r"/confirm$"))
    expect(page.locator("main")).to_contain_text("花子")
    axe_check(page, "birth confirm")
    page.get_by_label("署名用パスワード").fill(SIGNATURE_PIN)
    page.get_by_role("button", name="署名して送信する").click()
    expect(page).to_have_url(re.compile(r"/my/applications/\d+$"))
    receipt = receipt_on_status(page)
    expect(page.locator("#bundle-heading")).to_have_text("出生でまとめて届け出た手続")
    bundle = page.locator("section[aria-labelledby='bundle-heading'] table")
    expect(bundle).to_contain_text("児童手当")
    expect(bundle).to_contain_text("子ども医療費助成")
    axe_check(page, "birth status")

    clerk = new_page()
    staff_login(clerk, server, ORIGIN_CLERK, axe_check)
    open_in_queue(clerk, server, "LG-142051", receipt, axe_check)
    review_and_complete(clerk, axe_check)
    children = _query(
        server,
        "SELECT count(*) FROM registry_persons WHERE household_id = ? AND given_name = '花子' AND birth_date = ?",
        (holder.household_id, born.isoformat()),
    )
    assert children[0][0] == 1, "completing the 出生届 records the child in the parent's household"
    page.reload()
    expect(page.locator("main dl.facts").first).to_contain_text("完了")


def test_bereavement_files_the_procedures_for_a_household_member(
    page: Page, server: Server, axe_check: Check, shot: Shot
) -> None:
    page.goto(server.at("/login/card?next=/my/life-events/bereavement"))

    def with_a_member_without_card(h: Holder) -> bool:
        mourning = _query(
            server,
            "SELECT count(*) FROM registry_persons WHERE household_id = ? AND status = 'deceased'",
            (h.household_id,),
        )
        return mourning[0][0] == 0 and bool(_member_without_card(server, h))

    # Any holder of a household with no death yet: the birth journey may have used them.
    holder = pick_holder(page, server, with_a_member_without_card, fresh=False)
    member_id, member_name = _member_without_card(server, holder)[0]
    died = today() - dt.timedelta(days=2)
    recorded = _run_tsunagu(
        [
            "registry",
            "record",
            "death",
            str(member_id),
            "--date",
            died.isoformat(),
            "--data-dir",
            str(server.data_dir),
            "--json",
        ],
        _clean_env(),
        timeout=60,
    )
    assert '"ok": true' in recorded, recorded
    card_login(page, holder)
    expect(page).to_have_url(server.at("/my/life-events/bereavement"))
    expect(page.get_by_role("heading", level=1)).to_have_text("おくやみの手続")
    page.get_by_role("radio", name=re.compile(re.escape(member_name))).check()
    axe_check(page, "bereavement: choose the person")
    page.get_by_role("button", name="必要な手続を調べる").click()
    expect(page.locator("main h2").first).to_contain_text(f"{member_name} さんについて必要な手続")
    planned = page.locator("main ul").last.locator("li")
    assert planned.count() >= 1
    names = [n.split("（")[0] for n in planned.all_inner_texts()]
    axe_check(page, "bereavement: the procedures")
    both(shot, page, "bereavement")
    page.get_by_role("button", name="これらの手続をまとめて届け出る").click()
    expect(page).to_have_url(re.compile(r"/my/applications\?bundle="))
    table = page.locator("main table")
    for name in names:
        expect(table).to_contain_text(name)
    axe_check(page, "applications after おくやみ")


def _member_without_card(server: Server, holder: Holder) -> list[tuple[int, str]]:
    """Residents of the holder's household with no card (so the demo reader's list stays as it is)."""
    rows = _query(
        server,
        "SELECT p.id, p.family_name || ' ' || p.given_name FROM registry_persons p"
        " WHERE p.household_id = ? AND p.status = 'resident' AND p.id != ? AND p.relationship != 'head'"
        " AND NOT EXISTS (SELECT 1 FROM identity_cards c WHERE c.person_id = p.id) ORDER BY p.birth_date",
        (holder.household_id, holder.person_id),
    )
    return [(int(r[0]), str(r[1])) for r in rows]


def test_the_procedure_pages_in_english(page: Page, server: Server, axe_check: Check) -> None:
    page.goto(server.at("/language/en?next=/procedures"))
    assert page.evaluate("document.documentElement.lang") == "en"
    axe_check(page, "catalogue (en)")
    page.goto(server.at("/procedures?event=moving"))
    expect(page.locator("main")).to_contain_text("Notification of moving out")
    axe_check(page, "moving life event (en)")
    page.goto(server.at("/procedures/tenshutsu"))
    axe_check(page, "procedure page (en)")
    page.goto(server.at("/procedures?q=child+allowance"))
    axe_check(page, "search (en)")
