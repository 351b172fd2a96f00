"""``tsunagu pki ...``: create the CA hierarchy, show it, write CRLs and CA certificates, ask a status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.pki.authorities import AUTHORITY_NAMES
from tsunagu.pki.core.serials import parse_serial, serial_hex
from tsunagu.pki.core.types import CertificateKind
from tsunagu.pki.services import TrustServices, trust_services

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _open(data_dir: Path | None) -> tuple[TrustServices, sessionmaker[Session]]:
    settings = settings_for(data_dir)
    return trust_services(settings, Clock()), make_session_factory(make_engine(settings))


def build() -> typer.Typer:
    app = typer.Typer(
        help="Trust services (公的個人認証サービス): CAs, CRLs, certificate status.", no_args_is_help=True
    )

    @app.command("init")
    def init(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Create the root CA and the signature, user-authentication and agency CAs (once; idempotent)."""
        trust, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            trust.ensure_hierarchy(db, actor=operator().username)
            names = [a.name for a in trust.authorities(db)]
        emit(as_json, {"ok": True, "authorities": names}, f"CA hierarchy ready: {', '.join(names)}")

    @app.command("show")
    def show(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """The CAs: subject, issuer, validity and SHA-256 fingerprint (creates them on first use)."""
        trust, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            found = trust.authorities(db)
        rows = [
            {
                "name": a.name,
                "subject": a.subject,
                "issuer": a.issuer,
                "serial": serial_hex(a.serial),
                "not_before": a.not_before.isoformat(),
                "not_after": a.not_after.isoformat(),
                "sha256_fingerprint": a.sha256_fingerprint,
            }
            for a in found
        ]
        human = "\n".join(
            f"{r['name']}\n  subject  {r['subject']}\n  issuer   {r['issuer']}\n"
            f"  valid    {r['not_before']} .. {r['not_after']}\n  sha256   {r['sha256_fingerprint']}"
            for r in rows
        )
        emit(as_json, {"ok": True, "authorities": rows}, human)

    @app.command("crl")
    def crl(
        kind: CertificateKind,
        out: Annotated[Path, typer.Option("--out", help="Where to write the DER CRL.")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Write the current CRL (DER) of the signature, authentication or agency CA."""
        trust, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            der = trust.crl(db, kind)
        out.write_bytes(der)
        parsed = x509.load_der_x509_crl(der)
        number = parsed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        emit(
            as_json,
            {"ok": True, "file": str(out), "crl_number": number, "revoked": len(parsed)},
            f"wrote {out} (CRL number {number}, {len(parsed)} revoked)",
        )

    @app.command("export-ca")
    def export_ca(
        out: Annotated[
            Path,
            typer.Option(
                "--out", help="Directory for root.pem, signature.pem, authentication.pem, agency.pem"
            ),
        ],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Write the CA certificates as PEM files (for openssl verify -CAfile root.pem -untrusted …)."""
        trust, factory = _open(data_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        with domain_errors(as_json), unit_of_work(factory) as db:
            for name in AUTHORITY_NAMES:
                cert = x509.load_der_x509_certificate(trust.ca_certificate(db, name))
                path = out / f"{name}.pem"
                path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
                files.append(str(path))
        emit(as_json, {"ok": True, "files": files}, "\n".join(f"wrote {f}" for f in files))

    @app.command("status")
    def status(serial: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Revocation status of a certificate by serial (decimal, 0x-hex or openssl's colon-separated hex)."""
        try:
            number = parse_serial(serial)
        except ValueError as exc:
            fail(str(exc), as_json=as_json, error_code="invalid-input")
        trust, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            found = trust.status(db, number, actor=operator().username)
        data = {
            "ok": True,
            "serial": str(number),
            "serial_hex": serial_hex(number),
            "state": found.state,
            "kind": found.kind.value if found.kind else None,
            "revoked_at": found.revoked_at.isoformat() if found.revoked_at else None,
            "reason": found.reason,
            "not_after": found.not_after.isoformat() if found.not_after else None,
        }
        human = f"{serial_hex(number)}: {found.state}"
        if found.revoked_at:
            human += f" since {found.revoked_at.isoformat()} ({found.reason})"
        emit(as_json, data, human)

    return app
