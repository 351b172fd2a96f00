"""Passkeys over HTTP: registration after a card login, login without a username, and every refusal (replayed
challenge, wrong origin, revoked passkey, counter regression, non-resident, passkey session registering), with
a software authenticator whose bytes py_webauthn verifies as a browser's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.app import create_app
from tsunagu.audit.models import AuditEntry
from tsunagu.identity.citizen.models import LoginRecord
from tsunagu.identity.passkeys.models import Passkey, PasskeyUser
from tsunagu.kernel.clock import fixed_clock
from tsunagu.registry.models import Person
from tsunagu.settings import Settings

from ..passkey_authenticator import CredentialExcluded, SoftAuthenticator
from .conftest import BASE_URL, NOW, CitizenLoginFn, ClientFactory, csrf_of

Db = Callable[[], AbstractContextManager[Session]]


@pytest.fixture(scope="module")
def web_app(web_settings: Settings) -> Iterator[FastAPI]:
    """The app served at the test client's origin, which is the WebAuthn origin (``public_url``)."""
    app = create_app(web_settings.model_copy(update={"public_url": BASE_URL}), fixed_clock(NOW))
    yield app
    app.state.ctx.engine.dispose()


def post_json(c: TestClient, path: str, body: dict[str, Any], *, csrf: bool = True) -> httpx.Response:
    headers = {"Accept": "application/json"}
    if csrf:
        headers["X-CSRF-Token"] = csrf_of(c)
    return c.post(path, json=body, headers=headers)


def register(c: TestClient, authenticator: SoftAuthenticator, label: str = "Pixel 9", **extra: Any) -> int:
    options = post_json(c, "/my/passkeys/options", {"label": label, **extra})
    assert options.status_code == 200, options.text
    done = post_json(c, "/my/passkeys/register", {"credential": authenticator.create(options.json())})
    assert done.status_code == 200, done.text
    assert done.json()["next"] == "/my/passkeys?done=registered"
    return passkey_id(c, authenticator)


def passkey_id(c: TestClient, authenticator: SoftAuthenticator) -> int:
    app: FastAPI = c.app  # type: ignore[assignment]
    with app.state.ctx.uow() as db:
        found = db.scalar(select(Passkey.id).where(Passkey.credential_id == authenticator.credential_id))
    assert found is not None
    return int(found)


def login(c: TestClient, authenticator: SoftAuthenticator, **kwargs: Any) -> httpx.Response:
    options = post_json(c, "/login/passkey/options", {})
    assert options.status_code == 200, options.text
    return post_json(
        c,
        "/login/passkey/verify",
        {"credential": authenticator.get(options.json(), **kwargs), "next": "/my/logins"},
    )


