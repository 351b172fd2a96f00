"""``tsunagu pki``: init, show, crl, export-ca and status, as an operator or a script uses them."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from typer.testing import CliRunner

from tsunagu.cli import build

Invoke = Callable[..., tuple[int, str]]
SECRET = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    app = build()
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def invoke(*args: str, ok: bool = True) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.exit_code, result.stdout

    invoke("db", "upgrade")
    return invoke


def as_json(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_init_is_idempotent_and_show_lists_the_four_cas(run: Invoke) -> None:
    names = ["root", "signature", "authentication", "agency"]
    assert as_json(run("pki", "init", "--json")[1])["authorities"] == names
    run("pki", "init")
    shown = as_json(run("pki", "show", "--json")[1])["authorities"]
    assert [a["name"] for a in shown] == names
    assert all(len(a["sha256_fingerprint"].split(":")) == 32 for a in shown)
    assert shown[1]["issuer"] == shown[0]["subject"]
    text = run("pki", "show")[1]
    assert "tsunagu JPKI Root CA" in text
    assert "sha256" in text


def test_crl_and_export_ca_write_files_openssl_reads(run: Invoke, tmp_path: Path) -> None:
    crl_file = tmp_path / "auth.crl"
    report = as_json(run("pki", "crl", "authentication", "--out", str(crl_file), "--json")[1])
    assert report == {"ok": True, "file": str(crl_file), "crl_number": 1, "revoked": 0}
    out_dir = tmp_path / "ca"
    files = as_json(run("pki", "export-ca", "--out", str(out_dir), "--json")[1])["files"]
    assert sorted(Path(f).name for f in files) == [
        "agency.pem",
        "authentication.pem",
        "root.pem",
        "signature.pem",
    ]
    ca = x509.load_pem_x509_certificate((out_dir / "authentication.pem").read_bytes())
    crl = x509.load_der_x509_crl(crl_file.read_bytes())
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    openssl = shutil.which("openssl")
    if openssl:
        done = subprocess.run(  # noqa: S603 - the openssl on PATH with our files
            [openssl, "verify", "-CAfile", str(out_dir / "root.pem"), str(out_dir / "signature.pem")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_status_reports_unknown_and_refuses_a_bad_serial(run: Invoke) -> None:
    report = as_json(run("pki", "status", "0x1f", "--json")[1])
    assert report == {
        "ok": True,
        "serial": "31",
        "serial_hex": "1f",
        "state": "unknown",
        "kind": None,
        "revoked_at": None,
        "reason": None,
        "not_after": None,
    }
    assert run("pki", "status", "31")[1].strip() == "1f: unknown"
    code, out = run("pki", "status", "not-a-serial", "--json", ok=False)
    assert code == 1
    assert as_json(out)["error"] == "invalid-input"
