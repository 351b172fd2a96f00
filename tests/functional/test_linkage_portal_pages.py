"""マイページ › 自己情報 and やりとり履歴 over HTTP: fetching one's own data from the agencies (each fetch a logged
exchange), the history that lists them, the inclusion proof that downloads and verifies with the independent RFC 9162
verifier, 404 for someone else's proof, a proxy's fetches marked as such, and the login these pages need."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.rfc9162_verifier import verify_inclusion_json, verify_tree_head_signature

from tsunagu.audit.models import AuditEntry
from tsunagu.linkage import api as linkage
from tsunagu.registry.models import Person

from .conftest import AS_OF, CitizenLoginFn, ClientFactory

PROOF_LINK = re.compile(r'href="(/my/exchanges/([0-9a-f-]{36})/proof\.json)"')


def _fetch(browser: TestClient, csrf: Callable[[TestClient], str]) -> str:
    page = browser.get("/my/self-information")
    assert page.status_code == 200
    assert "各機関から取得する" in page.text
    fetched = browser.post("/my/self-information", data={"csrf_token": csrf(browser)})
    assert fetched.status_code == 200, fetched.text
    return fetched.text


def test_a_resident_fetches_their_information_and_sees_each_fetch_in_the_history(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
) -> None:
    person = pick_resident(head=True)
    browser = new_client()
    citizen_session(browser, person)
    my = browser.get("/my").text
    assert "/my/exchanges" in my
    assert "/my/self-information" in my
    assert "/my/exchanges/" not in browser.get("/my/exchanges").text  # nothing yet
    page = _fetch(browser, csrf)
    for agency in ("藤沢市 市民税課", "日本年金機構", "ワクチン接種記録システム（VRS）"):
        assert f">{agency}</h2>" in page
    assert "地方税関係情報（所得額）" in page
    assert re.search(r"\d{1,3}(,\d{3})+円", page)  # an amount in yen
    assert "予防接種の記録" in page
    assert 'href="/my/exchanges"' in page
    history = browser.get("/my/exchanges").text
    assert "マイナポータル（tsunagu ポータル）" in history
    assert "本人の求めによる自己情報の提供（マイナポータル）" in history
    assert "地方税関係情報（所得額）" in history
    assert "代理人による照会" not in history
    assert "/linkage/v1/log/key" in history
    assert len(PROOF_LINK.findall(history)) >= 3
    with web_app.state.ctx.uow() as db:
        fetched = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "linkage:self_information:fetch",
                AuditEntry.subject == f"person:{person}",
            )
        ).all()
    assert len(fetched) >= 3
    english = browser.get("/my/exchanges", headers={"Accept-Language": "en"}).text
    assert "Data exchange history" in english
    assert "Self-information at the person&#39;s request (Mynaportal)" in english


def test_the_proof_downloads_and_verifies_and_someone_elses_is_not_found(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    owner, other = pick_resident(head=True), pick_resident(head=True)
    browser = new_client()
    citizen_session(browser, owner)
    _fetch(browser, csrf)
    link, exchange_id = PROOF_LINK.findall(browser.get("/my/exchanges").text)[0]
    response = browser.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert (
        response.headers["content-disposition"] == f'attachment; filename="tsunagu-proof-{exchange_id}.json"'
    )
    proof = response.json()
    assert proof["exchange_id"] == exchange_id
    assert verify_inclusion_json(proof)
    assert verify_tree_head_signature(proof["tree_head"], base64.b64decode(proof["log_public_key"]))
    stranger = new_client()
    citizen_session(stranger, other)
    assert stranger.get(link).status_code == 404
    assert stranger.get("/my/exchanges/not-an-id/proof.json").status_code == 404
    assert exchange_id not in stranger.get("/my/exchanges").text


def test_a_withheld_item_is_not_shown_and_english_reads_well(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
) -> None:
    person = pick_resident(head=True)
    ctx = web_app.state.ctx
    keys = linkage.linkage_keys(ctx.settings)
    with ctx.uow() as db:
        code = linkage.code_for(db, keys, "JPS", person)
        linkage.put_copy(
            db, "JPS", code, {"pension.status": "secret-status-value"}, withhold=("pension.status",)
        )
    browser = new_client()
    citizen_session(browser, person)
    page = _fetch(browser, csrf)
    assert "開示の対象外です" in page
    assert "secret-status-value" not in page
    history = browser.get("/my/exchanges").text
    assert ">日本年金機構<" not in history  # logged, but not shown to the person (番号法 art. 23(2))
    english = browser.post(
        "/my/self-information", data={"csrf_token": csrf(browser)}, headers={"Accept-Language": "en"}
    ).text
    assert "Japan Pension Service" in english
    assert "Not disclosed" in english
    assert re.search(r"¥\d{1,3}(,\d{3})+", english)
    assert "Fetch again" in english


def _parent_and_minor(web_app: FastAPI) -> tuple[int, int]:
    adult_before = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    with web_app.state.ctx.uow() as db:
        rows = db.execute(
            select(Person.id, Person.household_id, Person.relationship, Person.birth_date)
            .where(Person.status == "resident", Person.address_suppressed.is_(False))
            .order_by(Person.household_id.desc(), Person.id)  # not the households other modules' tests use
        ).all()
    heads = {hh: pid for pid, hh, rel, _b in rows if rel == "head"}
    for pid, hh, rel, born in rows:
        if rel == "child" and born > adult_before and hh in heads:
            return heads[hh], pid
    pytest.fail("the demo has no household with a minor child")


def test_a_proxys_fetch_is_about_the_principal_and_marked_as_by_proxy(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
) -> None:
    parent, child = _parent_and_minor(web_app)
    browser = new_client()
    citizen_session(browser, parent)
    browser.post("/my/proxies/children", data={"child": str(child), "csrf_token": csrf(browser)})
    grant = re.search(r"/my/proxies/(\d+)/act", browser.get("/my/proxies").text)
    assert grant is not None
    browser.post(f"/my/proxies/{grant.group(1)}/act", data={"csrf_token": csrf(browser)})
    assert "代理人として取得・表示します" in browser.get("/my/self-information").text
    _fetch(browser, csrf)
    history = browser.get("/my/exchanges").text
    assert "代理人として表示しています" in history
    assert "代理人による照会" in history
    proof = PROOF_LINK.findall(history)[0][0]
    assert browser.get(proof).status_code == 200  # the principal's proof, downloaded by the proxy
    browser.post("/my/proxies/stop", data={"csrf_token": csrf(browser)})
    own = browser.get("/my/exchanges").text
    assert "代理人による照会" not in own
    assert browser.get(proof).status_code == 404  # not the parent's own exchange


@pytest.mark.parametrize(
    "path",
    [
        "/my/exchanges",
        "/my/self-information",
        "/my/exchanges/00000000-0000-0000-0000-000000000000/proof.json",
    ],
)
def test_the_pages_need_a_resident_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in {302, 303}
    assert response.headers["location"].startswith("/login")
