"""``tsunagu credentials verify``: check a SMART Health Card offline against a trust list of issuer keys."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import emit, fail
from tsunagu.credentials.cli_sdjwt import add_sdjwt_commands
from tsunagu.credentials.cli_shc import add_shc_commands
from tsunagu.credentials.core import qrimage, verify

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
MAX_INPUT_BYTES = 20 * 1024 * 1024


def _read_json(path: Path, as_json: bool) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: not a JSON file ({exc})", 2, as_json=as_json, error_code="bad-trust")


def load_trust(path: Path | None, issuer: str | None, *, as_json: bool) -> dict[str, dict[str, Any]]:
    """Issuer → JWKS from a ``{iss: jwks}`` file, a JWKS file (with ``--issuer``), or a directory of either."""
    if path is None:
        return {}
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    trust: dict[str, dict[str, Any]] = {}
    for file in files:
        doc = _read_json(file, as_json)
        if isinstance(doc, dict) and isinstance(doc.get("keys"), list):
            if issuer is None:
                fail(f"{file} is a bare JWKS: name its issuer with --issuer", 2, as_json=as_json)
            trust.setdefault(issuer, {"keys": []})["keys"].extend(doc["keys"])
        elif isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()):
            for iss, jwks in doc.items():
                trust.setdefault(iss, {"keys": []})["keys"].extend(jwks.get("keys", []))
        else:
            fail(
                f"{file}: neither a JWKS nor an issuer → JWKS map", 2, as_json=as_json, error_code="bad-trust"
            )
    return trust


def _load_crls(paths: list[Path], as_json: bool) -> dict[str, dict[str, Any]]:
    crls: dict[str, dict[str, Any]] = {}
    for path in paths:
        doc = _read_json(path, as_json)
        if not isinstance(doc, dict) or not isinstance(doc.get("kid"), str):
            fail(f"{path}: not a CRL (no kid)", 2, as_json=as_json, error_code="bad-crl")
        crls[doc["kid"]] = doc
    return crls


def _input_text(path: Path, as_json: bool) -> bytes | str:
    if not path.is_file():
        fail(f"{path}: no such file", 2, as_json=as_json, error_code="not-found")
    if path.stat().st_size > MAX_INPUT_BYTES:
        fail(
            f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB", 2, as_json=as_json, error_code="too-large"
        )
    data = path.read_bytes()
    if not qrimage.looks_like_image(data):
        return data
    try:
        return qrimage.read_shc_text(data)
    except qrimage.NotAQrImage as exc:
        return f"image: {exc}"


def _human(path: Path, results: list[verify.Result]) -> str:
    lines = []
    for i, result in enumerate(results, 1):
        head = f"{path} [{i}/{len(results)}]"
        if result.valid:
            iss = result.payload.get("iss") if result.payload else ""
            lines.append(f"{head}: 有効 / valid (issuer {iss})")
            continue
        lines.append(f"{head}: 無効 / NOT valid")
        lines += [f"  {f.reason.value}: {f.ja} / {f.en} — {f.detail}" for f in result.findings]
    return "\n".join(lines)


def build() -> typer.Typer:
    app = typer.Typer(help="Verifiable credentials: SMART Health Cards.", no_args_is_help=True)
    add_shc_commands(app)
    add_sdjwt_commands(app)

    @app.command("verify")
    def verify_cmd(
        input_file: Annotated[
            Path,
            typer.Argument(help="A .smart-health-card file, a file with a JWS or shc:/ text, or a QR image."),
        ],
        trust: Annotated[
            Path | None,
            typer.Option("--trust", help="Trusted issuer keys: an {iss: JWKS} file, a JWKS or a folder."),
        ] = None,
        issuer: Annotated[str | None, typer.Option(help="The issuer a bare JWKS file belongs to.")] = None,
        crl: Annotated[
            list[Path] | None, typer.Option(help="A CRL ({iss}/.well-known/crl/{kid}.json).")
        ] = None,
        at: Annotated[
            int | None, typer.Option("--at", help="Validation time (Unix seconds; default now).")
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        """Verify a SMART Health Card; exit 0 only when every card in the input is valid."""
        trusted = load_trust(trust, issuer, as_json=as_json)
        crls = _load_crls(crl or [], as_json)
        when = at if at is not None else int(time.time())
        results = verify.verify(_input_text(input_file, as_json), trusted, when, crls)
        ok = all(r.valid for r in results)
        emit(
            as_json,
            {"ok": ok, "file": str(input_file), "cards": [r.as_dict() for r in results]},
            _human(input_file, results),
        )
        if not ok:
            raise typer.Exit(1)

    return app
