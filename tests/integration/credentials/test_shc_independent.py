"""Cards tsunagu issues verify with an independent implementation: npm ``jose`` (``compactVerify`` with the
issuer's public JWK) and Node's own raw inflate (``zlib.inflateRawSync``). ``jose`` is a dev dependency in the repo's
``package.json`` (``npm ci`` installs it, as CI does); skipped when node or the package is not there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.credentials.context import CredentialsContext
from tsunagu.credentials.core import fhir, shc
from tsunagu.credentials.services import revocation
from tsunagu.credentials.services import shc_issuance as issuance

ROOT = Path(__file__).resolve().parents[3]
NODE = shutil.which("node")
JOSE = ROOT / "node_modules" / "jose" / "package.json"

if (NODE is None or not JOSE.exists()) and os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
    # CI (which sets TSUNAGU_REQUIRE_E2E=1 and runs npm ci) must run the independent check, never skip it
    raise RuntimeError("node and node_modules/jose are required here: install Node.js and run `npm ci`")
pytestmark = pytest.mark.skipif(
    NODE is None or not JOSE.exists(), reason="node or node_modules/jose is not here"
)

SCRIPT = """
const { compactVerify, importJWK, calculateJwkThumbprint } = require("jose");
const zlib = require("zlib");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", async () => {
  const { jwk, jws } = JSON.parse(input);
  const key = await importJWK(jwk, "ES256");
  const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: ["ES256"] });
  const thumbprint = await calculateJwkThumbprint(jwk, "sha256");
  const inflated = zlib.inflateRawSync(Buffer.from(payload)).toString("utf8");
  process.stdout.write(JSON.stringify({ protectedHeader, thumbprint, inflated }));
});
"""


def _node_verify(jwk: dict[str, object], jws: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed script run by the node found on PATH
        [str(NODE), "-e", SCRIPT],
        input=json.dumps({"jwk": jwk, "jws": jws}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_an_issued_card_verifies_with_npm_jose() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = shc.public_jwk(key.public_key(), crl_version=1)
    person = fhir.Vaccinee(
        "山田", ("花子",), date(1990, 1, 2), (fhir.Dose("207", date(2021, 7, 1), lot="A1"),)
    )
    payload = shc.build_payload(
        iss="https://vc.example.jp/issuer", nbf=1_780_000_000, bundle=fhir.immunization_bundle(person)
    )
    jws = shc.sign(payload, key)
    done = _node_verify(jwk, jws)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["protectedHeader"] == {"alg": "ES256", "zip": "DEF", "kid": jwk["kid"]}
    assert out["thumbprint"] == jwk["kid"]
    assert out["inflated"].encode() == shc.compact_json(payload)
    assert zlib.decompress(shc.b64url_decode(jws.split(".")[1]), wbits=-15) == shc.compact_json(payload)


def test_npm_jose_refuses_a_tampered_card() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = shc.public_jwk(key.public_key())
    header, _, sig = shc.sign(shc.build_payload(iss="https://a.example", nbf=1, bundle={}), key).split(".")
    other = shc.sign(shc.build_payload(iss="https://b.example", nbf=1, bundle={}), key).split(".")[1]
    assert _node_verify(jwk, f"{header}.{other}.{sig}").returncode != 0


def test_a_card_issued_through_the_service_verifies_with_npm_jose_against_the_served_jwks(
    session_factory: sessionmaker[Session], cctx: CredentialsContext, vaccinated: Callable[[int], int]
) -> None:
    """The 'independent implementation' check on a card the platform issues: the registry's facts and the health
    domain's doses, signed with the key derived from the master secret, checked with the JWK the issuer serves."""
    person = vaccinated(2)
    with session_factory.begin() as db:
        card = issuance.issue_card(db, cctx, person, actor="t")
        [jwk] = revocation.jwks(db, cctx)["keys"]
    done = _node_verify(jwk, card.jws)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["protectedHeader"] == {"alg": "ES256", "zip": "DEF", "kid": jwk["kid"]}
    assert out["thumbprint"] == jwk["kid"] == card.kid
    payload = json.loads(out["inflated"])
    assert payload["iss"] == cctx.iss
    assert payload["vc"]["rid"] == card.rid
    entries = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"]
    assert [e["resource"]["resourceType"] for e in entries] == ["Patient", "Immunization", "Immunization"]
    tampered = card.jws[:-2] + ("AA" if not card.jws.endswith("AA") else "BA")
    assert _node_verify(jwk, tampered).returncode != 0
