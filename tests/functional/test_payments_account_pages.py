"""The public-fund account pages over HTTP: login required, the form pre-filled with the registry kana, refusals
shown on the form (tied to their fields) with nothing saved, the confirmation with the master's names,
registration, change, the masked number, the history, deletion with a confirmation step, a proxy, English."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import AS_OF, CitizenLoginFn, ClientFactory, Holder

from tsunagu.payments.models import Account, AccountEvent
from tsunagu.payments.services import accounts
from tsunagu.registry import api as registry
from tsunagu.registry.models import Person

PAGE = "/my/public-fund-account"
UoW = Callable[[], AbstractContextManager[Session]]


def _csrf(c: TestClient, path: str = PAGE) -> str:
    page = c.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _counts(web_db: UoW, person_id: int) -> tuple[int, int]:
    with web_db() as db:
        accounts = db.scalar(select(func.count()).select_from(Account).where(Account.person_id == person_id))
        events = db.scalar(
            select(func.count()).select_from(AccountEvent).where(AccountEvent.person_id == person_id)
        )
    return int(accounts or 0), int(events or 0)


def _holder_kana(web_db: UoW, person_id: int) -> str:
    with web_db() as db:
        return registry.basic_facts(db, person_id).name_kana


def _without_account(web_db: UoW, pick_resident: Callable[..., int]) -> int:
    """A demo resident with no registered account (the demo registers accounts for many residents)."""
    for _ in range(40):
        who = pick_resident()
        with web_db() as db:
            if db.get(Account, who) is None:
                return who
    pytest.fail("no demo resident without an account")


def _form(c: TestClient, token: str, kana: str, **values: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "bank_code": "0005",
        "branch_code": "001",
        "deposit_type": "1",
        "account_number": "1234567",
        "holder_kana": kana,
    } | values


def test_the_page_needs_a_login(client: TestClient) -> None:
    r = client.get(PAGE, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_register_change_and_delete(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    who = _without_account(web_db, pick_resident)
    c = new_client()
    citizen_session(c, who)
    page = c.get(PAGE)
    assert page.status_code == 200
    assert "登録している口座はありません" in page.text
    kana = _holder_kana(web_db, who)
    assert 'id="i-holder_kana"' in page.text
    prefilled = re.search(r'name="holder_kana" value="([^"]*)"', page.text)
    assert prefilled is not None
    assert prefilled.group(1)  # the registry kana in bank kana (half-width)
    assert prefilled.group(1) != kana

    token = _csrf(c)
    confirm = c.post(PAGE, data=_form(c, token, prefilled.group(1), account_number="4567"))
    assert confirm.status_code == 200, confirm.text[:1000]
    assert "三菱ＵＦＪ" in confirm.text
    assert "本店" in confirm.text
    assert "0004567" in confirm.text
    assert _counts(web_db, who) == (0, 0), "the confirmation saves nothing"

    done = c.post(
        f"{PAGE}/confirm",
        data=_form(c, token, prefilled.group(1), account_number="0004567", action="register"),
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?done=registered"
    shown = c.get(done.headers["location"])
    assert "口座を登録しました" in shown.text
    assert "****567" in shown.text
    assert "0004567" not in shown.text
    assert _counts(web_db, who) == (1, 1)

    changed = c.post(
        f"{PAGE}/confirm",
        data=_form(c, token, prefilled.group(1), bank_code="0009", branch_code="005", action="register"),
        follow_redirects=False,
    )
    assert changed.headers["location"] == f"{PAGE}?done=changed"
    shown = c.get(PAGE)
    assert "春日部" in shown.text
    assert "****567" in shown.text
    assert _counts(web_db, who) == (1, 2)

    ask = c.get(f"{PAGE}/delete")
    assert ask.status_code == 200
    assert "削除する" in ask.text
    assert _counts(web_db, who) == (1, 2), "asking deletes nothing"
    gone = c.post(f"{PAGE}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert gone.headers["location"] == f"{PAGE}?done=deleted"
    history = c.get(PAGE).text
    assert "登録している口座はありません" in history
    assert history.count("<tr>") >= 3  # the header row and the three events
    assert _counts(web_db, who) == (0, 3)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"bank_code": "0002"}, "bank_code", "金融機関コード"),
        ({"branch_code": "999"}, "branch_code", "支店コード"),
        ({"deposit_type": "6"}, "deposit_type", "定期"),
        ({"account_number": "12345678"}, "account_number", "7桁"),
        ({"holder_kana": "ﾀﾆﾝ ﾒｲｷﾞ"}, "holder_kana", "本人名義"),
    ],
)
def test_a_refusal_is_shown_on_its_field_and_saves_nothing(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_db: UoW,
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    who = _without_account(web_db, pick_resident)
    c = new_client()
    citizen_session(c, who)
    token = _csrf(c)
    kana = _holder_kana(web_db, who)
    for path in (PAGE, f"{PAGE}/confirm"):
        r = c.post(path, data=_form(c, token, kana, action="register", **values), follow_redirects=False)
        assert r.status_code == 422, r.text[:500]
        assert message in r.text
        assert f'aria-describedby="h-{field} e-{field}"' in r.text
        assert f'id="e-{field}"' in r.text
        assert 'role="alert"' in r.text
    assert _counts(web_db, who) == (0, 0)


def test_a_form_without_the_csrf_token_is_refused(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    who = _without_account(web_db, pick_resident)
    c = new_client()
    citizen_session(c, who)
    c.get(PAGE)
    r = c.post(
        f"{PAGE}/confirm",
        data=_form(c, "", _holder_kana(web_db, who), action="register"),
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _counts(web_db, who) == (0, 0)


def test_english_and_the_back_button(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    who = _without_account(web_db, pick_resident)
    c = new_client(**{"Accept-Language": "en"})
    citizen_session(c, who)
    page = c.get(PAGE)
    assert "Public-fund account" in page.text
    assert "Ordinary" in page.text
    token = _csrf(c)
    back = c.post(
        f"{PAGE}/confirm",
        data=_form(c, token, _holder_kana(web_db, who), account_number="765", action="edit"),
    )
    assert back.status_code == 200
    assert 'value="765"' in back.text
    assert _counts(web_db, who) == (0, 0)


def test_the_section_is_on_my_page(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, holder: Holder
) -> None:
    c = new_client()
    citizen_session(c, holder.person_id)
    assert PAGE in c.get("/my").text


def test_a_registered_account_is_shown_masked(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_app: FastAPI,
    web_db: UoW,
) -> None:
    who = _without_account(web_db, pick_resident)
    pctx = web_app.state.ctx.extras["payments"]
    with web_db() as db:
        kana = accounts.registry_holder_kana(db, who)
        data = accounts.AccountInput("0001", "001", "1", "7654321", kana)
        view, _action = accounts.save(db, pctx, pctx.master(), who, data, accounts.Actor.system())
        number, bank = view.account_number, view.bank_name
    c = new_client()
    citizen_session(c, who)
    page = c.get(PAGE).text
    assert bank in page
    assert "*" * 4 + number[-3:] in page
    assert number not in page


def _parent_and_minor(web_db: UoW) -> tuple[int, int]:
    adult_before = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    with web_db() as db:
        rows = db.execute(
            select(Person.id, Person.household_id, Person.relationship, Person.birth_date)
            .where(Person.status == "resident", Person.address_suppressed.is_(False))
            .order_by(Person.household_id.desc(), Person.id)
        ).all()
    heads = {hh: pid for pid, hh, rel, _b in rows if rel == "head"}
    for pid, hh, rel, born in rows:
        if rel == "child" and born > adult_before and hh in heads:
            return heads[hh], pid
    pytest.fail("the demo has no household with a minor child")


def test_a_parent_registers_the_account_of_a_minor_child_as_proxy(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    web_db: UoW,
) -> None:
    parent, child = _parent_and_minor(web_db)
    c = new_client()
    citizen_session(c, parent)
    c.post("/my/proxies/children", data={"child": str(child), "csrf_token": csrf(c)}, follow_redirects=False)
    grant = re.search(r"/my/proxies/(\d+)/act", c.get("/my/proxies").text)
    assert grant is not None
    c.post(f"/my/proxies/{grant.group(1)}/act", data={"csrf_token": csrf(c)})
    page = c.get(PAGE).text
    assert "代理人として手続しています" in page
    child_kana = re.search(r'name="holder_kana" value="([^"]*)"', page)
    assert child_kana is not None
    token = _csrf(c)
    parent_kana = _holder_kana(web_db, parent)
    refused = c.post(
        f"{PAGE}/confirm", data=_form(c, token, parent_kana, account_number="2468", action="register")
    )
    assert refused.status_code == 422, "the parent's own name is not the child's"
    assert "本人名義" in refused.text
    done = c.post(
        f"{PAGE}/confirm",
        data=_form(c, token, child_kana.group(1), account_number="2468", action="register"),
        follow_redirects=False,
    )
    assert done.status_code == 303
    with web_db() as db:
        latest = db.scalars(select(AccountEvent).order_by(AccountEvent.id.desc()).limit(1)).one()
        row = db.get(Account, child)
    assert (latest.person_id, latest.actor, latest.channel) == (child, "proxy", "portal")
    assert row is not None
    assert row.account_number == "0002468"