def refused_because(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/passkey-login-refused")
    reason: str = body["reason"]
    return reason


@pytest.fixture
def resident_with_passkey(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> tuple[int, SoftAuthenticator]:
    person = pick_resident()
    card = new_client()
    citizen_session(card, person)
    authenticator = SoftAuthenticator(BASE_URL)
    register(card, authenticator)
    return person, authenticator


def test_register_after_a_card_login_then_log_in_without_the_card(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: Db
) -> None:
    person = pick_resident()
    card = new_client()
    citizen_session(card, person)
    assert 'href="/my/passkeys"' in card.get("/my").text
    page = card.get("/my/passkeys")
    assert page.status_code == 200
    assert 'id="passkey-register"' in page.text
    assert '<script src="/static/passkeys.js" defer></script>' in page.text
    authenticator = SoftAuthenticator(BASE_URL)
    options = post_json(card, "/my/passkeys/options", {"label": "  Pixel   9 "}).json()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["rp"]["id"] == "testserver"
    assert (
        post_json(card, "/my/passkeys/register", {"credential": authenticator.create(options)}).status_code
        == 200
    )
    listing = card.get("/my/passkeys").text
    assert "Pixel 9" in listing
    assert "まだ使われていません" in listing

    phone = new_client()
    response = login(phone, authenticator)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "next": "/my/logins"}
    history = phone.get("/my/logins")
    assert history.status_code == 200
    assert "パスキー" in history.text
    with web_db() as db:
        handle = db.get(PasskeyUser, person)
        assert handle is not None
        assert authenticator.user_handle == handle.user_handle
        assert len(handle.user_handle) == 32  # random bytes, not the person id
        row = db.scalars(select(Passkey).where(Passkey.person_id == person)).one()
        assert (row.label, row.sign_count, row.transports) == ("Pixel 9", 1, "internal")
        assert row.last_used_at is not None
        logins = db.scalars(select(LoginRecord).where(LoginRecord.person_id == person)).all()
        assert [(r.method, r.outcome) for r in logins] == [("passkey", "succeeded")]
        assert db.scalar(select(AuditEntry.id).where(AuditEntry.action == "identity:passkey:register"))


def test_a_replayed_challenge_is_refused(
    new_client: ClientFactory, resident_with_passkey: tuple[int, SoftAuthenticator]
) -> None:
    _person, authenticator = resident_with_passkey
    c = new_client()
    options = post_json(c, "/login/passkey/options", {}).json()
    first = post_json(c, "/login/passkey/verify", {"credential": authenticator.get(options)})
    assert first.status_code == 200
    again = post_json(new_client(), "/login/passkey/verify", {"credential": authenticator.get(options)})
    assert refused_because(again) == "challenge"


def test_a_response_from_another_origin_is_refused(
    new_client: ClientFactory, resident_with_passkey: tuple[int, SoftAuthenticator], web_db: Db
) -> None:
    person, authenticator = resident_with_passkey
    response = login(new_client(), authenticator, origin="https://tsunagu.example.net")
    assert refused_because(response) == "verification_failed"
    with web_db() as db:
        record = db.scalars(select(LoginRecord).where(LoginRecord.person_id == person)).one()
        assert (record.method, record.outcome, record.reason) == ("passkey", "refused", "verification_failed")
        refusal = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "identity:passkey:login_refused",
                AuditEntry.subject == f"person:{person}",
            )
        ).one()
        assert refusal.detail["why"] == "verification_failed"


def test_a_response_without_user_verification_is_refused(
    new_client: ClientFactory, resident_with_passkey: tuple[int, SoftAuthenticator]
) -> None:
    _person, authenticator = resident_with_passkey
    assert refused_because(login(new_client(), authenticator, verified=False)) == "verification_failed"


