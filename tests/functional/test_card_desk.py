"""The card desk (/staff/cards) over HTTP: who may use it, issuing a card, re-setting a locked PIN after a photo-ID
check, suspending, restoring and reporting a loss; every step audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit.models import AuditEntry
from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import PIN_REFUSALS
from tsunagu.identity.cards.models import Card
from tsunagu.identity.core.pins import PinSlot
from tsunagu.registry.models import Person

from .conftest import AS_OF, ClientFactory, LoginFn

CARDDESK = ("carddesk", "demo-carddesk-pass")
Db = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def desk(new_client: ClientFactory, login: LoginFn) -> TestClient:
    c = new_client()
    assert login(c, *CARDDESK).status_code == 303
    return c


@pytest.fixture
def card_ctx(web_app: FastAPI) -> cards.CardContext:
    ctx = web_app.state.ctx
    return cards.card_context(ctx.settings, ctx.clock, ctx.extras.get("trust"))


def _adult_without_card(web_db: Db) -> int:
    with web_db() as db:
        carded = set(db.scalars(select(Card.person_id)))
        born_before = AS_OF - dt.timedelta(days=365 * 20)
        rows = db.scalars(
            select(Person.id)
            .where(
                Person.status == "resident",
                Person.address_suppressed.is_(False),
                Person.birth_date < born_before,
            )
            .order_by(Person.id.desc())
        )
        return next(pid for pid in rows if pid not in carded)


def _post(c: TestClient, path: str, csrf: Callable[[TestClient], str], **data: str) -> object:
    return c.post(path, data={"csrf_token": csrf(c), **data}, follow_redirects=False)


def test_only_card_desk_staff_reach_the_desk(
    client: TestClient, counter: TestClient, desk: TestClient
) -> None:
    assert client.get("/staff/cards", follow_redirects=False).status_code in (303, 401)
    assert counter.get("/staff/cards").status_code == 403
    page = desk.get("/staff/cards")
    assert page.status_code == 200
    assert "マイナンバーカード交付窓口" in page.text
    assert "/staff/cards" in desk.get("/staff").text
    assert desk.get("/staff/cards?person=abc").status_code == 422


def test_issue_lock_reset_suspend_restore_and_report_loss(
    desk: TestClient,
    web_db: Db,
    card_ctx: cards.CardContext,
    csrf: Callable[[TestClient], str],
) -> None:
    pid = _adult_without_card(web_db)
    page = desk.get(f"/staff/cards?person={pid}")
    assert page.status_code == 200
    assert "カードの交付" in page.text
    assert "署名用暗証番号" in page.text

    pins = {"person_id": str(pid), "authentication_pin": "1234", "surface_pin": "5678"}
    refused = desk.post(
        "/staff/cards/issue",
        data={"csrf_token": csrf(desk), **pins, "signature_pin": "abc"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "署名用電子証明書の暗証番号" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert (
        desk.post("/staff/cards/issue", data={**pins, "signature_pin": "TEST123"}).status_code == 403
    )  # no CSRF
    with web_db() as db:
        assert cards.cards_of(db, pid) == []

    done = desk.post(
        "/staff/cards/issue",
        data={"csrf_token": csrf(desk), **pins, "signature_pin": "TEST123"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = desk.get(done.headers["location"])
    assert "カードを交付しました。" in page.text
    with web_db() as db:
        (card,) = cards.cards_of(db, pid)
    assert card.has_signature
    assert card.display_serial in page.text
    assert "残り3回" in page.text

    for _ in range(3):  # the holder gets the authentication PIN wrong three times
        with web_db() as db, suppress(PIN_REFUSALS):
            cards.chip_for(db, card_ctx, card.serial).sign(PinSlot.AUTHENTICATION, "0000", b"x")
    assert "ロック中" in desk.get(f"/staff/cards?person={pid}").text

    base = f"/staff/cards/{card.serial}"
    reset = {"person_id": str(pid), "slot": "authentication", "new_pin": "2468"}
    unchecked = desk.post(
        f"{base}/reset-pin", data={"csrf_token": csrf(desk), **reset}, follow_redirects=False
    )
    assert unchecked.status_code == 422
    assert "本人確認書類" in unchecked.text
    ok = desk.post(
        f"{base}/reset-pin",
        data={"csrf_token": csrf(desk), **reset, "confirm": "yes"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "暗証番号を再設定しました。" in desk.get(ok.headers["location"]).text
    with web_db() as db:
        cards.chip_for(db, card_ctx, card.serial).sign(PinSlot.AUTHENTICATION, "2468", b"x")

    for action, status in (("suspend", "suspended"), ("restore", "active"), ("report-loss", "revoked")):
        answer = desk.post(
            f"{base}/{action}",
            data={"csrf_token": csrf(desk), "person_id": str(pid), "confirm": "yes"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        with web_db() as db:
            assert cards.get_card(db, card.serial).status.value == status
    page = desk.get(f"/staff/cards?person={pid}")
    assert "廃止" in page.text
    assert "カードの交付" in page.text  # a new card can be issued after the loss

    with web_db() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.subject == f"person:{pid}")).all()
    by_desk = {e.action for e in entries if e.actor == "carddesk"}
    assert {
        "identity:card:issue",
        "identity:pin:reset",
        "identity:card:suspend",
        "identity:card:restore",
        "identity:card:report_loss",
        "registry:person:view",
    } <= by_desk
    assert {"identity:pin:fail", "identity:pin:lock"} <= {e.action for e in entries}


def test_english_desk_page(desk: TestClient, web_db: Db) -> None:
    pid = _adult_without_card(web_db)
    page = desk.get(f"/staff/cards?person={pid}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "My Number card desk" in page.text
    assert "Issue a card" in page.text


def test_reissue_at_the_desk(desk: TestClient, web_db: Db, csrf: Callable[[TestClient], str]) -> None:
    pid = _adult_without_card(web_db)
    pins = {
        "person_id": str(pid),
        "authentication_pin": "1234",
        "surface_pin": "5678",
        "signature_pin": "TEST123",
    }
    desk.post("/staff/cards/issue", data={"csrf_token": csrf(desk), **pins})
    with web_db() as db:
        (old,) = cards.cards_of(db, pid)
    page = desk.get(f"/staff/cards?person={pid}").text
    assert "カードを再交付する" in page
    unconfirmed = desk.post(f"/staff/cards/{old.serial}/reissue", data={"csrf_token": csrf(desk), **pins})
    assert unconfirmed.status_code == 422
    done = desk.post(
        f"/staff/cards/{old.serial}/reissue",
        data={"csrf_token": csrf(desk), **pins, "authentication_pin": "4321", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "カードを再交付しました" in desk.get(done.headers["location"]).text
    with web_db() as db:
        new, previous = cards.cards_of(db, pid)
    assert (new.status, new.replaces) == ("active", old.serial)
    assert previous.status == "revoked"
