"""The OpenID Connect provider, driven by an independent client: authlib's httpx ``OAuth2Client`` (discovery,
authorization code + PKCE S256, token) and joserfc (ID-token signature and claims against the published JWKS).
The browser part (login, consent) is a TestClient carrying a citizen session, as a finished card login leaves."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tsunagu.audit.models import AuditEntry
from tsunagu.identity.cards import services as cards
from tsunagu.identity.citizen.models import LoginRecord
from tsunagu.identity.oidc import services as oidc
from tsunagu.identity.oidc.models import OidcAuthorizationCode
from tsunagu.registry.models import Person

from .conftest import NOW, CitizenLoginFn, ClientFactory, csrf_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib suggests httpx2; httpx is what the dev dependencies pin
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oidc.discovery import OpenIDProviderMetadata

ISSUER = "http://localhost:8000"  # settings.public_url of the functional tests
ACR_CARD = "urn:tsunagu:acr:jpki-card"
ACR_PASSKEY = "urn:tsunagu:acr:passkey"
DB = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class RP:
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str


_counter = iter(range(1, 10_000))


@pytest.fixture
def make_rp(web_db: DB) -> Callable[..., RP]:
    """Register a relying party directly in the database (the CLI is tested on its own)."""

    def make(
        scopes: str = "openid profile address birthdate gender", sector: str = "bank.example.jp", **kw: Any
    ) -> RP:
        n = next(_counter)
        redirect = f"https://rp{n}.example.jp/callback"
        with web_db() as db:
            made = oidc.register_client(
                db,
                oidc_clock(),
                name=f"テスト連携先 {n}",
                name_en=f"Test RP {n}",
                sector=kw.pop("kind", "private"),
                redirect_uris=[redirect],
                scopes=scopes,
                sector_identifier=sector,
                **kw,
            )
        return RP(made.client_id, made.client_secret or "", redirect, scopes)

    return make


def oidc_clock() -> Any:
    from tsunagu.kernel.clock import fixed_clock

    return fixed_clock(NOW)


@pytest.fixture
def rp_client(web_app: FastAPI) -> Iterator[Callable[..., OAuth2Client]]:
    """authlib's OAuth2Client for a relying party, its HTTP going to the app in process."""
    made: list[OAuth2Client] = []
    transport = TestClient(web_app)._transport

    def make(rp: RP, **kw: Any) -> OAuth2Client:
        c = OAuth2Client(
            rp.client_id,
            rp.client_secret or None,
            scope=kw.pop("scope", rp.scopes),
            redirect_uri=rp.redirect_uri,
            code_challenge_method="S256",
            transport=transport,
            **kw,
        )
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def discover(c: OAuth2Client) -> dict[str, Any]:
    response = c.request("GET", ISSUER + "/.well-known/openid-configuration", withhold_token=True)
    assert response.status_code == 200
    meta: dict[str, Any] = response.json()
    return meta


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@dataclass
class Started:
    url: str
    state: str
    nonce: str
    verifier: str


def start(c: OAuth2Client, meta: dict[str, Any], **extra: str) -> Started:
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = c.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    return Started(url, state, nonce, verifier)


def consent(browser: TestClient, url: str, decision: str = "allow") -> str:
    """Show the consent screen and answer it; return where the browser is sent."""
    page = browser.get(local(url), follow_redirects=False)
    assert page.status_code == 200, page.text
    assert "同意する" in page.text
    answer = browser.post(
        local(url), data={"decision": decision, "csrf_token": csrf_of(browser)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login(
    rp: RP, c: OAuth2Client, browser: TestClient, **extra: str
) -> tuple[dict[str, Any], dict[str, Any], Started]:
    """Discovery, authorize (consent if asked), token; returns (metadata, token, started)."""
    meta = discover(c)
    started = start(c, meta, **extra)
    first = browser.get(local(started.url), follow_redirects=False)
    location = first.headers["location"] if first.status_code == 302 else consent(browser, started.url)
    assert location.startswith(rp.redirect_uri + "?"), location
    token = c.fetch_token(
        meta["token_endpoint"],
        authorization_response=location,
        code_verifier=started.verifier,
        state=started.state,
    )
    return meta, dict(token), started


def verify_id_token(c: OAuth2Client, meta: dict[str, Any], token: dict[str, Any], rp: RP, nonce: str) -> Any:
    keys = KeySet.import_key_set(c.request("GET", meta["jwks_uri"], withhold_token=True).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
    assert decoded.header["kid"] in {k["kid"] for k in keys.as_dict()["keys"]}
    registry = jwt.JWTClaimsRegistry(
        now=int(NOW.timestamp()),
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": rp.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        auth_time={"essential": True},
        acr={"essential": True, "values": [ACR_CARD, ACR_PASSKEY]},
    )
    registry.validate(decoded.claims)
    return decoded.claims


def refusals(web_db: DB) -> list[AuditEntry]:
    with web_db() as db:
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "identity:oidc_request:refuse")
                .order_by(AuditEntry.id.desc())
            )
        )


