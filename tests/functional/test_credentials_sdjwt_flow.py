"""The SD-JWT VC verifier over HTTP with the command-line wallet's functions: a request for "20歳以上" answered with
only ``age_over_20`` is valid and the verifier holds that one claim and nothing else; a presentation missing the
asked claim, a tampered one, one with the wrong nonce and a replay are refused. Also the issuer's public documents
and the verifier page without JavaScript."""

from __future__ import annotations

import html
import json
import stat
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import AS_OF, NOW
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.credentials import wallet
from tsunagu.credentials.core import sdjwt
from tsunagu.credentials.core.sdjwt import make_disclosure
from tsunagu.credentials.core.sdjwt_claims import AGE_VCT
from tsunagu.credentials.core.sdjwt_jws import parse
from tsunagu.credentials.core.statuslist import decode_token
from tsunagu.credentials.services import sdjwt_issuance as issuance
from tsunagu.credentials.services.sdjwt_keys import issuer_key
from tsunagu.registry import api as registry

NOW_TS = int(NOW.timestamp())
UNDISCLOSED = ("birth_date", "family_name", "given_name", "age_over_18")


@pytest.fixture
def adult(pick_resident: Callable[..., int], web_db: Callable[[], AbstractContextManager[Session]]) -> int:
    for _ in range(50):
        person = pick_resident()
        with web_db() as db:
            if registry.basic_facts(db, person).age_on(AS_OF) >= 20:
                return person
    pytest.fail("no adult resident")


@pytest.fixture
def holder_wallet(
    tmp_path: Path, adult: int, web_app: FastAPI, web_db: Callable[[], AbstractContextManager[Session]]
) -> Path:
    """A wallet folder holding an age credential of an adult, issued by the app's own issuer."""
    jwk = wallet.init(tmp_path / "wallet")
    with web_db() as db:
        issued = issuance.issue_for(db, web_app.state.ctx, adult, "age", jwk, now=NOW)
    wallet.add(tmp_path / "wallet", issued.compact)
    return tmp_path / "wallet"


def _link(request: dict[str, Any]) -> str:
    """The wallet link of a request, on the platform's public URL (the site the wallet answers to)."""
    return request["response_uri"].split("/api/v1/", 1)[0] + f"/my/wallet/present/{request['id']}"


