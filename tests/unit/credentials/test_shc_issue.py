"""Issuing SMART Health Cards: bundle minimisation, signing (checked independently with joserfc), rid and CRL
revocation, the numeric QR text and QR images."""

from __future__ import annotations

import io
import json
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jws as jose_jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter

from tsunagu.credentials.core import fhir, qr, qrimage, shc
from tsunagu.credentials.core.verify import Reason, verify, verify_jws

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "smart-health-cards"
ISS = "https://vc.example.jp/issuer"
NBF = 1_780_000_000
KEY = ec.generate_private_key(ec.SECP256R1())
JWK = shc.public_jwk(KEY.public_key(), crl_version=1)
TRUST = {ISS: {"keys": [JWK]}}
# joserfc knows no "zip" header for JWS (SHC puts it there); declare it so the check stays strict otherwise
SHC_JOSE = jose_jws.JWSRegistry(
    header_registry={"zip": HeaderParameter("Compression", "str")}, algorithms=["ES256"]
)


def _person(doses: int = 2, *, overseas: bool = False) -> fhir.Vaccinee:
    return fhir.Vaccinee(
        family="山田",
        given=("太郎",),
        birth_date=date(1980, 4, 1),
        doses=tuple(
            fhir.Dose(
                "208",
                date(2021, 6, 1) + timedelta(days=21 * i),
                lot=f"FF{i:04d}",
                manufacturer="Pfizer",
                performer="藤沢市",
            )
            for i in range(doses)
        ),
        passport=fhir.Passport("TK1234567", "JPN") if overseas else None,
    )


def _card(person: fhir.Vaccinee | None = None, **kwargs: Any) -> str:
    bundle = fhir.immunization_bundle(person or _person())
    return shc.sign(shc.build_payload(iss=ISS, nbf=NBF, bundle=bundle, **kwargs), KEY)


def _payload_of(jws: str) -> bytes:
    return zlib.decompress(shc.b64url_decode(jws.split(".")[1]), wbits=-15)


@pytest.mark.parametrize("overseas", [False, True])
def test_an_issued_card_verifies_and_its_bundle_is_minimised(overseas: bool) -> None:
    jws = _card(_person(overseas=overseas))
    [result] = verify(jws, TRUST, NBF + 1)
    assert result.valid, result.findings
    assert result.header == {"alg": "ES256", "zip": "DEF", "kid": JWK["kid"]}
    assert _payload_of(jws) == shc.compact_json(result.payload)
    bundle = result.payload["vc"]["credentialSubject"]["fhirBundle"] if result.payload else {}
    assert [e["fullUrl"] for e in bundle["entry"]] == ["resource:0", "resource:1", "resource:2"]
    text = json.dumps(bundle)
    assert '"id"' not in text
    assert '"meta"' not in text
    assert '"text"' not in text
    patient = bundle["entry"][0]["resource"]
    assert ("identifier" in patient) is overseas
    assert ("extension" in patient) is overseas


def test_the_signature_verifies_with_joserfc() -> None:
    jws = _card()
    key = ECKey.import_key(dict(JWK))
    obj = jose_jws.deserialize_compact(jws, key, registry=SHC_JOSE)
    assert zlib.decompress(obj.payload, wbits=-15) == _payload_of(jws)
    assert obj.headers()["kid"] == key.thumbprint() == JWK["kid"]


def test_the_kid_is_the_rfc7638_thumbprint_of_the_example_key() -> None:
    if not DATA.exists():
        pytest.skip("../shared/data/smart-health-cards is not here")
    keys = json.loads((DATA / "issuer-keys" / "issuer.jwks.private.json").read_text())["keys"]
    jwk = next(k for k in keys if k["kid"].startswith("3Kfdg"))
    private = shc.private_key_from_jwk(jwk)
    assert shc.public_jwk(private.public_key())["kid"] == jwk["kid"]
    payload = shc.build_payload(iss=ISS, nbf=NBF, bundle=fhir.immunization_bundle(_person()))
    jws = shc.sign(payload, private)
    trust = {ISS: json.loads((DATA / "issuer-keys" / "jwks.json").read_text())}
    assert verify_jws(jws, trust, NBF).valid
    obj = jose_jws.deserialize_compact(jws, ECKey.import_key(jwk), registry=SHC_JOSE)
    assert zlib.decompress(obj.payload, wbits=-15) == shc.compact_json(payload)


def test_a_tampered_card_is_not_valid() -> None:
    header, body, sig = _card().split(".")
    other = _card(_person(doses=1)).split(".")[1]
    assert verify_jws(f"{header}.{other}.{sig}", TRUST, NBF).reasons == [Reason.BAD_SIGNATURE]
    assert verify_jws(f"{header}.{body}.{sig}", {}, NBF).reasons == [Reason.UNKNOWN_ISSUER]


