"""マイページ › お知らせ over HTTP: the list (newest first, unread marked in words, a count), the detail page that
marks a notice read, 404 for someone else's notice, and a proxy reading the principal's notices."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tsunagu.linkage import api as linkage
from tsunagu.linkage import notices
from tsunagu.linkage.notices import cli as notices_cli
from tsunagu.registry.models import Person
from tsunagu.settings import Settings

from .conftest import AS_OF, SECRET, CitizenLoginFn, ClientFactory

CITY, PENSION = "LG-142051", "JPS"


def _send(web_app: FastAPI, agency: str, person_id: int, title_ja: str, title_en: str) -> int:
    ctx = web_app.state.ctx
    keys = linkage.linkage_keys(ctx.settings)
    with ctx.uow() as db:
        linkage.load_agencies(db)
        code = linkage.code_for(db, keys, agency, person_id)
        sent = notices.send_to_code(
            db,
            keys,
            agency,
            code,
            title_ja,
            title_en,
            "一行目\n\n二行目",
            "Line one\n\nLine two",
            clock=ctx.clock,
        )
    return sent.id


def _count(page: str) -> str:
    found = re.search(r"未読 (\d+) 件／全 (\d+) 件", page)
    assert found is not None
    return f"{found.group(1)}/{found.group(2)}"


def test_the_list_marks_unread_notices_in_words_and_the_detail_marks_them_read(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_app: FastAPI,
) -> None:
    person = pick_resident()
    first = _send(web_app, PENSION, person, "年金額改定のお知らせ", "Pension amount revised")
    second = _send(web_app, CITY, person, "住民税の通知書を送りました", "Resident tax notice sent")
    browser = new_client()
    citizen_session(browser, person)
    assert "/my/notices" in browser.get("/my").text  # the マイページ section
    page = browser.get("/my/notices").text
    assert _count(page) == "2/2"
    assert page.count(">未読</span>") == 2
    assert page.index(f"/my/notices/{second}") < page.index(
        f"/my/notices/{first}"
    )  # newest first (same time)
    detail = browser.get(f"/my/notices/{first}")
    assert detail.status_code == 200
    assert "年金額改定のお知らせ" in detail.text
    assert "日本年金機構" in detail.text
    assert "<p>一行目</p>" in detail.text
    assert "<p>二行目</p>" in detail.text
    assert _count(browser.get("/my/notices").text) == "1/2"
    assert browser.get(f"/my/notices/{first}").status_code == 200  # opening again changes nothing
    english = browser.get("/my/notices", headers={"Accept-Language": "en"}).text
    assert "Pension amount revised" in english


def test_someone_elses_notice_is_not_found(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_app: FastAPI,
) -> None:
    owner, other = pick_resident(), pick_resident()
    sent = _send(web_app, CITY, owner, "あなた宛て", "For you")
    browser = new_client()
    citizen_session(browser, other)
    assert browser.get(f"/my/notices/{sent}").status_code == 404
    assert f"/my/notices/{sent}" not in browser.get("/my/notices").text
    assert browser.get("/my/notices/999999").status_code == 404


def test_notices_need_a_resident_login(client: TestClient) -> None:
    response = client.get("/my/notices", follow_redirects=False)
    assert response.status_code in {302, 303}


def _parent_and_minor(web_app: FastAPI) -> tuple[int, int]:
    adult_before = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    with web_app.state.ctx.uow() as db:
        rows = db.execute(
            select(Person.id, Person.household_id, Person.relationship, Person.birth_date)
            .where(Person.status == "resident", Person.address_suppressed.is_(False))
            .order_by(Person.household_id, Person.id)
        ).all()
    heads = {hh: pid for pid, hh, rel, _b in rows if rel == "head"}
    for pid, hh, rel, born in rows:
        if rel == "child" and born > adult_before and hh in heads:
            return heads[hh], pid
    pytest.fail("the demo has no household with a minor child")


def test_a_proxy_reads_the_principals_notices_and_marks_them_read_for_the_principal(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
) -> None:
    parent, child = _parent_and_minor(web_app)
    for_child = _send(web_app, CITY, child, "予防接種のご案内", "Vaccination information")
    for_parent = _send(web_app, CITY, parent, "保護者の方へ", "To the parent")
    browser = new_client()
    citizen_session(browser, parent)
    browser.post("/my/proxies/children", data={"child": str(child), "csrf_token": csrf(browser)})
    grant = re.search(r"/my/proxies/(\d+)/act", browser.get("/my/proxies").text)
    assert grant is not None
    browser.post(f"/my/proxies/{grant.group(1)}/act", data={"csrf_token": csrf(browser)})
    page = browser.get("/my/notices").text
    assert "代理人として表示しています" in page
    assert f"/my/notices/{for_child}" in page
    assert f"/my/notices/{for_parent}" not in page
    assert browser.get(f"/my/notices/{for_child}").status_code == 200
    keys = linkage.linkage_keys(web_app.state.ctx.settings)
    with web_app.state.ctx.uow() as db:
        assert notices.notice_for(db, keys, child, for_child).read
    browser.post("/my/proxies/stop", data={"csrf_token": csrf(browser)})
    own = browser.get("/my/notices").text
    assert f"/my/notices/{for_parent}" in own
    assert "代理人として表示しています" not in own


def test_an_agency_notifies_with_the_cli(
    web_settings: Settings,
    web_app: FastAPI,
    pick_resident: Callable[..., int],
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = pick_resident()
    keys = linkage.linkage_keys(web_app.state.ctx.settings)
    with web_app.state.ctx.uow() as db:
        linkage.load_agencies(db)
        code = linkage.code_for(db, keys, PENSION, person)
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    if web_settings.database_url:
        monkeypatch.setenv("TSUNAGU_DATABASE_URL", web_settings.database_url)
    else:
        monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    runner, app = CliRunner(), notices_cli.build()
    text = [
        "--title-ja",
        "CLIからのお知らせ",
        "--title-en",
        "From the CLI",
        "--body-ja",
        "本文",
        "--body-en",
        "Body",
    ]
    args = ["--data-dir", str(web_settings.data_dir), "--json"]
    made = runner.invoke(app, ["notify", "--agency", PENSION, "--code", code, *text, *args])
    assert made.exit_code == 0, made.stdout
    sent = json.loads(made.stdout)
    assert sent["audience"] == "person"
    browser = new_client()
    citizen_session(browser, person)
    assert f"/my/notices/{sent['id']}" in browser.get("/my/notices").text
    city = runner.invoke(app, ["notify", "--agency", CITY, "--municipality", "142051", *text, *args])
    assert json.loads(city.stdout)["segment"] == "142051"
    both = runner.invoke(app, ["notify", "--agency", CITY, "--all", "--code", code, *text, *args])
    assert both.exit_code == 2
    unknown = runner.invoke(app, ["notify", "--agency", CITY, "--code", code, *text, *args])  # a JPS code
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"] == "unknown-code"
