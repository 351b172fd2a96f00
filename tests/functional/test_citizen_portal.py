"""The portal shell: login choices, マイページ behind a citizen session, timeouts, logout and "log out everywhere"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tsunagu.identity.citizen import services as citizen

from .conftest import CitizenLoginFn, ClientFactory


def test_my_page_redirects_to_the_citizen_login_keeping_the_query(client: TestClient) -> None:
    response = client.get("/my/logins?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmy%2Flogins%3Fx%3D1"


def test_staff_session_is_not_a_citizen_session(clerk: TestClient) -> None:
    response = clerk.get("/my", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_login_page_offers_card_qr_and_passkey(client: TestClient) -> None:
    page = client.get("/login?next=/my").text
    for href in ("/login/card?next=/my", "/login/qr?next=/my", "/login/passkey?next=/my"):
        assert href in page


def test_my_page_shows_the_name_and_the_login_history(
    client: TestClient, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_app: FastAPI
) -> None:
    person = pick_resident()
    citizen_session(client, person)
    ctx = web_app.state.ctx
    with ctx.uow() as db:
        citizen.record_login(db, ctx.clock, person, "card")
        citizen.record_login(db, ctx.clock, person, "card", relying_party="demo-rp", refused="wrong_pin")
    page = client.get("/my")
    assert page.status_code == 200
    assert "マイページ" in page.text
    history = client.get("/my/logins").text
    assert "demo-rp" in history
    assert "失敗" in history


def test_logout_everywhere_ends_every_session(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    person = pick_resident()
    phone, pc = new_client(), new_client()
    citizen_session(phone, person)
    citizen_session(pc, person)
    assert pc.get("/my").status_code == 200
    response = phone.post("/my/sessions/end-all", data={"csrf_token": csrf(phone)}, follow_redirects=False)
    assert response.status_code == 303
    assert pc.get("/my", follow_redirects=False).status_code == 303
    assert phone.get("/my", follow_redirects=False).status_code == 303


def test_idle_and_absolute_timeouts(web_app: FastAPI, pick_resident: Callable[..., int]) -> None:
    ctx = web_app.state.ctx
    policy = citizen.SessionPolicy(idle_minutes=30, absolute_minutes=60)
    person = pick_resident()
    now = ctx.clock.now()

    class At:
        def __init__(self, t: dt.datetime) -> None:
            self.t = t

        def now(self) -> dt.datetime:
            return self.t

    with ctx.uow() as db:
        raw = citizen.open_citizen_session(db, At(now), policy, person, "x", "card")  # type: ignore[arg-type]
    with ctx.uow() as db:
        assert citizen.resolve_citizen_session(db, raw, At(now + dt.timedelta(minutes=20)), policy)  # type: ignore[arg-type]
    with ctx.uow() as db:  # slid to 20+30 = 50 min
        assert citizen.resolve_citizen_session(db, raw, At(now + dt.timedelta(minutes=45)), policy)  # type: ignore[arg-type]
    with ctx.uow() as db:  # active, but past the absolute limit
        assert citizen.resolve_citizen_session(db, raw, At(now + dt.timedelta(minutes=61)), policy) is None  # type: ignore[arg-type]
    with ctx.uow() as db:
        raw2 = citizen.open_citizen_session(db, At(now), policy, person, "x", "card")  # type: ignore[arg-type]
    with ctx.uow() as db:  # idle for 31 minutes
        assert citizen.resolve_citizen_session(db, raw2, At(now + dt.timedelta(minutes=31)), policy) is None  # type: ignore[arg-type]