def test_nbf_and_exp_are_whole_seconds_and_enforced() -> None:
    jws = _card(exp=NBF + 100)
    assert verify_jws(jws, TRUST, NBF - 1).reasons == [Reason.NOT_YET_VALID]
    assert verify_jws(jws, TRUST, NBF + 99).valid
    assert verify_jws(jws, TRUST, NBF + 100).reasons == [Reason.EXPIRED]
    with pytest.raises(ValueError, match="trailing slash"):
        shc.build_payload(iss=ISS + "/", nbf=NBF, bundle={})


def test_a_revoked_card_is_reported_revoked_and_timestamps_are_honoured() -> None:
    rid = shc.derive_rid(b"secret", JWK["kid"], "person-1")
    assert len(rid) == 11
    assert rid == shc.derive_rid(b"secret", JWK["kid"], "person-1")
    assert rid != shc.derive_rid(b"secret", JWK["kid"], "person-2")
    jws = _card(rid=rid)
    kid = JWK["kid"]
    assert verify_jws(jws, TRUST, NBF, {kid: shc.crl_document(kid, 1, [rid])}).reasons == [Reason.REVOKED]
    trust_v2 = {ISS: {"keys": [shc.public_jwk(KEY.public_key(), crl_version=2)]}}
    later = {kid: shc.crl_document(kid, 2, [f"{rid}.{NBF + 10}"])}
    earlier = {kid: shc.crl_document(kid, 2, [f"{rid}.{NBF - 10}"])}
    assert verify_jws(jws, trust_v2, NBF, later).reasons == [Reason.REVOKED]
    assert verify_jws(jws, trust_v2, NBF, earlier).valid
    assert verify_jws(jws, TRUST, NBF, {kid: shc.crl_document(kid, 1, ["other"])}).valid
    # a CRL older or newer than the key's crlVersion cannot be relied on either way
    assert verify_jws(jws, TRUST, NBF, later).reasons == [Reason.INVALID_CRL]


def test_the_file_holds_the_jws() -> None:
    jws = _card()
    body = shc.file_body([jws])
    assert json.loads(body) == {"verifiableCredential": [jws]}
    assert verify(body, TRUST, NBF)[0].valid


def test_the_numeric_text_round_trips_and_refuses_a_card_too_large_for_one_qr() -> None:
    jws = _card()
    text = shc.to_numeric(jws)
    assert text.startswith("shc:/")
    assert text[5:7] == f"{ord(jws[0]) - 45:02d}"
    assert shc.from_numeric([text]) == jws
    big = _card(_person(doses=30))
    assert len(big) > shc.MAX_SINGLE_QR_JWS
    with pytest.raises(shc.QrTooLarge) as refused:
        shc.to_numeric(big)
    assert "QRコード" in refused.value.ja
    assert "too large for one QR code" in refused.value.en


@given(st.text(alphabet="ABCXYZabcxyz0123456789-_.", max_size=shc.MAX_SINGLE_QR_JWS))
def test_numeric_encoding_round_trips(jws: str) -> None:
    assert shc.from_numeric([shc.to_numeric(jws)]) == jws


@pytest.mark.parametrize("bad", ["shc:/123", "shc:/78", "shc:/1/1/00", "shc:/3/2/00", "shc:/00 ", "SHC:/x"])
def test_bad_numeric_text_is_refused(bad: str) -> None:
    with pytest.raises(shc.QrFormatError):
        shc.from_numeric([bad])


def test_the_qr_png_and_svg_carry_the_numeric_text() -> None:
    jws = _card()
    code = qr.make(jws)
    assert code.error == "L"
    assert code.mask == qr.FIXED_MASK
    assert int(code.version) <= qr.MAX_VERSION
    assert qrimage.read_shc_text(qr.png(jws)) == shc.to_numeric(jws)
    assert qr.svg(jws).startswith("<svg")


@pytest.mark.parametrize("name", ["example-00-g-qr-code-0.png", "example-01-g-qr-code-0.png"])
def test_the_spec_qr_images_decode(name: str) -> None:
    spec = DATA / "spec-examples"
    if not spec.exists():
        pytest.skip("../shared/data/smart-health-cards is not here")
    expected = (
        spec / name.replace("g-qr-code", "f-qr-code-numeric-value").replace(".png", ".txt")
    ).read_text()
    assert qrimage.read_shc_text((spec / name).read_bytes()) == expected


def test_an_image_without_a_qr_code_is_refused() -> None:
    with pytest.raises(qrimage.NotAQrImage):
        qrimage.read_shc_text(b"not an image")
    blank = io.BytesIO()
    qr.make(_card()).save(blank, kind="png", scale=1)
    with pytest.raises(qrimage.NotAQrImage):
        qrimage.read_shc_text(blank.getvalue()[:60])
