"""The bank-counter API over HTTP: a bank's staff registers (201), changes (200) and deletes a customer's
public-fund account with a bearer token; another bank's account is refused (403); unknown numbers are 404 without
being echoed; refusals are RFC 9457 and save nothing; the permission is required."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tsunagu.identity import services as identity
from tsunagu.identity.core.roles import Role
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.payments import master as zmaster
from tsunagu.payments.models import Account, AccountEvent
from tsunagu.payments.services import bank_staff
from tsunagu.registry import api as registry
from tsunagu.registry.models import Person

URL = "/api/v1/public-fund-accounts"
BANK = "0005"
UoW = Callable[[], AbstractContextManager[Session]]
Token = Callable[[str], dict[str, str]]


@pytest.fixture(scope="module")
def bank_token(web_app: FastAPI) -> dict[str, str]:
    """A bearer token of a 三菱ＵＦＪ (0005) counter clerk; another of a clerk of a bank with no assignment."""
    ctx = web_app.state.ctx
    with ctx.uow() as db:
        identity.create_staff(
            db, "mufg-counter", "窓口 太郎 (test)", "mufg-counter-pass", [Role.BANK_COUNTER]
        )
        identity.create_staff(
            db, "nobank-counter", "窓口 次郎 (test)", "nobank-counter-pass", [Role.BANK_COUNTER]
        )
        bank_staff.set_bank(db, zmaster.load(), "mufg-counter", BANK)
    with ctx.sessions() as db:
        raw = identity.create_api_token(db, "mufg-counter", "functional test", ctx.clock)
        db.commit()
    return {"Authorization": f"Bearer {raw}"}


def _without_account(web_app: FastAPI, pick_resident: Callable[..., int]) -> int:
    """A demo resident with no registered account (the demo registers accounts for many residents)."""
    for _ in range(40):
        who = pick_resident()
        with web_app.state.ctx.uow() as db:
            if db.get(Account, who) is None:
                return who
    pytest.fail("no demo resident without an account")


def _customer(web_app: FastAPI, pick_resident: Callable[..., int]) -> tuple[int, str, str]:
    """(person id, My Number, holder kana) of a demo resident."""
    ctx = web_app.state.ctx
    who = _without_account(web_app, pick_resident)
    keys = registry.registry_context(ctx.settings, ctx.clock).keys
    with ctx.uow() as db:
        sealed = db.get_one(Person, who).my_number_sealed
        assert sealed is not None
        kana = registry.basic_facts(db, who).name_kana
    return who, keys.reveal(sealed), kana


def _body(number: str, kana: str, **values: str) -> dict[str, Any]:
    return {
        "my_number": number,
        "bank_code": BANK,
        "branch_code": "001",
        "deposit_type": "1",
        "account_number": "2345",
        "holder_kana": kana,
    } | values


def _counts(web_db: UoW, who: int) -> tuple[int, int]:
    with web_db() as db:
        a = db.scalar(select(func.count()).select_from(Account).where(Account.person_id == who))
        e = db.scalar(select(func.count()).select_from(AccountEvent).where(AccountEvent.person_id == who))
    return int(a or 0), int(e or 0)


def test_register_change_delete_at_the_counter(
    client: TestClient,
    web_app: FastAPI,
    bank_token: dict[str, str],
    pick_resident: Callable[..., int],
    web_db: UoW,
) -> None:
    who, number, kana = _customer(web_app, pick_resident)
    r = client.post(URL, json=_body(number, kana), headers=bank_token)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["result"] == "registered"
    assert (body["bank_name"], body["branch_name"], body["account_number_masked"]) == (
        "三菱ＵＦＪ",
        "本店",
        "****345",
    )
    assert number not in r.text
    changed = client.post(URL, json=_body(number, kana, branch_code="002"), headers=bank_token)
    assert changed.status_code == 200, changed.text
    assert changed.json()["result"] == "changed"
    with web_db() as db:
        events = db.scalars(select(AccountEvent).where(AccountEvent.person_id == who)).all()
    assert [(e.channel, e.actor) for e in events] == [("bank_counter", "staff:mufg-counter")] * 2
    gone = client.post(f"{URL}/delete", json={"my_number": number}, headers=bank_token)
    assert gone.status_code == 200, gone.text
    assert gone.json()["result"] == "deleted"
    assert _counts(web_db, who) == (0, 3)
    again = client.post(f"{URL}/delete", json={"my_number": number}, headers=bank_token)
    assert again.status_code == 404


def test_another_banks_account_is_refused(
    client: TestClient,
    web_app: FastAPI,
    bank_token: dict[str, str],
    pick_resident: Callable[..., int],
    web_db: UoW,
) -> None:
    who, number, kana = _customer(web_app, pick_resident)
    r = client.post(URL, json=_body(number, kana, bank_code="0009", branch_code="005"), headers=bank_token)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/forbidden")
    assert _counts(web_db, who) == (0, 0)


@pytest.mark.parametrize(
    ("values", "status", "field"),
    [
        ({"branch_code": "999"}, 422, "branch_code"),
        ({"deposit_type": "6"}, 422, "deposit_type"),
        ({"account_number": "12345678"}, 422, "account_number"),
        ({"holder_kana": "ﾀﾆﾝ ﾒｲｷﾞ"}, 422, "holder_kana"),
    ],
)
def test_refusals_are_problems_and_save_nothing(
    client: TestClient,
    web_app: FastAPI,
    bank_token: dict[str, str],
    pick_resident: Callable[..., int],
    web_db: UoW,
    values: dict[str, str],
    status: int,
    field: str,
) -> None:
    who, number, kana = _customer(web_app, pick_resident)
    r = client.post(URL, json=_body(number, kana, **values), headers=bank_token)
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["field"] == field
    assert problem["status"] == status
    assert number not in r.text
    assert _counts(web_db, who) == (0, 0)


def test_an_unknown_number_is_404_without_echoing_it(client: TestClient, bank_token: dict[str, str]) -> None:
    unknown = my_number_from_serial(987_654)
    r = client.post(URL, json=_body(unknown, "ﾔﾏﾀﾞ ﾀﾛｳ"), headers=bank_token)
    assert r.status_code == 404
    assert unknown not in r.text
    malformed = client.post(URL, json=_body("123456789012", "ﾔﾏﾀﾞ ﾀﾛｳ"), headers=bank_token)
    assert malformed.status_code == 422
    assert "123456789012" not in malformed.text


def test_the_permission_and_a_bank_are_required(
    client: TestClient,
    web_app: FastAPI,
    bank_token: dict[str, str],
    api_token: Token,
    pick_resident: Callable[..., int],
) -> None:
    _who, number, kana = _customer(web_app, pick_resident)
    unknown = client.post(URL, json=_body(number, kana), headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    clerk = api_token("clerk")  # a registry clerk: no payments:account:counter
    assert client.post(URL, json=_body(number, kana), headers=clerk).status_code == 403
    nobank = api_token("nobank-counter")
    r = client.post(URL, json=_body(number, kana), headers=nobank)
    assert r.status_code == 403
    assert "not assigned" in r.json()["detail"]