def _ask(client: TestClient, claims: list[list[str]] | None = None, vct: str = AGE_VCT) -> dict[str, Any]:
    response = client.post(
        "/api/v1/presentations/requests", json={"claims": claims or [["age_over_20"]], "vct": vct}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_age_over_20_discloses_that_and_nothing_else(client: TestClient, holder_wallet: Path) -> None:
    request = _ask(client)
    assert request["response_uri"].endswith(f"/api/v1/presentations/{request['id']}")
    token = wallet.make_presentation(holder_wallet, request, now=NOW_TS)
    parts = sdjwt.split(token)
    assert len(parts.disclosures) == 1  # one disclosure left the wallet
    assert parts.key_binding
    for encoded in parts.disclosures:
        assert sdjwt.decode_disclosure(encoded).name == "age_over_20"
    answer = wallet.present(holder_wallet, _link(request), client, now=NOW_TS)
    assert answer["status"] == "valid", answer
    assert answer["disclosed"] == {"age_over_20": True}
    stored = client.get(f"/api/v1/presentations/{request['id']}").json()
    assert stored["disclosed"] == {"age_over_20": True}
    page = client.get(f"/verify/presentation/{request['id']}", headers={"Accept-Language": "ja"})
    text = html.unescape(page.text)
    assert "20歳以上" in text
    assert "はい" in text
    assert "有効です" in text
    english = html.unescape(
        client.get(f"/verify/presentation/{request['id']}", headers={"Accept-Language": "en"}).text
    )
    assert "Aged 20 or over" in english
    assert "Yes" in english
    assert "Nothing else was received" in english
    for name in UNDISCLOSED:
        assert name not in json.dumps(stored)
    request_doc = client.get(f"/api/v1/presentations/requests/{request['id']}").json()
    assert request_doc["state"] == "valid"


def test_a_presentation_without_the_asked_claim_is_invalid(client: TestClient, holder_wallet: Path) -> None:
    request = _ask(client)
    answer = wallet.present(
        holder_wallet,
        _link(request),
        client,
        disclose=["age_over_18"],
        now=NOW_TS,
    )
    assert (answer["status"], answer["reason"], answer["disclosed"]) == (
        "invalid",
        "required_claim_missing",
        {},
    )
    assert answer["message_ja"]
    assert answer["message_en"] == "A requested claim was not disclosed."


def test_a_tampered_presentation_is_invalid(client: TestClient, holder_wallet: Path) -> None:
    request = _ask(client)
    token = wallet.make_presentation(holder_wallet, request, now=NOW_TS)
    parts = sdjwt.split(token)
    forged = make_disclosure("age_over_20", True).encoded  # a claim the issuer never signed
    tampered = "~".join([parts.issuer_jwt, forged, parts.key_binding])
    answer = client.post(request["response_uri"], data={"vp_token": tampered}).json()
    assert answer["status"] == "invalid"
    assert answer["reason"] in {"disclosure_not_in_payload", "sd_hash_mismatch"}
    assert answer["disclosed"] == {}


def test_a_wrong_nonce_is_invalid_and_a_replay_is_refused(client: TestClient, holder_wallet: Path) -> None:
    request = _ask(client)
    wrong = wallet.make_presentation(holder_wallet, {**request, "nonce": "not-the-nonce"}, now=NOW_TS)
    answer = client.post(request["response_uri"], json={"vp_token": wrong}).json()
    assert (answer["status"], answer["reason"]) == ("invalid", "wrong_nonce")
    fresh = _ask(client)
    good = wallet.make_presentation(holder_wallet, fresh, now=NOW_TS)
    assert client.post(fresh["response_uri"], data={"vp_token": good}).json()["status"] == "valid"
    replay = client.post(fresh["response_uri"], data={"vp_token": good})
    assert replay.status_code == 409
    assert replay.headers["content-type"].startswith("application/problem+json")


def test_a_revoked_credential_shows_in_the_status_list_and_is_refused(
    client: TestClient, tmp_path: Path, adult: int, web_app: FastAPI,
    web_db: Callable[[], AbstractContextManager[Session]],
) -> None:  # fmt: skip
    jwk = wallet.init(tmp_path / "w")
    with web_db() as db:
        issued = issuance.issue_for(db, web_app.state.ctx, adult, "age", jwk, now=NOW)
    wallet.add(tmp_path / "w", issued.compact)
    with web_db() as db:
        issuance.revoke(db, issued.credential_id, reason="holder_request", by="test", now=NOW)

    payload = parse(sdjwt.split(issued.compact).issuer_jwt).payload
    reference = payload["status"]["status_list"]
    list_path = reference["uri"].split("/credentials/vc", 1)[1]
    response = client.get("/credentials/vc" + list_path)
    assert response.headers["content-type"].startswith("application/statuslist+jwt")
    assert response.headers["access-control-allow-origin"] == "*"
    key = issuer_key(web_app.state.ctx.settings)
    decoded = decode_token(response.text, keys={key.kid: key.jwk}, now=NOW_TS, uri=reference["uri"])
    assert decoded.status_list.get(reference["idx"]) == 1
    request = _ask(client)
    answer = wallet.present(tmp_path / "w", json.dumps(request), client, now=NOW_TS)
    assert (answer["status"], answer["reason"]) == ("invalid", "revoked")


def test_the_issuer_metadata_is_public(client: TestClient, web_app: FastAPI) -> None:
    response = client.get("/.well-known/jwt-vc-issuer/credentials/vc")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    doc = response.json()
    settings = web_app.state.ctx.settings
    assert doc["issuer"] == settings.public_url + "/credentials/vc"
    assert doc["jwks"]["keys"][0]["kid"] == issuer_key(settings).kid
    assert "d" not in doc["jwks"]["keys"][0]
    assert client.get("/credentials/vc/types/age").json()["vct"] == AGE_VCT


def test_the_verifier_page_works_without_javascript(
    client: TestClient, csrf: Callable[[TestClient], str]
) -> None:
    page = client.get("/verify/presentation", headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    assert "20歳以上" in page.text
    created = client.post(
        "/verify/presentation",
        data={"ask": "age_over_20", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    shown = client.get(created.headers["location"], headers={"Accept-Language": "ja"})
    request_id = created.headers["location"].rsplit("/", 1)[1]
    assert f"/my/wallet/present/{request_id}" in shown.text
    assert 'src="data:image/svg+xml;base64,' in shown.text
    assert "結果を確認" in shown.text
    assert "確認待ち" in shown.text
    assert (
        client.post("/verify/presentation", data={"ask": "nothing", "csrf_token": csrf(client)}).status_code
        == 422
    )


def test_the_cli_wallet_keeps_its_key_private(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "cli-wallet"
    result = runner.invoke(build(), ["credentials", "wallet", "init", "--dir", str(folder), "--json"])
    assert result.exit_code == 0, result.stdout
    jwk = json.loads(result.stdout)["jwk"]
    assert set(jwk) == {"kty", "crv", "x", "y"}
    assert stat.S_IMODE((folder / "key.json").stat().st_mode) == 0o600
    again = runner.invoke(build(), ["credentials", "wallet", "init", "--dir", str(folder)])
    assert again.exit_code == 2
    listed = runner.invoke(build(), ["credentials", "wallet", "list", "--dir", str(folder), "--json"])
    assert json.loads(listed.stdout)["credentials"] == []
