"""``tsunagu credentials verify``: exit 0 only for a valid SMART Health Card; the reasons in Japanese and English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.credentials.core import shc

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "smart-health-cards"
SPEC = DATA / "spec-examples"
TRUST = SPEC / "trusted.issuers.jwks.json"
AT = str(1630616666 + 60)
ISSUER = "https://spec.smarthealth.cards/examples/issuer"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="../shared/data/smart-health-cards is not here")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build(), ["credentials", "verify", *args])
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "example-00-e-file.smart-health-card",
        "example-01-d-jws.txt",
        "example-00-f-qr-code-numeric-value-0.txt",
        "example-01-g-qr-code-0.png",
    ],
)
def test_the_spec_examples_are_valid(name: str) -> None:
    code, out = _run(str(SPEC / name), "--trust", str(TRUST), "--at", AT, "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["ok"] is True
    assert body["cards"][0]["payload"]["iss"] == "https://spec.smarthealth.cards/examples/issuer"


def test_a_bare_jwks_needs_its_issuer() -> None:
    jwks = DATA / "issuer-keys" / "jwks.json"
    card = str(SPEC / "example-00-d-jws.txt")
    assert _run(card, "--trust", str(jwks), "--at", AT)[0] == 2
    code, _ = _run(
        card, "--trust", str(jwks), "--issuer", "https://spec.smarthealth.cards/examples/issuer", "--at", AT
    )
    assert code == 0


def test_a_bad_signature_fails_with_its_reason_in_both_languages() -> None:
    bad = DATA / "devtools-testdata" / "test-example-00-d-jws-invalid-signature.txt"
    code, out = _run(str(bad), "--trust", str(TRUST), "--at", "1700000000")
    assert code == 1
    assert "bad_signature" in out
    assert "署名が正しくありません" in out
    assert "The signature is not valid" in out


def test_without_a_trust_list_the_issuer_is_unknown_and_too_early_is_not_yet_valid() -> None:
    code, out = _run(str(SPEC / "example-00-d-jws.txt"), "--at", "1000000000", "--json")
    assert code == 1
    assert json.loads(out)["cards"][0]["reasons"] == ["unknown_issuer", "not_yet_valid"]


def test_a_revoked_card_is_reported_with_the_crl(tmp_path: Path) -> None:
    keys = json.loads((DATA / "issuer-keys" / "issuer.jwks.private.json").read_text())["keys"]
    jwk = next(k for k in keys if k["kid"].startswith("3Kfdg"))
    bundle = json.loads((SPEC / "example-00-a-fhirBundle.json").read_text())
    rid = shc.derive_rid(b"secret", jwk["kid"], "person-1")
    payload = shc.build_payload(iss=ISSUER, nbf=1630616666, bundle=bundle, rid=rid)
    card = tmp_path / "card.smart-health-card"
    card.write_bytes(shc.file_body([shc.sign(payload, shc.private_key_from_jwk(jwk))]))
    assert _run(str(card), "--trust", str(TRUST), "--at", AT)[0] == 0
    crl = tmp_path / "crl.json"
    crl.write_text(json.dumps(shc.crl_document(jwk["kid"], 1, [rid])))
    code, out = _run(str(card), "--trust", str(TRUST), "--crl", str(crl), "--at", AT, "--json")
    assert code == 1
    assert json.loads(out)["cards"][0]["reasons"] == ["revoked"]


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert _run(str(tmp_path / "nope.txt"))[0] == 2


def test_an_image_without_a_card_is_malformed(tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, out = _run(str(image), "--json")
    assert code == 1
    assert json.loads(out)["cards"][0]["reasons"] == ["malformed"]
