"""The citizen's wallet over HTTP: login required, the offers listed, a credential issued to a public JWK and bound
to it (``cnf.jwk``), a private JWK refused on its field (HTML) or as a problem (JSON), the CSRF check, the no-JS
path (a page, then the ``.sd-jwt`` file), a passkey session and a proxy refused, the owner tag that keeps people
apart in a shared browser, the presentation request page, English."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import AS_OF, CitizenLoginFn, ClientFactory

from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import b64u, parse, public_jwk
from tsunagu.credentials.services import presentations
from tsunagu.registry.models import Person
from tsunagu.settings import Settings

PAGE = "/my/wallet"
ISSUE = "/my/wallet/credentials"


def _private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    d = key.private_numbers().private_value.to_bytes(32, "big")
    return public_jwk(key) | {"d": b64u(d)}


def _token(c: TestClient, path: str = PAGE) -> str:
    page = c.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _claims(compact: str) -> dict[str, Any]:
    parts = sdjwt.split(compact)
    payload = parse(parts.issuer_jwt).payload
    named = {sdjwt.decode_disclosure(d).name: sdjwt.decode_disclosure(d).value for d in parts.disclosures}
    return {"payload": payload, "disclosed": named}


def _citizen(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, who: int, method: str = "card"
) -> TestClient:
    c = new_client()
    citizen_session(c, who, method)  # type: ignore[call-arg]
    return c


def test_the_wallet_needs_a_login(client: TestClient) -> None:
    for path in (PAGE, "/my/wallet/present/anything"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login")


def test_the_offers_are_listed_without_inline_script(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident())
    page = c.get(PAGE)
    assert page.status_code == 200
    assert "年齢確認（20歳以上・18歳以上）" in page.text
    assert "ウォレットに追加" in page.text
    assert '<div class="wallet-add-row" hidden><button type="button" class="button wallet-add"' in page.text
    assert "秘密鍵" in page.text
    assert "端末の外に出ることはありません" in page.text
    assert '<script src="/static/wallet.js" defer></script>' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "no inline script under script-src 'self'"
    assert not re.search(r"\son[a-z]+=", page.text), "no inline event handler"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    labels = re.search(r'data-labels="([^"]+)"', page.text)
    assert labels is not None
    assert "20歳以上であること" in labels.group(1).replace("&#34;", '"')
    assert "/my/wallet" in c.get("/my").text
    assert c.get("/static/wallet.js").status_code == 200


def test_a_public_jwk_gets_a_credential_bound_to_it(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident())
    key = ec.generate_private_key(ec.SECP256R1())
    r = c.post(
        ISSUE,
        json={"kind": "age", "holder_jwk": public_jwk(key)},
        headers={"X-CSRF-Token": csrf(c), "Accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "age"
    assert body["vct"] == sdjwt_claims.AGE_VCT
    claims = _claims(body["credential"])
    assert claims["payload"]["cnf"]["jwk"] == public_jwk(key)
    assert claims["payload"]["vct"] == sdjwt_claims.AGE_VCT
    assert {"age_over_18", "age_over_20", "birth_date"} <= set(claims["disclosed"])
    # the holder can present it with the key; another key is not the bound one
    presented = sdjwt.present(
        body["credential"],
        disclose=["age_over_20"],
        holder_key=key,
        aud="https://shop.example",
        nonce="n",
        iat=1,
    )
    assert len(sdjwt.split(presented).disclosures) == 1
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError, match="cnf"):
        sdjwt.present(
            body["credential"], disclose=["age_over_20"], holder_key=other, aud="a", nonce="n", iat=1
        )


def test_a_private_jwk_is_refused(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident())
    private = _private_jwk(ec.generate_private_key(ec.SECP256R1()))
    page = c.post(ISSUE, data={"csrf_token": _token(c), "kind": "age", "holder_jwk": json.dumps(private)})
    assert page.status_code == 422
    assert "秘密鍵が含まれています" in page.text
    assert re.search(r'<textarea id="i-jwk-age"[^>]*aria-invalid="true"', page.text)
    assert 'id="e-jwk-age"' in page.text
    assert 'href="#i-jwk-age"' in page.text
    assert private["d"] not in page.text, "the private key is not written back into the page"
    problem = c.post(
        ISSUE,
        json={"kind": "age", "holder_jwk": private},
        headers={"X-CSRF-Token": csrf(c), "Accept": "application/json"},
    )
    assert problem.status_code == 422
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["type"].endswith("/holder-key-invalid")
    assert problem.json()["field"] == "holder_jwk"
    junk = c.post(ISSUE, data={"csrf_token": _token(c), "kind": "age", "holder_jwk": "not json"})
    assert junk.status_code == 422
    assert "JSON ではありません" in junk.text


def test_unknown_kind_and_csrf(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident())
    jwk = public_jwk(ec.generate_private_key(ec.SECP256R1()))
    no_token = c.post(ISSUE, json={"kind": "age", "holder_jwk": jwk}, headers={"Accept": "application/json"})
    assert no_token.status_code == 403
    assert no_token.json()["type"].endswith("/csrf")
    unknown = c.post(
        ISSUE,
        json={"kind": "passport", "holder_jwk": jwk},
        headers={"X-CSRF-Token": csrf(c), "Accept": "application/json"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "kind"


def test_without_javascript_the_credential_is_a_download(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident())
    key = ec.generate_private_key(ec.SECP256R1())
    token = _token(c)
    page = c.post(ISSUE, data={"csrf_token": token, "kind": "age", "holder_jwk": json.dumps(public_jwk(key))})
    assert page.status_code == 200, page.text[:2000]
    assert "証明書を発行しました" in page.text
    assert "tsunagu credentials wallet add" in page.text
    compact = re.search(r'name="credential" value="([^"]+)"', page.text)
    filename = re.search(r'name="filename" value="([^"]+)"', page.text)
    assert compact
    assert filename
    assert filename.group(1).endswith(".sd-jwt")
    file = c.post(
        f"{ISSUE}/file",
        data={"csrf_token": token, "credential": compact.group(1), "filename": filename.group(1)},
    )
    assert file.status_code == 200
    assert file.headers["content-type"].startswith("application/dc+sd-jwt")
    assert file.headers["content-disposition"] == f'attachment; filename="{filename.group(1)}"'
    assert file.text == compact.group(1)
    assert _claims(file.text)["payload"]["cnf"]["jwk"] == public_jwk(key)
    not_a_credential = c.post(
        f"{ISSUE}/file", data={"csrf_token": token, "credential": "<html>", "filename": "x"}
    )
    assert not_a_credential.status_code == 422
    other_issuer = sdjwt.issue(
        {"age_over_20": True},
        disclosable=["age_over_20"],
        key=ec.generate_private_key(ec.SECP256R1()),
        kid="k",
        iss=_claims(compact.group(1))["payload"]["iss"],
        vct=sdjwt_claims.AGE_VCT,
        iat=1,
    )
    forged = c.post(f"{ISSUE}/file", data={"csrf_token": token, "credential": other_issuer, "filename": "x"})
    assert forged.status_code == 422, "a token signed by another key is not echoed"


def test_a_passkey_session_cannot_add(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    csrf: Callable[[TestClient], str],
) -> None:
    c = _citizen(new_client, citizen_session, pick_resident(), method="passkey")
    page = c.get(PAGE)
    assert "マイナンバーカードでログインし直す" in page.text
    assert "wallet-add" not in page.text
    assert 'name="holder_jwk"' not in page.text
    r = c.post(
        ISSUE,
        json={"kind": "age", "holder_jwk": public_jwk(ec.generate_private_key(ec.SECP256R1()))},
        headers={"X-CSRF-Token": csrf(c), "Accept": "application/json"},
    )
    assert r.status_code == 403
    assert "マイナンバーカード" in r.json()["detail"] or "My Number card" in r.json()["detail"]


def test_the_presentation_request_page(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
    web_db: Callable[[], AbstractContextManager[Session]],
    web_settings: Settings,
) -> None:
    with web_db() as db:
        asked = presentations.create_request(
            db, web_settings.public_url, claims=[["age_over_20"]], now=dt.datetime.now(dt.UTC)
        )
    c = _citizen(new_client, citizen_session, pick_resident())
    page = c.get(f"/my/wallet/present/{asked.id}")
    assert page.status_code == 200
    main = page.text.split('id="main"')[1]
    asked_list = re.search(r'<ul id="present-asked">(.*?)</ul>', main)
    assert asked_list is not None
    assert asked_list.group(1) == "<li>20歳以上であること</li>"
    assert asked.aud in main
    assert f"wallet present --dir ~/.tsunagu-wallet --request {web_settings.public_url}" in main
    data = re.search(r'data-request="([^"]+)"', main)
    assert data is not None
    request_json = json.loads(html.unescape(data.group(1)))
    assert request_json["nonce"] == asked.nonce
    assert request_json["response_uri"] == asked.response_uri
    assert request_json["claims"] == [["age_over_20"]]
    assert c.get("/my/wallet/present/no-such-request").status_code == 404


def _parent_and_minor(web_db: Callable[[], AbstractContextManager[Session]]) -> tuple[int, int]:
    adult_before = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    with web_db() as db:
        rows = db.execute(
            select(Person.id, Person.household_id, Person.relationship, Person.birth_date)
            .where(Person.status == "resident", Person.address_suppressed.is_(False))
            .order_by(Person.household_id, Person.id)
        ).all()
    heads = {hh: pid for pid, hh, rel, _b in rows if rel == "head"}
    for pid, hh, rel, born in rows:
        if rel == "child" and born > adult_before and hh in heads:
            return heads[hh], pid
    pytest.fail("the demo has no household with a minor child")


def test_a_proxy_cannot_add_the_persons_credential(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    web_db: Callable[[], AbstractContextManager[Session]],
) -> None:
    parent, child = _parent_and_minor(web_db)
    c = new_client()
    citizen_session(c, parent)
    c.post("/my/proxies/children", data={"child": str(child), "csrf_token": csrf(c)}, follow_redirects=False)
    grant = re.search(r"/my/proxies/(\d+)/act", c.get("/my/proxies").text)
    assert grant is not None
    c.post(f"/my/proxies/{grant.group(1)}/act", data={"csrf_token": csrf(c)})
    page = c.get(PAGE)
    assert "代理人はご本人の証明書をウォレットに追加できません" in page.text
    assert "wallet-add" not in page.text
    r = c.post(
        ISSUE,
        json={"kind": "age", "holder_jwk": public_jwk(ec.generate_private_key(ec.SECP256R1()))},
        headers={"X-CSRF-Token": csrf(c), "Accept": "application/json"},
    )
    assert r.status_code == 403
    assert "代理人" in r.json()["detail"]


def test_each_person_has_a_stable_pseudonymous_owner_tag(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    first, second = pick_resident(), pick_resident()
    tags = []
    for who in (first, first, second):
        page = _citizen(new_client, citizen_session, who).get(PAGE)
        tag = re.search(r'data-owner="([0-9a-f]{32})"', page.text)
        assert tag is not None
        tags.append(tag.group(1))
    assert tags[0] == tags[1]
    assert tags[0] != tags[2]


def test_english(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int]
) -> None:
    c = new_client(**{"Accept-Language": "en"})
    citizen_session(c, pick_resident())
    page = c.get(PAGE)
    assert "Wallet (digital credentials)" in page.text
    assert "Age (over 20, over 18)" in page.text
    assert "Aged 20 or over" in html.unescape(page.text)
    assert "never leaves it" in page.text
