"""Staff login, lockout, logout and CSRF protection, through the real forms."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tsunagu.identity import services as identity
from tsunagu.identity.core.roles import Role
from tsunagu.identity.models import StaffSession, StaffUser

LOGIN_FAILED_JA = "ユーザー名またはパスワードが正しくありません。"
LOGIN_FAILED_EN = "The username or password is not correct."
LOCKED_JA = "繰り返し失敗したため、アカウントを一時的にロックしました。"

Login = Callable[..., httpx.Response]


def make_staff(web_app: FastAPI, username: str, password: str) -> None:
    with web_app.state.ctx.uow() as db:
        identity.create_staff(db, username, f"{username} (test)", password, [Role.COUNTER_STAFF])


def staff_row(web_app: FastAPI, username: str) -> StaffUser:
    with web_app.state.ctx.uow() as db:
        row: StaffUser | None = db.scalar(select(StaffUser).where(StaffUser.username == username))
        assert row is not None
        return row


def session_count(web_app: FastAPI) -> int:
    with web_app.state.ctx.uow() as db:
        return len(list(db.scalars(select(StaffSession.id_hash))))


# --- login -----------------------------------------------------------------------------------------------


def test_login_succeeds_and_redirects_to_next(client: TestClient, login: Login) -> None:
    response = login(client, "clerk", "demo-clerk-pass", "/staff/residents")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/residents"
    session_cookie = response.headers["set-cookie"]
    assert session_cookie.startswith("__Host-tsunagu_session=")
    assert "httponly" in session_cookie.lower()
    assert "secure" in session_cookie.lower()
    home = client.get("/staff")
    assert home.status_code == 200
    assert "住民記録 太郎 (demo)" in home.text


def test_login_refuses_an_external_next(client: TestClient, login: Login) -> None:
    response = login(client, "clerk", "demo-clerk-pass", "//evil.example/phish")
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_wrong_password_shows_a_message_and_opens_no_session(
    client: TestClient, login: Login, web_app: FastAPI
) -> None:
    before = session_count(web_app)
    response = login(client, "clerk", "not-the-password")
    assert response.status_code == 401
    assert LOGIN_FAILED_JA in response.text
    assert 'role="alert"' in response.text
    assert 'value="clerk"' in response.text  # the username is kept; the password never is
    assert "not-the-password" not in response.text
    assert "tsunagu_session" not in response.headers.get("set-cookie", "")
    assert session_count(web_app) == before
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_unknown_user_gets_the_same_message(client: TestClient, login: Login) -> None:
    response = login(client, "nobody-here", "whatever-password")
    assert response.status_code == 401
    assert LOGIN_FAILED_JA in response.text


def test_login_failure_message_is_translated(new_client: Callable[..., TestClient], login: Login) -> None:
    english = new_client(**{"Accept-Language": "en"})
    response = login(english, "clerk", "not-the-password")
    assert response.status_code == 401
    assert LOGIN_FAILED_EN in response.text


def test_five_failures_lock_the_account(client: TestClient, login: Login, web_app: FastAPI) -> None:
    make_staff(web_app, "lockme", "correct-horse-battery")
    for attempt in range(1, 6):
        response = login(client, "lockme", f"wrong-password-{attempt}")
        assert response.status_code == 401
        assert LOGIN_FAILED_JA in response.text, attempt
    assert staff_row(web_app, "lockme").locked_until is not None
    locked = login(client, "lockme", "correct-horse-battery")
    assert locked.status_code == 401
    assert LOCKED_JA in locked.text
    assert "tsunagu_session" not in locked.headers.get("set-cookie", "")
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_four_failures_do_not_lock_and_success_resets_the_count(
    client: TestClient, login: Login, web_app: FastAPI
) -> None:
    make_staff(web_app, "nearly", "correct-horse-battery")
    for attempt in range(4):
        assert login(client, "nearly", f"wrong-{attempt}-password").status_code == 401
    assert staff_row(web_app, "nearly").failed_logins == 4
    assert login(client, "nearly", "correct-horse-battery").status_code == 303
    row = staff_row(web_app, "nearly")
    assert row.failed_logins == 0
    assert row.locked_until is None


# --- logout ----------------------------------------------------------------------------------------------


def test_logout_ends_the_session_for_good(
    clerk: TestClient, csrf: Callable[[TestClient], str], new_client: Callable[..., TestClient]
) -> None:
    raw = clerk.cookies.get("__Host-tsunagu_session")
    assert raw
    assert clerk.get("/staff").status_code == 200
    response = clerk.post("/staff/logout", data={"csrf_token": csrf(clerk)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    after = clerk.get("/staff", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/staff/login")
    # The old cookie, replayed by anyone, no longer opens a session (it was revoked on the server).
    replay = new_client()
    replay.cookies.set("__Host-tsunagu_session", raw)
    assert replay.get("/staff", follow_redirects=False).status_code == 303
    assert replay.get("/api/v1/residents", params={"q": "ア"}).status_code == 401


def test_logout_needs_a_session(client: TestClient, csrf: Callable[[TestClient], str]) -> None:
    response = client.post("/staff/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code == 401


# --- CSRF ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong-token-" + "x" * 40])
def test_login_without_a_valid_csrf_token_is_refused(
    client: TestClient, web_app: FastAPI, token: str | None
) -> None:
    client.get("/staff/login")
    before = session_count(web_app)
    form = {"username": "clerk", "password": "demo-clerk-pass", "next": "/staff"}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/staff/login", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/csrf")
    assert "tsunagu_session" not in response.headers.get("set-cookie", "")
    assert session_count(web_app) == before


def test_csrf_token_without_the_cookie_is_refused(
    new_client: Callable[..., TestClient], client: TestClient, csrf: Callable[[TestClient], str]
) -> None:
    """A token lifted from another browser is useless without that browser's cookie."""
    stolen = csrf(client)
    attacker = new_client()
    response = attacker.post(
        "/staff/login",
        data={"username": "clerk", "password": "demo-clerk-pass", "csrf_token": stolen},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_logout_without_token_is_refused_and_the_session_stays(clerk: TestClient) -> None:
    response = clerk.post("/staff/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    response = clerk.post("/staff/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert clerk.get("/staff").status_code == 200


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_recording_without_a_valid_csrf_token_writes_nothing(
    clerk: TestClient,
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
    token: str | None,
) -> None:
    pid = pick_resident()
    before = event_count()
    form = {"effective_date": "2026-11-20", "town": "辻堂一丁目", "block": "1番1号"}
    if token is not None:
        form["csrf_token"] = token
    response = clerk.post(f"/staff/residents/{pid}/move", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert event_count() == before
    history = clerk.get(f"/api/v1/residents/{pid}/events").json()["items"]
    assert all(e["kind"] != "move_within" or e["recorded_by"] == "seed" for e in history)


def test_cookie_authenticated_json_write_needs_the_csrf_header(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
) -> None:
    pid = pick_resident()
    body = {"kind": "move_within", "effective_date": "2026-11-25", "town": "辻堂一丁目", "block": "2番2号"}
    before = event_count()
    refused = clerk.post(f"/api/v1/residents/{pid}/events", json=body)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/csrf")
    assert event_count() == before
    accepted = clerk.post(f"/api/v1/residents/{pid}/events", json=body, headers={"X-CSRF-Token": csrf(clerk)})
    assert accepted.status_code == 201, accepted.text
    assert event_count() == before + 1
