"""Card login over HTTP: the JSON protocol as a non-browser client speaks it, the demo card reader, the 2D-code
(QR) login, signature-PIN re-authentication, and the refusals (replay, expiry, foreign certificate, bad
signature, suspended card, wrong and locked PINs)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tsunagu.audit.models import AuditEntry
from tsunagu.identity.cardlogin import services
from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import ChipKeys, SoftwareChip
from tsunagu.identity.citizen.models import LoginRecord
from tsunagu.identity.core.pins import PinSlot
from tsunagu.kernel.clock import fixed_clock

from .conftest import AUTH_PIN, DESK, SIGN_PIN, CitizenLoginFn, ClientFactory, Holder


def sign_challenge(
    web_app: FastAPI, serial: str, challenge: dict[str, str], pin: str = AUTH_PIN
) -> dict[str, str]:
    """What a reader client does: read the certificate and have the chip sign the exact bytes."""
    ctx = web_app.state.ctx
    message = (
        f"tsunagu-card-login-v1\n{challenge['audience']}\n{challenge['challenge_id']}\n{challenge['nonce']}"
    )
    assert base64.b64decode(challenge["to_be_signed"]) == message.encode()
    with ctx.uow() as db:
        chip = SoftwareChip(db, ChipKeys(ctx.settings.master_secret()), ctx.clock, serial)
        signature = chip.sign(PinSlot.AUTHENTICATION, pin, message.encode())
        cert = chip.read_certificate(PinSlot.AUTHENTICATION)
    return {
        "challenge_id": challenge["challenge_id"],
        "certificate": base64.b64encode(cert).decode(),
        "signature": base64.b64encode(signature).decode(),
    }


def problem_reason(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    return str(body.get("reason") or body["type"].rsplit("/", 1)[-1])


def test_json_protocol_opens_a_session_and_records_the_login(
    client: TestClient, web_app: FastAPI, holder: Holder
) -> None:
    challenge = client.post("/api/v1/card-login/challenges").json()
    assert challenge["protocol"] == "tsunagu-card-login-v1"
    response = client.post(
        "/api/v1/card-login/sessions", json=sign_challenge(web_app, holder.serial, challenge)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["method"] == "card"
    assert body["session"]
    assert client.get("/my").status_code == 200
    with web_app.state.ctx.uow() as db:
        rows = db.scalars(select(LoginRecord).where(LoginRecord.person_id == holder.person_id)).all()
    assert [(r.method, r.outcome) for r in rows] == [("card", "succeeded")]


def test_a_challenge_is_single_use(new_client: ClientFactory, web_app: FastAPI, holder: Holder) -> None:
    client = new_client()
    challenge = client.post("/api/v1/card-login/challenges").json()
    answer = sign_challenge(web_app, holder.serial, challenge)
    assert client.post("/api/v1/card-login/sessions", json=answer).status_code == 201
    replay = new_client().post("/api/v1/card-login/sessions", json=answer)
    assert replay.status_code == 401
    assert replay.json()["reason"] == "replayed_challenge"
    assert "used" in replay.json()["detail"]


def test_an_expired_challenge_is_refused(client: TestClient, web_app: FastAPI, holder: Holder) -> None:
    ctx = web_app.state.ctx
    key = services.ChallengeKey(ctx.settings.master_secret())
    old = key.issue(fixed_clock(ctx.clock.now() - dt.timedelta(minutes=10)), ctx.settings.public_url)
    challenge = {
        "challenge_id": old.challenge_id,
        "nonce": old.nonce,
        "audience": old.audience,
        "to_be_signed": base64.b64encode(old.message).decode(),
    }
    response = client.post(
        "/api/v1/card-login/sessions", json=sign_challenge(web_app, holder.serial, challenge)
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "expired_challenge"


def test_a_tampered_challenge_id_is_unknown(client: TestClient, web_app: FastAPI, holder: Holder) -> None:
    """The id carries its expiry under a MAC: pushing the expiry back is detected."""
    challenge = client.post("/api/v1/card-login/challenges").json()
    expiry, rest = challenge["challenge_id"].split(".", 1)
    challenge["challenge_id"] = f"{int(expiry, 16) + 3600:x}.{rest}"
    message = (
        f"tsunagu-card-login-v1\n{challenge['audience']}\n{challenge['challenge_id']}\n{challenge['nonce']}"
    )
    challenge["to_be_signed"] = base64.b64encode(message.encode()).decode()
    response = client.post(
        "/api/v1/card-login/sessions", json=sign_challenge(web_app, holder.serial, challenge)
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "unknown_challenge"


def test_an_unknown_challenge_is_refused(client: TestClient, web_app: FastAPI, holder: Holder) -> None:
    challenge = client.post("/api/v1/card-login/challenges").json()
    answer = sign_challenge(web_app, holder.serial, challenge) | {"challenge_id": "no-such-challenge"}
    response = client.post("/api/v1/card-login/sessions", json=answer)
    assert response.status_code == 401
    assert response.json()["reason"] == "unknown_challenge"


def test_a_foreign_certificate_is_refused(client: TestClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign JPKI look-alike")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    challenge = client.post("/api/v1/card-login/challenges").json()
    message = base64.b64decode(challenge["to_be_signed"])
    answer = {
        "challenge_id": challenge["challenge_id"],
        "certificate": base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
        "signature": base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode(),
    }
    response = client.post("/api/v1/card-login/sessions", json=answer)
    assert response.status_code in {400, 401, 403}
    assert "unknown-issuer" in response.json()["type"]
    assert client.get("/my", follow_redirects=False).status_code == 303


def test_a_signature_over_other_bytes_is_refused(
    client: TestClient, web_app: FastAPI, holder: Holder
) -> None:
    challenge = client.post("/api/v1/card-login/challenges").json()
    other = client.post("/api/v1/card-login/challenges").json()
    answer = sign_challenge(web_app, holder.serial, other) | {"challenge_id": challenge["challenge_id"]}
    response = client.post("/api/v1/card-login/sessions", json=answer)
    assert response.status_code == 401
    assert response.json()["reason"] == "bad_signature"


def test_malformed_answers_get_a_clear_error(client: TestClient) -> None:
    challenge = client.post("/api/v1/card-login/challenges").json()
    response = client.post(
        "/api/v1/card-login/sessions",
        json={"challenge_id": challenge["challenge_id"], "certificate": "not base64!", "signature": "??"},
    )
    assert response.status_code == 422
    assert "base64" in response.json()["detail"]
    missing = client.post("/api/v1/card-login/sessions", json={"challenge_id": "x"})
    assert missing.status_code == 422


def test_a_suspended_card_cannot_log_in_and_the_refusal_is_listed(
    new_client: ClientFactory, csrf: Callable[[TestClient], str], web_app: FastAPI, holder: Holder
) -> None:
    ctx = web_app.state.ctx
    client = new_client()
    challenge = client.post("/api/v1/card-login/challenges").json()
    answer = sign_challenge(web_app, holder.serial, challenge)  # signed just before the holder stops the card
    with ctx.uow() as db:
        cards.suspend_card(
            db,
            cards.card_context(ctx.settings, ctx.clock, ctx.extras["trust"]),
            holder.serial,
            f"person:{holder.person_id}",
        )
    response = client.post("/api/v1/card-login/sessions", json=answer)
    assert response.status_code in {401, 403}
    assert "revoked" in response.json()["type"] or "suspended" in response.text
    with ctx.uow() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
        assert "identity:citizen_session:login_refused" in actions
    # the chip itself refuses too: the reader page says why
    page = _reader_login(new_client(), csrf, holder.serial, AUTH_PIN)
    assert page.status_code == 403  # type: ignore[attr-defined]
    assert "一時停止" in page.text  # type: ignore[attr-defined]


def _reader_login(c: TestClient, csrf: Callable[[TestClient], str], serial: str, pin: str) -> object:
    c.get("/login/card")
    return c.post(
        "/login/card",
        data={"card": serial, "pin": pin, "next": "/my", "csrf_token": csrf(c)},
        follow_redirects=False,
    )


def test_demo_reader_three_wrong_pins_lock_and_the_right_one_is_then_refused(
    client: TestClient, csrf: Callable[[TestClient], str], holder: Holder, web_app: FastAPI
) -> None:
    first = _reader_login(client, csrf, holder.serial, "0000")
    assert first.status_code == 401  # type: ignore[attr-defined]
    assert "あと2回" in first.text  # type: ignore[attr-defined]
    _reader_login(client, csrf, holder.serial, "0000")
    third = _reader_login(client, csrf, holder.serial, "0000")
    assert "ロック" in third.text  # type: ignore[attr-defined]
    fourth = _reader_login(client, csrf, holder.serial, AUTH_PIN)
    assert fourth.status_code == 403  # type: ignore[attr-defined]
    assert "窓口" in fourth.text  # type: ignore[attr-defined]
    assert client.get("/my", follow_redirects=False).status_code == 303
    ctx = web_app.state.ctx
    with ctx.uow() as db:  # staff at the counter reset the PIN: the right PIN works again
        cards.reset_pin(
            db,
            cards.card_context(ctx.settings, ctx.clock, ctx.extras["trust"]),
            DESK,
            holder.serial,
            PinSlot.AUTHENTICATION,
            "7777",
        )
    assert _reader_login(client, csrf, holder.serial, "7777").status_code == 303  # type: ignore[attr-defined]


def test_demo_reader_lists_demo_cards_and_logs_in(
    client: TestClient, csrf: Callable[[TestClient], str]
) -> None:
    page = client.get("/login/card").text
    serials = re.findall(r'name="card" value="([0-9A-Z]+)"', page)
    assert serials, "the demo reader lists the demo cards"
    response = _reader_login(client, csrf, serials[-1], "1234")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    assert "マイページ" in client.get("/my").text


def test_qr_login_opens_the_session_on_the_pc_only(
    new_client: ClientFactory, csrf: Callable[[TestClient], str], holder: Holder
) -> None:
    pc, phone, stranger = new_client(), new_client(), new_client()
    page = pc.get("/login/qr?next=/my/logins").text
    qr_id = re.search(r"/login/qr/([A-Za-z0-9_-]+)/code\.svg", page).group(1)  # type: ignore[union-attr]
    code = re.search(r'class="confirmation">(\d{4})<', page).group(1)  # type: ignore[union-attr]
    svg = pc.get(f"/login/qr/{qr_id}/code.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    waiting = pc.get(f"/login/qr/{qr_id}/status")
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in waiting.text
    phone_page = phone.get(f"/login/qr/{qr_id}/phone")
    assert code in phone_page.text
    done = phone.post(
        f"/login/qr/{qr_id}/phone", data={"card": holder.serial, "pin": AUTH_PIN, "csrf_token": csrf(phone)}
    )
    assert done.status_code == 200
    assert "パソコンの画面に戻って" in done.text
    assert phone.get("/my", follow_redirects=False).status_code == 303  # the phone does not get the session
    assert stranger.get(f"/login/qr/{qr_id}/status").status_code == 401
    opened = pc.get(f"/login/qr/{qr_id}/status", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/my/logins"
    assert "二次元コード" in pc.get("/my/logins").text
    again = pc.get(f"/login/qr/{qr_id}/status", follow_redirects=False)
    assert again.status_code == 401  # consumed


def test_signature_reauthentication_then_a_voluntary_proxy(
    new_client: ClientFactory,
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
    holder: Holder,
    pick_resident: Callable[..., int],
    citizen_session: CitizenLoginFn,
) -> None:
    principal = new_client()
    assert _reader_login(principal, csrf, holder.serial, AUTH_PIN).status_code == 303  # type: ignore[attr-defined]
    response = principal.post(
        "/my/proxies/invite", data={"csrf_token": csrf(principal)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/my/reauth")
    wrong = principal.post(
        "/my/reauth", data={"pin": "WRONG1", "next": "/my/proxies", "csrf_token": csrf(principal)}
    )
    assert wrong.status_code == 401
    assert "あと4回" in wrong.text
    ok = principal.post(
        "/my/reauth",
        data={"pin": SIGN_PIN, "next": "/my/proxies", "csrf_token": csrf(principal)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    invited = principal.post("/my/proxies/invite", data={"csrf_token": csrf(principal)})
    code = re.search(r'class="confirmation">([A-Z0-9]{5}-[A-Z0-9]{5})<', invited.text).group(1)  # type: ignore[union-attr]

    proxy_person = pick_resident()
    proxy = new_client()
    citizen_session(proxy, proxy_person)
    accepted = proxy.post(
        "/my/proxies/accept", data={"code": code, "csrf_token": csrf(proxy)}, follow_redirects=False
    )
    assert accepted.status_code == 303
    page = proxy.get("/my/proxies").text
    grant = re.search(r"/my/proxies/(\d+)/act", page).group(1)  # type: ignore[union-attr]
    assert (
        proxy.post(
            f"/my/proxies/{grant}/act", data={"csrf_token": csrf(proxy)}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "代理人として操作中" in proxy.get("/my").text
    with web_app.state.ctx.uow() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "identity:proxy:act")).all()
    assert any(e.detail.get("on_behalf_of") == f"person:{holder.person_id}" for e in entries)

    # the principal alone revokes; the proxy's acting stops at its next request
    mine = principal.get("/my/proxies").text
    revoke = re.search(r"/my/proxies/(\d+)/revoke", mine).group(1)  # type: ignore[union-attr]
    assert (
        principal.post(
            f"/my/proxies/{revoke}/revoke", data={"csrf_token": csrf(principal)}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "代理人として操作中" not in proxy.get("/my").text
    refused = proxy.post(f"/my/proxies/{revoke}/revoke", data={"csrf_token": csrf(proxy)})
    assert refused.status_code == 404


def test_a_holder_who_moved_out_still_logs_in_until_the_move_in(
    new_client: ClientFactory, web_app: FastAPI, holder: Holder
) -> None:
    """継続利用: a domestic 転出 keeps the card, so its holder can still follow their moving one-stop."""
    from tsunagu import wiring
    from tsunagu.registry import api as registry_api

    ctx = web_app.state.ctx
    reg = registry_api.registry_context(
        ctx.settings, ctx.clock, wiring.registry_listeners(ctx.settings, ctx.clock, ctx.extras["trust"])
    )
    with ctx.uow() as db:
        registry_api.record_event(
            db,
            reg,
            holder.person_id,
            registry_api.EventKind.MOVE_OUT,
            ctx.clock.today(),
            registry_api.Filing("test"),
            to_lg_code="131016",
            whole_household=True,
        )
    client = new_client()
    challenge = client.post("/api/v1/card-login/challenges").json()
    response = client.post(
        "/api/v1/card-login/sessions", json=sign_challenge(web_app, holder.serial, challenge)
    )
    assert response.status_code == 201, response.text