def test_a_revoked_passkey_is_refused(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    person = pick_resident()
    card = new_client()
    citizen_session(card, person)
    authenticator = SoftAuthenticator(BASE_URL)
    pid = register(card, authenticator)
    revoked = card.post(
        f"/my/passkeys/{pid}/revoke", data={"csrf_token": csrf_of(card)}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/my/passkeys?done=revoked"
    listing = card.get("/my/passkeys").text
    assert "無効（ご本人が無効化）" in listing
    assert f"/my/passkeys/{pid}/revoke" not in listing
    assert refused_because(login(new_client(), authenticator)) == "revoked"


def test_a_counter_that_goes_back_stops_the_passkey(
    new_client: ClientFactory, resident_with_passkey: tuple[int, SoftAuthenticator], web_db: Db
) -> None:
    person, authenticator = resident_with_passkey
    assert login(new_client(), authenticator, sign_count=5).status_code == 200
    clone = login(new_client(), authenticator, sign_count=3)
    assert refused_because(clone) == "clone_suspected"
    with web_db() as db:
        row = db.scalars(select(Passkey).where(Passkey.person_id == person)).one()
        assert row.revoked_reason == "clone_suspected"
        assert row.sign_count == 5
    # the genuine authenticator is stopped too, until the resident registers again with the card
    assert refused_because(login(new_client(), authenticator, sign_count=6)) == "revoked"


def test_an_unknown_passkey_is_refused_and_audited(new_client: ClientFactory, web_db: Db) -> None:
    stranger = SoftAuthenticator(BASE_URL)
    assert refused_because(login(new_client(), stranger)) == "unknown_credential"
    with web_db() as db:
        entry = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "identity:passkey:login_refused", AuditEntry.actor == "anonymous")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        assert entry.detail["why"] == "unknown_credential"


def test_a_person_no_longer_resident_cannot_log_in_with_a_passkey(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, web_db: Db
) -> None:
    with web_db() as db:
        gone = db.scalar(select(Person.id).where(Person.status != "resident").order_by(Person.id))
    assert gone is not None, "the demo population has people who moved out or died"
    card = new_client()
    citizen_session(card, int(gone))
    authenticator = SoftAuthenticator(BASE_URL)
    register(card, authenticator)
    assert refused_because(login(new_client(), authenticator)) == "not_resident"


def test_a_passkey_session_cannot_register_a_passkey(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    resident_with_passkey: tuple[int, SoftAuthenticator],
) -> None:
    person, authenticator = resident_with_passkey
    phone = new_client()
    assert login(phone, authenticator).status_code == 200
    page = phone.get("/my/passkeys").text
    assert 'id="passkey-register"' not in page
    assert "マイナンバーカードでログインし直す" in page
    refused = post_json(phone, "/my/passkeys/options", {"label": "another"})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/passkey-needs-card")
    # a session opened by a passkey directly (fixture) is refused the same way
    other = new_client()
    citizen_session(other, pick_resident(), "passkey")
    assert post_json(other, "/my/passkeys/options", {"label": "x"}).status_code == 403
    del person


def test_registration_needs_the_csrf_header_and_a_label(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    card = new_client()
    citizen_session(card, pick_resident())
    assert post_json(card, "/my/passkeys/options", {"label": "Pixel"}, csrf=False).status_code == 403
    assert post_json(card, "/login/passkey/options", {}, csrf=False).status_code == 403
    blank = post_json(card, "/my/passkeys/options", {"label": "   "})
    assert blank.status_code == 422
    assert blank.json()["field"] == "label"
    assert post_json(card, "/my/passkeys/options", {"label": "x" * 65}).status_code == 422


def test_a_registration_challenge_belongs_to_the_person_who_asked(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_app: FastAPI,
) -> None:
    alice, bob = new_client(), new_client()
    citizen_session(alice, pick_resident())
    bob_id = pick_resident()
    citizen_session(bob, bob_id)
    options = post_json(alice, "/my/passkeys/options", {"label": "alice's phone"}).json()
    stolen = post_json(
        bob, "/my/passkeys/register", {"credential": SoftAuthenticator(BASE_URL).create(options)}
    )
    assert stolen.status_code == 400
    assert stolen.json()["reason"] == "challenge"
    # and the challenge is now spent for alice too
    again = post_json(
        alice, "/my/passkeys/register", {"credential": SoftAuthenticator(BASE_URL).create(options)}
    )
    assert again.json()["reason"] == "challenge"
    with web_app.state.ctx.uow() as db:  # refused registrations are in the audit trail
        refusals = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "identity:passkey:register_refused",
                AuditEntry.actor == f"person:{bob_id}",
            )
        ).all()
    assert [r.detail["why"] for r in refusals] == ["challenge"]


