"""The verifier page's service with another issuer in the trust folder: its cards are valid, its CRL file revokes,
an issuer outside the list is unknown; what is shown of a valid card is the name, birth date, doses and issuer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.credentials.context import credentials_context
from tsunagu.credentials.core import fhir, qr, shc
from tsunagu.credentials.services import shc_verification as verification
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings

OTHER = "https://other-city.example.jp/credentials/shc"
PERSON = fhir.Vaccinee(
    "佐藤",
    ("花子",),
    dt.date(1985, 5, 5),
    (fhir.Dose("207", dt.date(2021, 8, 1), lot="3004217", performer="大阪府大阪市"),),
)


def _card(key: ec.EllipticCurvePrivateKey, iss: str, rid: str) -> str:
    payload = shc.build_payload(iss=iss, nbf=1_700_000_000, bundle=fhir.immunization_bundle(PERSON), rid=rid)
    return shc.sign(payload, key)


def test_another_issuer_from_the_trust_folder(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = shc.public_jwk(key.public_key(), crl_version=1)
    trust_dir = tmp_path / "trust"
    (trust_dir / "crl").mkdir(parents=True)
    (trust_dir / "other.json").write_text(json.dumps({"iss": OTHER, "keys": [jwk]}), encoding="utf-8")
    crl = shc.crl_document(str(jwk["kid"]), 1, ["revokedRid1"])
    (trust_dir / "crl" / "other.json").write_text(json.dumps(crl), encoding="utf-8")
    public = settings.model_copy(
        update={"public_url": "https://city.example.jp", "credentials_trust_dir": trust_dir}
    )
    ctx = credentials_context(public, Clock())
    with session_factory() as db:
        [valid] = verification.check(db, ctx, _card(key, OTHER, "goodRid0001"))
        [revoked] = verification.check(db, ctx, _card(key, OTHER, "revokedRid1"))
        [stranger] = verification.check(db, ctx, _card(key, "https://nobody.example", "x"))
        [image] = verification.check(
            db, ctx, verification.read_input(qr.png(_card(key, OTHER, "goodRid0001")))
        )
        [not_qr] = verification.check(db, ctx, verification.read_input(b"\x89PNG\r\n\x1a\nnot really"))
    assert valid.valid
    assert (valid.name, valid.birth_date, valid.issuer, valid.issuer_is_us) == (
        "佐藤 花子",
        "1985-05-05",
        OTHER,
        False,
    )
    assert [(d.vaccine_en, d.date, d.lot, d.place) for d in valid.doses] == [
        ("Spikevax (Moderna), original", "2021-08-01", "3004217", "大阪府大阪市")
    ]
    assert [r[0] for r in revoked.reasons] == ["revoked"]
    assert [r[0] for r in stranger.reasons] == ["unknown_issuer"]
    assert stranger.name == ""  # nothing of an untrusted card is shown
    assert image.valid
    assert [r[0] for r in not_qr.reasons] == ["malformed"]
