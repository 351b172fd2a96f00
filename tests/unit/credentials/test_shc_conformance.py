"""The verifier against the SMART Health Cards spec examples and the health-cards-dev-tools negative cases.

Cases not run here, and why:
- ``shlink-*.txt``, ``shl-examples/``: SMART Health Links are not implemented.
- ``test-example-00-fhirhealthcard*.json``: ``$health-cards-issue`` operation responses, not an input we take.
- ``test-example-00-a-fhirBundle-trailing_chars.json``: whitespace after the JSON of the issuer's input file; a
  bundle inside a signed payload cannot carry it (the payload case ``-b-…-trailing_chars`` is run).

Cases accepted on purpose (listed in ``ACCEPTED``): a file with two valid cards (``multi-jws``), the same file under
another extension (the verifier reads content, not names), a 1,194-character JWS that fits one QR, and payloads whose
``vc.type`` omits or adds the optional types (``#immunization``, ``#covid19``, ``#laboratory`` or unknown ones): SMART
Health Cards 1.4 classifies cards by content and Japan's issuer emits only ``#health-card``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tsunagu.credentials.core import shc
from tsunagu.credentials.core.verify import Reason, crl_problems, key_problems, verify, verify_jws
from tsunagu.credentials.core.x5c import x5c_problems

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "smart-health-cards"
SPEC = DATA / "spec-examples"
DEV = DATA / "devtools-testdata"
ISSUER = "https://spec.smarthealth.cards/examples/issuer"
AT = 1630616666 + 60
LATER = 1700000000  # after every dev-tools card's nbf

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="../shared/data/smart-health-cards is not here")


def _trust() -> dict[str, Any]:
    return {ISSUER: json.loads((DATA / "issuer-keys" / "jwks.json").read_text())}


def _example_key() -> Any:
    keys = json.loads((DATA / "issuer-keys" / "issuer.jwks.private.json").read_text())["keys"]
    return shc.private_key_from_jwk(next(k for k in keys if k["kid"].startswith("3Kfdg")))


def _qr_text(pattern: str, folder: Path = SPEC) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.glob(pattern)))


@pytest.mark.parametrize("n", ["00", "01", "02"])
@pytest.mark.parametrize("form", ["jws", "file", "qr", "trusted-issuers"])
def test_spec_examples_verify_and_decode_to_the_minified_payload(n: str, form: str) -> None:
    trust = _trust()
    if form == "jws":
        data: str | bytes = (SPEC / f"example-{n}-d-jws.txt").read_bytes()
    elif form == "file":
        data = (SPEC / f"example-{n}-e-file.smart-health-card").read_bytes()
    elif form == "qr":
        data = _qr_text(f"example-{n}-f-qr-code-numeric-value-*.txt")
    else:
        data = (SPEC / f"example-{n}-d-jws.txt").read_bytes()
        trust = json.loads((SPEC / "trusted.issuers.jwks.json").read_text())
    [result] = verify(data, trust, AT)
    assert result.valid, result.findings
    expected = (SPEC / f"example-{n}-c-jws-payload-minified.json").read_bytes()
    assert shc.compact_json(result.payload) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test-example-00-d-jws-bad-fhir-metadata.txt", Reason.INVALID_FHIR),
        ("test-example-00-d-jws-der-signature-r-neg.txt", Reason.BAD_SIGNATURE),
        ("test-example-00-d-jws-der-signature-rs-neg.txt", Reason.BAD_SIGNATURE),
        ("test-example-00-d-jws-der-signature-s-neg.txt", Reason.BAD_SIGNATURE),
        ("test-example-00-d-jws-der-signature.txt", Reason.BAD_SIGNATURE),
        ("test-example-00-d-jws-invalid-signature.txt", Reason.BAD_SIGNATURE),
        ("test-example-00-d-jws-issuer-kid-mismatch.txt", Reason.UNKNOWN_KEY),
        ("test-example-00-d-jws-issuer-not-valid-with-smart-key.txt", Reason.UNKNOWN_ISSUER),
        ("test-example-00-d-jws-jws_too_long.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-no_deflate.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-no_jws_header_alg.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-no_jws_header_kid.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-no_jws_header_zip.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-trailing_chars.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-utf8_bom_prefix.txt", Reason.MALFORMED),
        ("test-example-00-d-jws-wrong_jws_header_kid.txt", Reason.UNKNOWN_KEY),
        ("test-example-00-e-file-bad_jwks.smart-health-card", Reason.UNKNOWN_ISSUER),
        ("test-example-00-e-file-invalid_deflate.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-invalid_issuer_url.smart-health-card", Reason.UNKNOWN_ISSUER),
        ("test-example-00-e-file-invalid_issuer_url_http.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-jws_too_long.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-multi-jws-issues.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-no_deflate.smart-health-card", Reason.MALFORMED),
        ("test-example-00-e-file-trailing_chars.smart-health-card", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-number-too-big.txt", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-odd-count.txt", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt", Reason.MALFORMED),
        ("test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt", Reason.MALFORMED),
        *(
            (f"test-example-00-f-qr-code-numeric-value-{i}-qr_chunk_too_small.txt", Reason.MALFORMED)
            for i in range(17)
        ),
        ("test-example-02-f-qr-code-numeric-value-0-qr_chunk_too_big.txt", Reason.MALFORMED),
        ("test-example-02-f-qr-code-numeric-value-1-qr_chunk_too_big.txt", Reason.MALFORMED),
    ],
)
def test_devtools_negative_inputs_are_rejected_with_their_reason(name: str, expected: Reason) -> None:
    results = verify((DEV / name).read_bytes(), _trust(), LATER)
    assert not any(r.valid for r in results)
    assert expected in {reason for r in results for reason in r.reasons}


@pytest.mark.parametrize(
    "pattern",
    [
        "test-example-00-f-qr-code-numeric-value-*-qr_chunk_too_small.txt",
        "test-example-02-f-*-qr_chunk_too_big.txt",
    ],
)
def test_a_complete_but_badly_chunked_qr_set_is_malformed(pattern: str) -> None:
    [result] = verify(_qr_text(pattern, DEV), _trust(), LATER)
    assert result.reasons == [Reason.MALFORMED]


ACCEPTED = [
    "test-example-00-e-file-multi-jws.smart-health-card",
    "test-example-00-e-file.wrong-extension",
    "test-example-1195-byte-qrnumeric.txt",
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_devtools_inputs_that_are_fine_by_design(name: str) -> None:
    results = verify((DEV / name).read_bytes(), _trust(), LATER)
    assert results
    assert all(r.valid for r in results), [r.findings for r in results]


def _signed(payload: dict[str, Any]) -> str:
    return shc.sign(payload, _example_key())


@pytest.mark.parametrize(
    ("name", "expected", "at"),
    [
        ("test-example-00-b-jws-payload-expanded-exp_milliseconds.json", Reason.MALFORMED, None),
        ("test-example-00-b-jws-payload-expanded-expired.json", Reason.EXPIRED, None),
        ("test-example-00-b-jws-payload-expanded-pre-expired.json", Reason.EXPIRED, None),
        ("test-example-00-b-jws-payload-expanded-missing-coding.json", Reason.INVALID_FHIR, None),
        ("test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json", Reason.MALFORMED, None),
        ("test-example-00-b-jws-payload-expanded-nbf_milliseconds.json", Reason.MALFORMED, None),
        ("test-example-00-b-jws-payload-expanded-nbf_not_yet_valid.json", Reason.NOT_YET_VALID, LATER),
        ("test-example-00-b-jws-payload-expanded-missing-covid-vc-type.json", None, None),
        ("test-example-00-b-jws-payload-expanded-missing-imm-vc-type.json", None, None),
        ("test-example-00-b-jws-payload-expanded-optional-vc-type.json", None, None),
        ("test-example-00-b-jws-payload-expanded-unknown-vc-types.json", None, None),
        ("test-example-covid-lab-jwspayload-missing-lab-vc-type.json", None, None),
    ],
)
def test_devtools_payloads_signed_with_the_example_key(
    name: str, expected: Reason | None, at: int | None
) -> None:
    payload = json.loads((DEV / name).read_text())
    when = at if at is not None else int(payload["nbf"] if payload["nbf"] < 10**11 else AT) + 60
    result = verify_jws(_signed(payload), _trust(), when)
    if expected is None:
        assert result.valid, result.findings
    else:
        assert not result.valid
        assert expected in result.reasons, result.findings


def test_a_payload_with_trailing_characters_is_malformed() -> None:
    raw = (DEV / "test-example-00-b-jws-payload-expanded-trailing_chars.json").read_bytes()
    assert raw != raw.strip()
    header = shc.b64url_encode(
        b'{"alg":"ES256","zip":"DEF","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"}'
    )
    body = shc.b64url_encode(shc.deflate_raw(raw))
    der = _example_key().sign(f"{header}.{body}".encode(), shc.ec.ECDSA(shc.hashes.SHA256()))
    r, s = shc.decode_dss_signature(der)
    jws = f"{header}.{body}.{shc.b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    assert verify_jws(jws, _trust(), LATER).reasons == [Reason.MALFORMED]


@pytest.mark.parametrize(
    "name",
    [
        "test-example-00-a-fhirBundle-bad_meta_extra_key.json",
        "test-example-00-a-fhirBundle-bad_meta_non_security.json",
        "test-example-00-a-fhirBundle-bad_meta_wrong_security.json",
        "test-example-00-a-fhirBundle-empty-values.json",
        "test-example-00-a-fhirBundle-occurrence-issues.json",
        "test-example-00-a-fhirBundle-profile-usa.json",
        "test-example-00-a-fhirBundle-status-not-completed.json",
        "test-example-00-a-non-dm-properties.json",
        "test-example-00-a-short-refs.json",
    ],
)
def test_devtools_bundles_are_invalid_fhir(name: str) -> None:
    bundle = json.loads((DEV / name).read_text())
    payload = shc.build_payload(iss=ISSUER, nbf=1630616666, bundle=bundle)
    result = verify_jws(_signed(payload), _trust(), AT)
    assert result.reasons == [Reason.INVALID_FHIR], result.findings


@pytest.mark.parametrize(
    "name", ["wrong_alg_key", "wrong_curve_key", "wrong_kid_key", "wrong_kty_key", "wrong_use_key"]
)
def test_devtools_wrong_keys_are_refused(name: str) -> None:
    [key] = json.loads((DEV / f"{name}.json").read_text())["keys"]
    assert key_problems(key)


@pytest.mark.parametrize("name", ["valid_key", "valid_keys", "issuer.jwks.public.not.smart"])
def test_devtools_valid_keys_are_usable(name: str) -> None:
    assert all(not key_problems(k) for k in json.loads((DEV / f"{name}.json").read_text())["keys"])


def test_a_card_signed_by_a_wrong_kid_key_is_unknown_key() -> None:
    jws = (SPEC / "example-00-d-jws.txt").read_text()
    key = dict(_trust()[ISSUER]["keys"][0], use="enc")
    assert verify_jws(jws, {ISSUER: {"keys": [key]}}, AT).reasons == [Reason.UNKNOWN_KEY]


DEVTOOLS_ISSUER = "https://smarthealth.cards/examples/issuer"  # the issuer the dev-tools x5c key files name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("cert_mismatch.public", "another public key"),
        ("invalid_chain.public", "x5c[0] is not signed by x5c[1]"),
        ("invalid_DNS_SAN.public", "no uniformResourceIdentifier"),
        ("invalid_no_SAN.public", "no uniformResourceIdentifier"),
    ],
)
def test_devtools_bad_x5c_chains_are_refused(name: str, problem: str) -> None:
    [key] = json.loads((DEV / f"{name}.json").read_text())["keys"]
    assert not key_problems(key)  # the key itself is a good ES256 key: the chain is what is wrong
    problems = x5c_problems(key, issuer=DEVTOOLS_ISSUER, at=1630616666)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("name", ["valid_2_chain.public", "valid_key_with_x5c"])
def test_devtools_sound_x5c_chains_pass(name: str) -> None:
    for key in json.loads((DEV / f"{name}.json").read_text())["keys"]:
        assert x5c_problems(key, issuer=DEVTOOLS_ISSUER, at=1630616666) == []
        assert x5c_problems(key, issuer="https://other.example/issuer", at=1630616666)


def test_the_spec_key_chain_names_its_issuer_and_expired_after_the_examples_were_signed() -> None:
    key = next(k for k in _trust()[ISSUER]["keys"] if "x5c" in k)
    assert x5c_problems(key, issuer=ISSUER, at=AT) == []
    assert any("not valid at nbf 2023" in p for p in x5c_problems(key, issuer=ISSUER, at=LATER))


def test_a_card_whose_trusted_key_carries_a_mismatched_chain_is_unknown_key() -> None:
    jws = (SPEC / "example-00-d-jws.txt").read_text()
    [bad] = json.loads((DEV / "cert_mismatch.public.json").read_text())["keys"]
    keys = [dict(k, x5c=bad["x5c"]) if "x5c" not in k else k for k in _trust()[ISSUER]["keys"]]
    result = verify_jws(jws, {ISSUER: {"keys": keys}}, AT)
    assert result.reasons == [Reason.UNKNOWN_KEY], result.findings
    assert "another public key" in result.findings[0].detail


BADCRL = DEV / "badcrl"


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("duplicate-rid", "listed more than once"),
        ("invalid-method", "method is 'invalid-method'"),
        ("non-base64url-rid", "is not base64url"),
        ("too-long-rid", "is not base64url of at most 24"),
        ("version-mismatch", "ctr 2 is not the key's crlVersion 1"),
    ],
)
def test_devtools_bad_crls_are_refused_with_invalid_crl(case: str, problem: str) -> None:
    folder = BADCRL / case
    jws = (folder / f"jws-crl-{case}.txt").read_text().strip()
    jwks = json.loads((folder / ".well-known" / "jwks.json").read_text())
    [crl_file] = (folder / ".well-known" / "crl").glob("*.json")
    crl = json.loads(crl_file.read_text())
    iss = (
        f"https://raw.githubusercontent.com/smart-on-fhir/health-cards-dev-tools/main/testdata/badcrl/{case}"
    )
    assert any(problem in p for p in crl_problems(crl, jwks["keys"][0])), crl_problems(crl, jwks["keys"][0])
    result = verify_jws(jws, {iss: jwks}, LATER, {crl["kid"]: crl})
    assert result.reasons == [Reason.INVALID_CRL], result.findings
    assert verify_jws(jws, {iss: jwks}, LATER).valid  # the card itself is sound; only its CRL is not


def test_the_spec_crl_is_sound() -> None:
    crl = json.loads(next((DATA / "issuer-keys").glob("crl-*.json")).read_text())
    key = next(k for k in _trust()[ISSUER]["keys"] if k["kid"] == crl["kid"])
    assert crl_problems(crl, key) == []
