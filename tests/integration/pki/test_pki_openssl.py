"""A real client reads what we publish: ``openssl`` parses the certificates, accepts the chain and the CRLs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from tsunagu.pki.api import CertificateKind, RevocationReason, TrustServices

from .conftest import Issued

pytestmark = [
    pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]
Uow = Callable[[], AbstractContextManager[Session]]


OPENSSL = shutil.which("openssl") or "openssl"


def run_openssl(*args: str | Path | int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the openssl found on PATH, arguments from the test
        [OPENSSL, *map(str, args)], capture_output=True, text=True, check=False
    )


def openssl(*args: str | Path | int) -> str:
    """Run openssl, expect success, return what it printed."""
    done = run_openssl(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def published(
    trust: TrustServices, uow: Uow, issue: Callable[..., Issued], tmp_path: Path
) -> dict[str, Path | int]:
    """Every kind of certificate, one card and one agency certificate revoked, and everything a verifier
    downloads, as files."""
    sig, auth, lost = (
        issue(CertificateKind.SIGNATURE),
        issue(CertificateKind.AUTHENTICATION),
        issue(CertificateKind.AUTHENTICATION),
    )
    agency, agency_lost = (
        issue(CertificateKind.AGENCY, "agency:LG-142051"),
        issue(CertificateKind.AGENCY, "agency:JPS"),
    )
    with uow() as db:
        trust.revoke(db, lost.certificate.serial, RevocationReason.KEY_COMPROMISE)
        trust.revoke(db, agency_lost.certificate.serial, RevocationReason.KEY_COMPROMISE)
    files: dict[str, Path | int] = {"lost_serial": lost.certificate.serial}
    with uow() as db:
        for name in ("root", "signature", "authentication", "agency"):
            path = tmp_path / f"{name}.pem"
            path.write_bytes(pem(trust.ca_certificate(db, name)))
            files[name] = path
        for kind in CertificateKind:
            path = tmp_path / f"{kind.value}.crl"
            path.write_bytes(trust.crl(db, kind))
            files[f"{kind.value}_crl"] = path
    leaves = (
        ("sig_leaf", sig),
        ("auth_leaf", auth),
        ("lost_leaf", lost),
        ("agency_leaf", agency),
        ("agency_lost_leaf", agency_lost),
    )
    for name, issued in leaves:
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem(issued.certificate.der))
        files[name] = path
    return files


def test_openssl_parses_every_certificate(published: dict[str, Path | int]) -> None:
    for name in ("root", "signature", "authentication", "agency", "sig_leaf", "auth_leaf", "agency_leaf"):
        out = openssl("x509", "-in", published[name], "-noout", "-text")
        assert "ecdsa-with-SHA256" in out
        assert "NIST CURVE: P-256" in out
    sig = openssl("x509", "-in", published["sig_leaf"], "-noout", "-text")
    assert "Digital Signature, Non Repudiation" in sig
    assert "othername: 1.2.392.200149.8.5.5.1::" in sig
    assert "URI:http://localhost:8000/pki/crl/signature.crl" in sig
    auth = openssl("x509", "-in", published["auth_leaf"], "-noout", "-text")
    assert "Subject Alternative Name" not in auth
    assert "1.2.392.200149.8.5.1.3.30" in auth
    agency = openssl(
        "x509", "-in", published["agency_leaf"], "-noout", "-text", "-nameopt", "utf8,sep_comma_plus"
    )
    assert "Subject: C=JP,O=藤沢市,CN=LG-142051" in agency
    assert "Digital Signature\n" in agency  # and nothing else: no nonRepudiation
    assert "Extended Key Usage" not in agency
    assert "Subject Alternative Name" not in agency
    assert "2.25.324165018017800249392809266660069670928" in agency
    assert "URI:http://localhost:8000/pki/crl/agency.crl" in agency
    assert "tsunagu Organisation CA" in agency
    root = openssl("x509", "-in", published["root"], "-noout", "-text")
    assert "CA:TRUE, pathlen:1" in root
    assert "Certificate Sign, CRL Sign" in root


@pytest.mark.parametrize(
    ("leaf", "issuing"),
    [("sig_leaf", "signature"), ("auth_leaf", "authentication"), ("agency_leaf", "agency")],
)
def test_openssl_accepts_the_chain(published: dict[str, Path | int], leaf: str, issuing: str) -> None:
    out = openssl("verify", "-CAfile", published["root"], "-untrusted", published[issuing], published[leaf])
    assert out.strip().endswith(": OK")


@pytest.mark.parametrize(
    ("leaf", "issuing"),
    [
        ("auth_leaf", "signature"),
        ("agency_leaf", "signature"),
        ("sig_leaf", "agency"),
        ("auth_leaf", "agency"),
    ],
)
def test_openssl_refuses_a_leaf_under_the_wrong_issuing_ca(
    published: dict[str, Path | int], leaf: str, issuing: str
) -> None:
    done = run_openssl(
        "verify", "-CAfile", published["root"], "-untrusted", published[issuing], published[leaf]
    )
    assert done.returncode != 0


def test_openssl_verifies_the_crls_and_sees_the_revoked_serial(published: dict[str, Path | int]) -> None:
    out = openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        published["authentication_crl"],
        "-CAfile",
        published["authentication"],
        "-verify",
        "-noout",
        "-text",
    )
    assert "verify OK" in out
    assert f"Serial Number: {published['lost_serial']:X}" in out.replace("Number: 0", "Number: ")
    assert "Key Compromise" in out
    assert "X509v3 CRL Number" in out
    signature_crl = openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        published["signature_crl"],
        "-CAfile",
        published["signature"],
        "-verify",
        "-noout",
        "-text",
    )
    assert "verify OK" in signature_crl
    assert "No Revoked Certificates" in signature_crl


@pytest.mark.parametrize(
    ("issuing", "good", "revoked"),
    [("authentication", "auth_leaf", "lost_leaf"), ("agency", "agency_leaf", "agency_lost_leaf")],
)
def test_openssl_checks_revocation_with_the_crl(
    published: dict[str, Path | int], tmp_path: Path, issuing: str, good: str, revoked: str
) -> None:
    crl = x509.load_der_x509_crl(Path(str(published[f"{issuing}_crl"])).read_bytes())
    crl_pem = tmp_path / f"{issuing}-crl.pem"
    crl_pem.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    chain = ("-CAfile", published["root"], "-untrusted", published[issuing])
    assert openssl("verify", "-crl_check", "-CRLfile", crl_pem, *chain, published[good]).endswith(": OK\n")
    refused = run_openssl("verify", "-crl_check", "-CRLfile", crl_pem, *chain, published[revoked])
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout + refused.stderr