def suppressed_resident(web_db: DB) -> int:
    with web_db() as db:
        found = db.scalars(
            select(Person.id).where(Person.status == "resident", Person.address_suppressed.is_(True))
        ).first()
    assert found is not None
    return int(found)


# The done-when test --------------------------------------------------------------------------------------


def test_an_independent_client_logs_a_resident_in(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    new_client: ClientFactory,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    browser = new_client()
    # A demo-card login in the browser, as a resident does it: the demo reader, a demo card, its PIN.
    reader = browser.get("/login/card").text
    serial = re.findall(r'name="card" value="([0-9A-Z]+)"', reader)[2]
    answer = browser.post(
        "/login/card",
        data={"card": serial, "pin": "1234", "next": "/my", "csrf_token": csrf_of(browser)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    with web_db() as db:
        person = cards.get_card(db, serial).person_id
    meta, token, started = login(rp, c, browser)
    assert token["token_type"].lower() == "bearer"
    claims = verify_id_token(c, meta, token, rp, started.nonce)
    assert claims["acr"] == ACR_CARD
    assert claims["auth_time"] == int(NOW.timestamp())
    assert "name" not in claims  # the ID token carries the subject only; claims come from userinfo
    info = c.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"]
    with web_db() as db:
        row = db.get(Person, person)
        assert row is not None
        assert info["name"] == f"{row.family_name} {row.given_name}"
        assert info["family_name#ja-Kana-JP"] == row.family_name_kana
        assert info["birthdate"] == row.birth_date.isoformat()
        assert info["gender"] == row.sex
        assert info["address"]["region"] == "神奈川県"
        assert info["address"]["formatted"].endswith(row.block + (f" {row.building}" if row.building else ""))
        logins = db.scalars(select(LoginRecord).where(LoginRecord.person_id == person)).all()
        assert sorted(x.relying_party or "" for x in logins) == [
            "",
            rp.client_id,
        ]  # the card login, then the RP


def test_discovery_and_jwks_follow_the_standard(client: TestClient) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert response.headers["access-control-allow-origin"] == "*"
    meta = response.json()
    checked = OpenIDProviderMetadata(meta)
    for name in dir(OpenIDProviderMetadata):
        # Discovery §3 asks every OP to list RS256; tsunagu signs with ES256 only (P-256, as the JPKI-era
        # guidance prefers) and says so rather than advertise an algorithm it does not use: see the README.
        if name.startswith("validate_") and name != "validate_id_token_signing_alg_values_supported":
            object.__getattribute__(checked, name)()
    assert meta["issuer"] == ISSUER
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert {"client_secret_basic", "client_secret_post"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert ACR_CARD in meta["acr_values_supported"]
    assert "family_name#ja-Kana-JP" in meta["claims_supported"]
    jwks = client.get("/oidc/jwks")
    assert jwks.headers["access-control-allow-origin"] == "*"
    [key] = jwks.json()["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert "d" not in key
    assert key["kid"] == KeySet.import_key_set(jwks.json()).keys[0].thumbprint()


def test_pairwise_sub_differs_between_sectors_and_is_shared_within_one(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
) -> None:
    bank, bank_app, city = (
        make_rp(sector="bank.example.jp"),
        make_rp(sector="bank.example.jp"),
        make_rp(sector="city.example.lg.jp", kind="public"),
    )
    browser = new_client()
    citizen_session(browser, pick_resident())
    subs = []
    for rp in (bank, bank_app, city):
        c = rp_client(rp)
        meta, token, started = login(rp, c, browser)
        subs.append(verify_id_token(c, meta, token, rp, started.nonce)["sub"])
    assert subs[0] == subs[1]
    assert subs[0] != subs[2]


# Refusals ------------------------------------------------------------------------------------------------


def authorize_url(rp: RP, **query: str) -> str:
    base = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    base.update(query)
    from urllib.parse import urlencode

    return "/oidc/authorize?" + urlencode({k: v for k, v in base.items() if v != ""})


@pytest.fixture
def resident_browser(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> TestClient:
    browser = new_client()
    citizen_session(browser, pick_resident())
    return browser


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"code_challenge": "", "code_challenge_method": ""}, "PKCE is required"),
        ({"code_challenge_method": "plain"}, "Only code_challenge_method=S256"),
        ({"code_challenge_method": ""}, "Only code_challenge_method=S256"),
        ({"scope": "profile"}, "must include 'openid'"),
        ({"scope": "openid email"}, "Unknown scope"),
        ({"max_age": "soon"}, "max_age"),
    ],
)
def test_malformed_requests_go_back_to_the_client_with_a_specific_error(
    make_rp: Callable[..., RP], resident_browser: TestClient, web_db: DB, query: dict[str, str], words: str
) -> None:
    rp = make_rp()
    response = resident_browser.get(authorize_url(rp, **query), follow_redirects=False)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri + "?")
    got = params(location)
    assert got["error"] in {"invalid_request", "invalid_scope"}
    assert words in got["error_description"]
    assert got["state"] == "st-1"
    entry = refusals(web_db)[0]
    assert entry.detail["endpoint"] == "authorize"
    assert words in entry.detail["description"]
    assert entry.actor.startswith("person:")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"client_id": "no-such-client"}, "invalid_client"),
        ({"client_id": ""}, "invalid_client"),
    ],
)
def test_a_wrong_redirect_uri_or_unknown_client_shows_an_error_page_and_never_redirects(
    make_rp: Callable[..., RP], resident_browser: TestClient, web_db: DB, query: dict[str, str], error: str
) -> None:
    rp = make_rp()
    response = resident_browser.get(authorize_url(rp, **query), follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "連携サービスからの要求を受け付けられません" in response.text
    assert error in response.text
    assert refusals(web_db)[0].detail["error"] == error


def test_an_unknown_response_type_is_refused(
    make_rp: Callable[..., RP], resident_browser: TestClient
) -> None:
    rp = make_rp()
    response = resident_browser.get(authorize_url(rp, response_type="token"), follow_redirects=False)
    assert params(response.headers["location"])["error"] == "unsupported_response_type"


def _code_for(rp: RP, c: OAuth2Client, browser: TestClient) -> tuple[dict[str, Any], Started, str]:
    meta = discover(c)
    started = start(c, meta)
    location = consent(browser, started.url)
    return meta, started, params(location)["code"]


def _token_call(c: OAuth2Client, meta: dict[str, Any], rp: RP, code: str, verifier: str, **kw: Any) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    auth = kw.pop("auth", (rp.client_id, rp.client_secret))
    return c.request("POST", meta["token_endpoint"], data=data, auth=auth, withhold_token=True)


def test_a_bad_client_secret_is_refused_at_the_token_endpoint(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    meta, started, code = _code_for(rp, c, resident_browser)
    response = _token_call(c, meta, rp, code, started.verifier, auth=(rp.client_id, "wrong-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    entry = refusals(web_db)[0]
    assert entry.detail["endpoint"] == "token"
    assert entry.actor == f"client:{rp.client_id}"


def test_a_replayed_code_is_refused_and_revokes_the_tokens_issued_from_it(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    meta, started, code = _code_for(rp, c, resident_browser)
    first = _token_call(c, meta, rp, code, started.verifier)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert (
        c.request(
            "GET",
            meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access}"},
            withhold_token=True,
        ).status_code
        == 200
    )
    second = _token_call(c, meta, rp, code, started.verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert "already been used" in second.json()["error_description"]
    revoked = c.request(
        "GET", meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}, withhold_token=True
    )
    assert revoked.status_code == 401
    assert "invalid_token" in revoked.headers["www-authenticate"]
    entries = refusals(web_db)
    assert entries[0].detail["endpoint"] == "userinfo"
    assert entries[1].detail["revoked_tokens"] == 1


def test_a_wrong_code_verifier_is_refused(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    meta, _started, code = _code_for(rp, c, resident_browser)
    response = _token_call(c, meta, rp, code, generate_token(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "code_verifier does not match" in response.json()["error_description"]
    assert refusals(web_db)[0].detail["error"] == "invalid_grant"


def test_an_expired_code_is_refused(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    meta, started, code = _code_for(rp, c, resident_browser)
    with web_db() as db:
        db.execute(
            update(OidcAuthorizationCode)
            .where(OidcAuthorizationCode.client_id == rp.client_id)
            .values(expires_at=NOW - dt.timedelta(seconds=1))
        )
    response = _token_call(c, meta, rp, code, started.verifier)
    assert response.status_code == 400
    assert "expired" in response.json()["error_description"]
    assert "expired" in refusals(web_db)[0].detail["description"]


def test_a_public_client_uses_pkce_without_a_secret(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
) -> None:
    rp = make_rp(scopes="openid profile", public_client=True)
    assert rp.client_secret == ""
    c = rp_client(rp, token_endpoint_auth_method="none")
    meta, token, started = login(rp, c, resident_browser)
    verify_id_token(c, meta, token, rp, started.nonce)


# Claims and consent --------------------------------------------------------------------------------------


def test_only_registered_scopes_reach_the_consent_screen_and_the_claims(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
) -> None:
    rp = make_rp(scopes="openid profile")
    c = rp_client(rp, scope="openid profile address birthdate")
    meta = discover(c)
    started = start(c, meta)
    page = resident_browser.get(local(started.url)).text
    assert "氏名" in page
    assert "住所" not in page
    assert "生年月日" not in page
    location = consent(resident_browser, started.url)
    token = c.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=started.verifier
    )
    assert token["scope"] == "openid profile"
    info = c.get(meta["userinfo_endpoint"]).json()
    assert "name" in info
    assert "address" not in info
    assert "birthdate" not in info


def test_a_suppressed_address_is_never_released(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    web_db: DB,
) -> None:
    rp = make_rp(scopes="openid profile address")
    c = rp_client(rp)
    browser = new_client()
    citizen_session(browser, suppressed_resident(web_db))
    meta = discover(c)
    started = start(c, meta)
    page = browser.get(local(started.url)).text
    assert "支援措置の対象のため、このサービスには提供されません" in page
    location = consent(browser, started.url)
    token = c.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=started.verifier
    )
    info = c.get(meta["userinfo_endpoint"]).json()
    assert "name" in info
    assert "address" not in info
    assert (
        "address"
        not in jwt.decode(
            token["id_token"],
            KeySet.import_key_set(c.request("GET", meta["jwks_uri"], withhold_token=True).json()),
        ).claims
    )


def test_consent_is_remembered_listed_and_can_be_withdrawn(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp(scopes="openid profile")
    c = rp_client(rp)
    meta, _token, _started = login(rp, c, resident_browser)  # consent asked and given
    again = start(c, meta)
    direct = resident_browser.get(local(again.url), follow_redirects=False)
    assert direct.status_code == 302  # remembered: no consent screen
    assert params(direct.headers["location"])["state"] == again.state
    listing = resident_browser.get("/my/connections")
    assert listing.status_code == 200
    assert "Test RP" in listing.text or "テスト連携先" in listing.text
    with web_db() as db:
        [connection] = [
            x for x in oidc.connections(db, _person(resident_browser, web_db)) if x.client_id == rp.client_id
        ]
    withdrawn = resident_browser.post(
        f"/my/connections/{connection.consent_id}/withdraw",
        data={"csrf_token": csrf_of(resident_browser)},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert c.get(meta["userinfo_endpoint"]).status_code == 401  # its token stopped working
    third = start(c, meta)
    shown = resident_browser.get(local(third.url), follow_redirects=False)
    assert shown.status_code == 200
    assert "同意する" in shown.text
    with web_db() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
    assert {"identity:oidc_consent:give", "identity:oidc_consent:withdraw"} <= actions


def _person(browser: TestClient, web_db: DB) -> int:
    from tsunagu.identity.citizen.models import CitizenSession
    from tsunagu.kernel.crypto import token_hash

    raw = next(v for k, v in browser.cookies.items() if k.endswith("tsunagu_citizen"))
    with web_db() as db:
        row = db.get(CitizenSession, token_hash(raw))
        assert row is not None
        return row.person_id


def test_refusing_consent_goes_back_with_access_denied(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp(scopes="openid profile")
    c = rp_client(rp)
    started = start(c, discover(c))
    location = consent(resident_browser, started.url, decision="deny")
    got = params(location)
    assert got["error"] == "access_denied"
    assert got["state"] == started.state
    assert refusals(web_db)[0].detail["error"] == "access_denied"


# Login requirements --------------------------------------------------------------------------------------


def test_without_a_session_the_resident_is_sent_to_log_in(
    make_rp: Callable[..., RP], client: TestClient
) -> None:
    response = client.get(authorize_url(make_rp()), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Foidc%2Fauthorize%3F")


def test_a_card_acr_request_sends_a_passkey_session_to_log_in_again(
    make_rp: Callable[..., RP],
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
) -> None:
    rp = make_rp()
    browser = new_client()
    person = pick_resident()
    citizen_session(browser, person, "passkey")
    response = browser.get(authorize_url(rp, acr_values=ACR_CARD), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Foidc%2Fauthorize")
    passkey_ok = browser.get(authorize_url(rp, acr_values=ACR_PASSKEY), follow_redirects=False)
    assert passkey_ok.status_code == 200  # the consent screen
    citizen_session(browser, person, "card")  # a new card login
    assert browser.get(authorize_url(rp, acr_values=ACR_CARD), follow_redirects=False).status_code == 200


def test_prompt_login_asks_for_a_new_login_once(
    make_rp: Callable[..., RP], resident_browser: TestClient
) -> None:
    rp = make_rp()
    response = resident_browser.get(authorize_url(rp, prompt="login"), follow_redirects=False)
    assert response.status_code == 303
    target = parse_qs(urlsplit(response.headers["location"]).query)["next"][0]
    assert "tsunagu_login_after=" in target
    # the card login then returns to ``target`` with a fresh session (the fixed clock: the same second)
    assert resident_browser.get(target, follow_redirects=False).status_code == 200


def test_max_age_and_prompt_none(make_rp: Callable[..., RP], resident_browser: TestClient) -> None:
    rp = make_rp()
    assert resident_browser.get(authorize_url(rp, max_age="0"), follow_redirects=False).status_code == 200
    none = resident_browser.get(authorize_url(rp, prompt="none"), follow_redirects=False)
    assert params(none.headers["location"])["error"] == "consent_required"


def test_the_demo_registers_its_relying_parties(web_db: DB) -> None:
    with web_db() as db:
        ids = {c.client_id for c in oidc.list_clients(db)}
    assert {"tsunagu-bank-demo", "city-portal-demo"} <= ids


def test_my_page_links_to_the_connections_in_both_languages(resident_browser: TestClient) -> None:
    assert "/my/connections" in resident_browser.get("/my").text
    english = resident_browser.get("/my/connections", headers={"Accept-Language": "en"}).text
    assert "Connected services" in english
    assert 'lang="en"' in english


def test_codes_and_tokens_are_purged_a_day_after_they_expire(
    make_rp: Callable[..., RP],
    rp_client: Callable[..., OAuth2Client],
    resident_browser: TestClient,
    web_db: DB,
) -> None:
    rp = make_rp()
    c = rp_client(rp)
    login(rp, c, resident_browser)  # one code, used, and one access token
    with web_db() as db:
        oidc.purge_expired(db, NOW)  # nothing has expired a day ago yet
        assert db.scalars(
            select(OidcAuthorizationCode).where(OidcAuthorizationCode.client_id == rp.client_id)
        ).all()
    with web_db() as db:
        oidc.purge_expired(db, NOW + dt.timedelta(days=2))
    with web_db() as db:
        assert not db.scalars(
            select(OidcAuthorizationCode).where(OidcAuthorizationCode.client_id == rp.client_id)
        ).all()
