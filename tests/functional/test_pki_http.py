"""The PKI over HTTP: the public repository (CRLs, CA certificates, the page) and the status service that only
registered verifiers may call, every query and refusal audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity import services as identity
from tsunagu.identity.core.roles import Role
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.clock import JST
from tsunagu.pki.api import CertificateKind, IssuedCertificate, RevocationReason, TrustServices

Db = Callable[[], AbstractContextManager[Session]]
VERIFIER = ("pki-verifier", "verifier-test-pass-1")
AUDITOR = Principal(0, "auditor", "Auditor", frozenset({Permission.AUDIT_LOG_READ}))
UNTIL = dt.datetime(2031, 1, 1, 23, 59, 59, tzinfo=JST)


@pytest.fixture(scope="module")
def verifier(web_app: FastAPI) -> str:
    """A registered verifier (署名検証者): a staff account with the verifier role only."""
    with web_app.state.ctx.uow() as db:
        identity.create_staff(db, VERIFIER[0], "検証 事業者 (test)", VERIFIER[1], [Role.VERIFIER])
    return VERIFIER[0]


@pytest.fixture
def trust(web_app: FastAPI) -> TrustServices:
    service: TrustServices = web_app.state.ctx.extras["trust"]
    return service


@pytest.fixture
def issue(trust: TrustServices, web_db: Db) -> Callable[[], IssuedCertificate]:
    def make() -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        with web_db() as db:
            return trust.issue(db, CertificateKind.AUTHENTICATION, key.public_key(), UNTIL, "card:http")

    return make


def audit_actions(web_db: Db) -> list[str]:
    with web_db() as db:
        return [e.action for e in audit.entries(db, AUDITOR, limit=200)]


@pytest.mark.parametrize("kind", ["signature", "authentication", "agency"])
def test_crls_are_public_der_with_the_pkix_media_type(client: TestClient, kind: str) -> None:
    response = client.get(f"/pki/crl/{kind}.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    assert response.headers["cache-control"] == "public, max-age=300"
    crl = x509.load_der_x509_crl(response.content)
    ca = x509.load_der_x509_certificate(client.get(f"/pki/ca/{kind}.cer").content)
    assert crl.issuer == ca.subject
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]


def test_ca_certificates_are_public_der(client: TestClient) -> None:
    certs = {}
    for name in ("root", "signature", "authentication", "agency"):
        response = client.get(f"/pki/ca/{name}.cer")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pkix-cert"
        certs[name] = x509.load_der_x509_certificate(response.content)
    certs["signature"].verify_directly_issued_by(certs["root"])
    certs["authentication"].verify_directly_issued_by(certs["root"])
    certs["agency"].verify_directly_issued_by(certs["root"])


@pytest.mark.parametrize("path", ["/pki/crl/root.crl", "/pki/ca/other.cer", "/pki/crl/signature.pem"])
def test_unknown_repository_paths_are_not_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code in {404, 422}


def test_a_revoked_certificate_is_listed_in_the_published_crl(
    client: TestClient, trust: TrustServices, web_db: Db, issue: Callable[[], IssuedCertificate]
) -> None:
    issued = issue()
    with web_db() as db:
        trust.revoke(db, issued.serial, RevocationReason.KEY_COMPROMISE)
    crl = x509.load_der_x509_crl(client.get("/pki/crl/authentication.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(issued.serial) is not None


def test_the_repository_page_shows_the_fingerprints(
    client: TestClient, trust: TrustServices, web_db: Db
) -> None:
    page = client.get("/pki")
    assert page.status_code == 200
    with web_db() as db:
        fingerprints = [a.sha256_fingerprint for a in trust.authorities(db)]
    for fingerprint in fingerprints:
        assert fingerprint in page.text
    assert 'href="/pki/crl/signature.crl"' in page.text


def test_a_verifier_asks_the_status_by_decimal_or_hex(
    new_client: Callable[..., TestClient],
    api_token: Callable[[str], dict[str, str]],
    verifier: str,
    trust: TrustServices,
    web_db: Db,
    issue: Callable[[], IssuedCertificate],
) -> None:
    good, revoked = issue(), issue()
    with web_db() as db:
        trust.revoke(db, revoked.serial, RevocationReason.SUPERSEDED)
    c = new_client(**api_token(verifier))
    body = c.post("/api/v1/pki/status", json={"serial": str(good.serial)}).json()
    assert body["state"] == "good"
    assert body["serial"] == str(good.serial)
    assert body["kind"] == "authentication"
    assert body["revoked_at"] is None
    response = c.post("/api/v1/pki/status", json={"serial": f"0x{revoked.serial:x}"})
    assert response.status_code == 200
    answer = response.json()
    assert (answer["state"], answer["reason"]) == ("revoked", "superseded")
    assert answer["serial_hex"] == f"{revoked.serial:x}"
    assert dt.datetime.fromisoformat(answer["revoked_at"]).tzinfo is not None
    colon_pairs = ":".join(f"{b:02x}" for b in revoked.serial.to_bytes(20, "big"))
    assert c.post("/api/v1/pki/status", json={"serial": colon_pairs}).json()["state"] == "revoked"
    assert c.post("/api/v1/pki/status", json={"serial": "12345"}).json()["state"] == "unknown"
    assert audit_actions(web_db)[:4] == ["pki:certificate_status:query"] * 4


def test_a_malformed_serial_is_a_problem_document(
    new_client: Callable[..., TestClient], api_token: Callable[[str], dict[str, str]], verifier: str
) -> None:
    c = new_client(**api_token(verifier))
    response = c.post("/api/v1/pki/status", json={"serial": "zz-top"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-input")
    assert c.post("/api/v1/pki/status", json={"serial": "1", "extra": 1}).status_code == 422


def test_staff_without_the_verifier_role_and_unknown_callers_are_refused_and_audited(
    new_client: Callable[..., TestClient],
    api_token: Callable[[str], dict[str, str]],
    client: TestClient,
    web_db: Db,
) -> None:
    def latest() -> tuple[str, str]:
        with web_db() as db:
            entry = audit.entries(db, AUDITOR, limit=1)[0]
        return entry.actor, entry.action

    clerk = new_client(**api_token("clerk"))
    refused = clerk.post("/api/v1/pki/status", json={"serial": "1"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert latest() == ("clerk", "pki:certificate_status:refuse")

    stranger = new_client(Authorization="Bearer not-a-token")
    assert stranger.post("/api/v1/pki/status", json={"serial": "1"}).status_code == 401
    assert latest() == ("anonymous", "pki:certificate_status:refuse")

    assert client.post("/api/v1/pki/status", json={"serial": "1"}).status_code == 403  # no credentials at all


def test_the_status_service_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/pki/status"]
