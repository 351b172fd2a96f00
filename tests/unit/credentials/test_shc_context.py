"""The credentials context: the issuer key is derived from the master secret (the same in every process, another
for another secret), the issuer URL, and the trust folder (JWKS files naming their issuer, {iss: JWKS} maps, CRLs;
unusable files and keys are skipped). The platform's own key always comes first in the trust list."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.context import credentials_context, derive_issuer_key, issuer_url, load_trust_dir
from tsunagu.credentials.core import shc
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings


def _jwk() -> dict[str, object]:
    return shc.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_the_issuer_key_is_derived_from_the_master_secret() -> None:
    one = derive_issuer_key(b"a" * 32).private_numbers().private_value
    assert one == derive_issuer_key(b"a" * 32).private_numbers().private_value
    assert one != derive_issuer_key(b"b" * 32).private_numbers().private_value


def test_the_issuer_url_is_https_without_a_trailing_slash() -> None:
    assert issuer_url("https://city.example.jp") == "https://city.example.jp/credentials/shc"
    assert issuer_url("http://localhost:8000/") == "https://localhost:8000/credentials/shc"


def test_the_trust_folder(tmp_path: Path) -> None:
    a, b, c = _jwk(), _jwk(), _jwk()
    (tmp_path / "a.json").write_text(json.dumps({"iss": "https://a.example/", "keys": [a]}), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"https://b.example": {"keys": [b]}}), encoding="utf-8")
    bad_key = {**c, "kid": "not-the-thumbprint"}
    (tmp_path / "c.json").write_text(
        json.dumps({"iss": "https://c.example", "keys": [bad_key]}), encoding="utf-8"
    )
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "crl").mkdir()
    crl = shc.crl_document(str(a["kid"]), 1, ["abc"])
    (tmp_path / "crl" / "a.json").write_text(json.dumps(crl), encoding="utf-8")
    trust, crls = load_trust_dir(tmp_path)
    assert trust == {
        "https://a.example": {"keys": [a]},
        "https://b.example": {"keys": [b]},
        "https://c.example": {"keys": []},
    }
    assert crls == {a["kid"]: crl}
    assert load_trust_dir(tmp_path / "missing") == ({}, {})


def test_the_own_key_comes_first_and_is_never_private(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=base64.b64encode(bytes(range(32))).decode(),  # type: ignore[arg-type]
        public_url="https://city.example.jp",
        credentials_trust_dir=tmp_path,
    )
    ctx = credentials_context(settings, Clock())
    assert "shc_key" not in repr(ctx)
    assert "rid_secret" not in repr(ctx)
    trust = ctx.trust_list(crl_version=3)
    [own] = trust[ctx.iss]["keys"]
    assert own["kid"] == ctx.kid
    assert own["crlVersion"] == 3
    assert "d" not in own
    assert "crlVersion" not in ctx.trust_list()[ctx.iss]["keys"][0]