def test_listing_excludes_registered_credentials_and_revocation_is_per_person(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    card = new_client()
    citizen_session(card, pick_resident())
    pixel, iphone = SoftAuthenticator(BASE_URL), SoftAuthenticator(BASE_URL)
    pixel_id = register(card, pixel, "Galaxy S25")
    options = post_json(card, "/my/passkeys/options", {"label": "Galaxy again"}).json()
    with pytest.raises(CredentialExcluded):
        pixel.create(options)
    register(card, iphone, "iPhone 16")
    listing = card.get("/my/passkeys").text
    assert listing.index("iPhone 16") < listing.index("Galaxy S25")  # newest first
    assert listing.count(">無効にする</button>") == 2

    someone_else = new_client()
    citizen_session(someone_else, pick_resident())
    theirs = someone_else.post(
        f"/my/passkeys/{pixel_id}/revoke", data={"csrf_token": csrf_of(someone_else)}, follow_redirects=False
    )
    assert theirs.status_code == 404
    assert "Galaxy S25" not in someone_else.get("/my/passkeys").text
    assert login(new_client(), pixel).status_code == 200


def test_a_phone_change_replaces_the_old_passkey(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: Db
) -> None:
    card = new_client()
    person = pick_resident()
    citizen_session(card, person)
    old_phone, new_phone = SoftAuthenticator(BASE_URL), SoftAuthenticator(BASE_URL)
    old_id = register(card, old_phone, "Pixel 7")
    page = card.get(f"/my/passkeys?replace={old_id}").text
    assert "機種変更: 「Pixel 7」を新しい端末のパスキーに置き換える" in page
    assert f'data-replaces="{old_id}"' in page
    new_id = register(card, new_phone, "Pixel 9", replaces=old_id)
    with web_db() as db:
        old, new = db.get(Passkey, old_id), db.get(Passkey, new_id)
        assert old is not None
        assert new is not None
        assert (old.revoked_reason, new.revoked_at) == ("replaced", None)
        entry = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "identity:passkey:register", AuditEntry.subject == f"person:{person}")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        assert entry.detail == {"passkey": new_id, "replaces": old_id}
    assert "無効（機種変更）" in card.get("/my/passkeys").text
    assert refused_because(login(new_client(), old_phone)) == "revoked"
    assert login(new_client(), new_phone).status_code == 200


def test_the_login_page_works_without_inline_script_and_points_to_the_card(client: TestClient) -> None:
    page = client.get("/login/passkey?next=/my/logins")
    assert page.status_code == 200
    assert "<noscript>" in page.text
    assert 'data-next="/my/logins"' in page.text
    assert '<script src="/static/passkeys.js" defer></script>' in page.text
    assert "<script>" not in page.text
    assert 'href="/login/card?next=/my/logins"' in page.text
    assert 'data-next="/"' in client.get("/login/passkey?next=https://evil.example").text
    script = client.get("/static/passkeys.js")
    assert script.status_code == 200
    assert "navigator.credentials.get" in script.text


def test_a_suspended_card_stops_its_passkeys(
    new_client: ClientFactory, resident_with_passkey: tuple[int, SoftAuthenticator], web_app: FastAPI
) -> None:
    from tsunagu.identity import api as identity_api

    person, authenticator = resident_with_passkey
    ctx = web_app.state.ctx
    with ctx.uow() as db:
        cards = identity_api.card_context(ctx.settings, ctx.clock)
        pins = identity_api.CardPins("1234", "5678", "TSUNAGU1")
        identity_api.issue_demo_cards(db, cards, [person], pins)  # skipped if the demo gave them one
        card = identity_api.cards_of(db, person)[0]
    assert login(new_client(), authenticator).status_code == 200
    with ctx.uow() as db:
        identity_api.suspend_card(db, cards, card.serial, f"person:{person}")
    assert refused_because(login(new_client(), authenticator)) == "card_suspended"


def test_the_passkey_pages_in_english(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    card = new_client()
    citizen_session(card, pick_resident())
    card.get("/language/en")
    page = card.get("/my/passkeys").text
    assert "Passkeys (smartphone credentials)" in page
    assert "Your passkeys" in page
    assert "Device name" in page
    anonymous = new_client()
    anonymous.get("/language/en")
    assert "Use a passkey" in anonymous.get("/login/passkey").text
