"""SMART Health Cards over HTTP: the issuer's JWKS and CRL (public, CORS), the portal's vaccination page behind the
citizen login (issuance by POST with CSRF, the QR image with alt text, the three downloads for the owner only), the
public verifier page (a file, a QR image decoded by zxing, pasted text; a tampered card, an unknown issuer, a file
too large), and revocation showing in the CRL, the JWKS and the verifier."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import NOW, CitizenLoginFn, ClientFactory, LoginFn

from tsunagu.credentials.core import fhir, qr, shc
from tsunagu.credentials.services import revocation
from tsunagu.credentials.services.shc_romaji import hepburn
from tsunagu.health import api as health
from tsunagu.registry import api as registry

PAGE = "/my/vaccinations"
WELL_KNOWN = "/credentials/shc/.well-known"
UoW = Callable[[], AbstractContextManager[Session]]


def _csrf(c: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert match
    return match.group(1)


@pytest.fixture
def vaccinated(web_db: UoW, pick_resident: Callable[..., int]) -> int:
    person = pick_resident()
    with web_db() as db:
        for on in (dt.date(2021, 7, 1), dt.date(2021, 8, 1)):
            entry = health.DoseInput(person, on, "208", "PFR", "FF2153", "142051")
            health.record_dose(db, entry, actor="test:hoken", now=NOW)
    return person


@pytest.fixture
def citizen(new_client: ClientFactory, citizen_session: CitizenLoginFn, vaccinated: int) -> TestClient:
    c = new_client()
    citizen_session(c, vaccinated)
    return c


def _issue(c: TestClient, **form: str) -> str:
    """Issue through the form; the certificate page's path."""
    data = {"variant": "domestic", "csrf_token": _csrf(c, PAGE), **form}
    response = c.post(f"{PAGE}/certificates", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    return str(response.headers["location"])


def _verify(c: TestClient, **kwargs: object) -> str:
    token = _csrf(c, "/verify")
    response = c.post("/verify", data={"csrf_token": token, **kwargs.pop("data", {})}, **kwargs)  # type: ignore[arg-type]
    return response.text


def test_the_jwks_and_the_crl_are_public_with_cors(client: TestClient) -> None:
    response = client.get(f"{WELL_KNOWN}/jwks.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "public" in response.headers["cache-control"]
    [key] = response.json()["keys"]
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"EC", "P-256", "ES256", "sig"}
    assert "d" not in key
    assert key["kid"] == shc.thumbprint(key)
    crl = client.get(f"{WELL_KNOWN}/crl/{key['kid']}.json")
    assert crl.status_code == 200
    assert crl.headers["access-control-allow-origin"] == "*"
    assert crl.json()["kid"] == key["kid"]
    assert crl.json()["method"] == "rid"
    assert client.get(f"{WELL_KNOWN}/crl/someone-else.json").status_code == 404


def test_the_vaccination_page_needs_a_login(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in {303, 401}
    assert "接種記録" not in response.text


def test_a_citizen_gets_a_card_and_its_files_and_nobody_else_can(
    citizen: TestClient,
    vaccinated: int,
    web_db: UoW,
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
) -> None:
    page = citizen.get(PAGE)
    assert page.status_code == 200
    assert "FF2153" in page.text
    assert "2021/07/01" in page.text
    location = _issue(citizen)
    shown = citizen.get(location)
    assert shown.status_code == 200
    alt = re.search(r'<img src="([^"]+)"[^>]* alt="([^"]+)"', shown.text)
    assert alt is not None
    assert "二次元コード" in alt.group(2)
    with web_db() as db:
        count = len(health.doses_of(db, vaccinated))  # the demo may have recorded doses too
    assert count >= 2
    assert f"接種 {count} 回" in alt.group(2)
    assert citizen.get(alt.group(1)).headers["content-type"] == "image/png"
    card = citizen.get(f"{location}/card.smart-health-card")
    assert card.headers["content-type"].startswith("application/smart-health-card")
    [jws] = card.json()["verifiableCredential"]
    png = citizen.get(f"{location}/qr.png")
    assert png.content.startswith(b"\x89PNG")
    assert "attachment" in png.headers["content-disposition"]
    svg = citizen.get(f"{location}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text == qr.svg(jws)
    other = new_client()
    citizen_session(other, pick_resident())
    for path in (location, f"{location}/card.smart-health-card", f"{location}/qr.png", f"{location}/qr.svg"):
        assert other.get(path).status_code == 404


def test_issuing_without_the_csrf_token_is_refused(citizen: TestClient) -> None:
    citizen.get(PAGE)
    response = citizen.post(f"{PAGE}/certificates", data={"variant": "domestic"}, follow_redirects=False)
    assert response.status_code == 403


def test_the_overseas_form_shows_what_is_wrong_and_then_issues(
    citizen: TestClient, vaccinated: int, web_db: UoW
) -> None:
    with web_db() as db:
        kana = registry.basic_facts(db, vaccinated).family_name_kana
    guessed = re.search(r'name="family_romaji" value="([^"]*)"', citizen.get(PAGE).text)
    assert guessed is not None
    assert guessed.group(1) == hepburn(kana) != ""  # pre-filled from the registry's reading
    bad = {
        "variant": "overseas",
        "passport_number": "T12",
        "nationality": "JPN",
        "csrf_token": _csrf(citizen, PAGE),
    }
    response = citizen.post(
        f"{PAGE}/certificates", data={**bad, "family_romaji": "SATO", "given_romaji": "HANAKO"}
    )
    assert response.status_code == 422
    assert "旅券番号は英字2文字と数字7桁です" in response.text
    assert 'aria-invalid="true"' in response.text
    location = _issue(
        citizen,
        variant="overseas",
        passport_number="tr1234567",
        nationality="jpn",
        family_romaji="sato",
        given_romaji="hanako",
    )
    [jws] = citizen.get(f"{location}/card.smart-health-card").json()["verifiableCredential"]
    text = _verify(citizen, data={"text": jws})
    assert "有効 / Valid" in text
    assert "SATO HANAKO" in text
    assert "TR1234567" not in text  # the verifier shows name, birth date, doses and issuer only
    assert "末尾 67" in citizen.get(PAGE).text


def test_the_verifier_reads_a_file_a_qr_image_and_pasted_text(
    citizen: TestClient, client: TestClient
) -> None:
    location = _issue(citizen)
    card = citizen.get(f"{location}/card.smart-health-card").content
    png = citizen.get(f"{location}/qr.png").content
    [jws] = json.loads(card)["verifiableCredential"]
    assert client.get("/verify").status_code == 200
    as_file = _verify(client, files={"file": ("c.smart-health-card", card, "application/smart-health-card")})
    as_image = _verify(client, files={"file": ("qr.png", png, "image/png")})
    as_text = _verify(client, data={"text": shc.to_numeric(jws)})
    for text in (as_file, as_image, as_text):
        assert "有効 / Valid" in text
        assert "FF2153" in text
        assert "2021/07/01" in text
        assert "/credentials/shc" in text


def test_the_verifier_names_what_is_wrong(citizen: TestClient, client: TestClient) -> None:
    location = _issue(citizen)
    [jws] = citizen.get(f"{location}/card.smart-health-card").json()["verifiableCredential"]
    head, _body, sig = jws.split(".")
    other = shc.sign(
        shc.build_payload(iss="https://localhost:8000/credentials/shc", nbf=1, bundle={}),
        ec.generate_private_key(ec.SECP256R1()),
    )
    tampered = f"{head}.{other.split('.')[1]}.{sig}"
    text = _verify(client, data={"text": tampered})
    assert "無効 / Not valid" in text
    assert 'data-reason="bad_signature"' in text
    assert "署名が正しくありません" in text
    assert "The signature is not valid" in text
    key = ec.generate_private_key(ec.SECP256R1())
    person = fhir.Vaccinee("偽", ("太郎",), dt.date(1990, 1, 1), (fhir.Dose("208", dt.date(2021, 7, 1)),))
    stranger = shc.sign(
        shc.build_payload(iss="https://evil.example", nbf=1, bundle=fhir.immunization_bundle(person)), key
    )
    text = _verify(client, data={"text": stranger})
    assert 'data-reason="unknown_issuer"' in text
    assert "偽" not in text
    big = b"{" + b" " * (2 * 1024 * 1024 + 10) + b"}"
    response = client.post(
        "/verify",
        data={"csrf_token": _csrf(client, "/verify")},
        files={"file": ("big.smart-health-card", big, "application/smart-health-card")},
    )
    assert response.status_code == 413
    assert "ファイルが大きすぎます" in response.text


def test_a_revoked_card_shows_in_the_crl_the_jwks_and_the_verifier(
    citizen: TestClient, client: TestClient, web_app: FastAPI, web_db: UoW
) -> None:
    location = _issue(citizen)
    [jws] = citizen.get(f"{location}/card.smart-health-card").json()["verifiableCredential"]
    rid = json.loads(shc.inflate_raw(shc.b64url_decode(jws.split(".")[1])))["vc"]["rid"]
    cctx = web_app.state.ctx.extras["credentials"]
    with web_db() as db:
        version = revocation.revoke(db, cctx, rid, reason="test", actor="test")
    [key] = client.get(f"{WELL_KNOWN}/jwks.json").json()["keys"]
    assert key["crlVersion"] == version
    crl = client.get(f"{WELL_KNOWN}/crl/{key['kid']}.json").json()
    assert crl["ctr"] == version
    assert rid in [r.split(".")[0] for r in crl["rids"]]
    text = _verify(client, data={"text": jws})
    assert 'data-reason="revoked"' in text
    assert "失効" in citizen.get(PAGE).text


def test_a_dose_corrected_on_the_health_staff_page_revokes_the_card(
    citizen: TestClient,
    client: TestClient,
    vaccinated: int,
    web_db: UoW,
    new_client: ClientFactory,
    login: LoginFn,
) -> None:
    """The shell's wiring: the health domain's correction reaches credentials through ``dose_listeners``."""
    location = _issue(citizen)
    [jws] = citizen.get(f"{location}/card.smart-health-card").json()["verifiableCredential"]
    assert 'data-reason="revoked"' not in _verify(client, data={"text": jws})
    with web_db() as db:
        dose_id = health.doses_of(db, vaccinated)[-1].dose_id
    officer = new_client()
    login(officer, "hoken", "demo-hoken-pass")
    path = f"/staff/health/residents/{vaccinated}/doses/{dose_id}"
    form = {
        "csrf_token": _csrf(officer, path),
        "occurrence": "2021-08-02",
        "cvx": "208",
        "manufacturer": "PFR",
        "lot": "FF2153",
        "municipality_code": "142051",
        "reason": "接種日の誤記",
    }
    assert officer.post(path, data=form, follow_redirects=False).status_code == 303
    assert 'data-reason="revoked"' in _verify(client, data={"text": jws})
    assert "失効" in citizen.get(location).text


def test_the_pages_in_english(citizen: TestClient, new_client: ClientFactory) -> None:
    citizen.headers["accept-language"] = "en"
    page = citizen.get(PAGE)
    assert "Vaccinations and certificates" in page.text
    assert "Get a vaccination certificate" in page.text
    location = _issue(citizen)
    assert "QR code of the COVID-19 vaccination certificate" in citizen.get(location).text
    [jws] = citizen.get(f"{location}/card.smart-health-card").json()["verifiableCredential"]
    visitor = new_client(**{"accept-language": "en"})
    assert "Verify a vaccination certificate" in visitor.get("/verify").text
    text = _verify(visitor, data={"text": jws[:-4] + ("AAAA" if not jws.endswith("AAAA") else "BBBB")})
    assert "The signature is not valid" in text
