"""``tsunagu credentials sdjwt …`` (issue and revoke SD-JWT VCs, record a licence's suspension or revocation) and
``tsunagu credentials wallet …`` (a command-line holder wallet: init, add, list, present)."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, settings_for
from tsunagu.credentials import wallet
from tsunagu.credentials.services import sdjwt_issuance as issuance
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
WalletDir = Annotated[Path, typer.Option("--dir", help="The wallet folder (key.json, credentials/).")]


class _Ctx:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _holder_jwk(path: Path, as_json: bool) -> dict[str, object]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: not a JSON file ({exc})", 2, as_json=as_json, error_code="bad-input")
    if not isinstance(doc, dict):
        fail(f"{path}: not a JWK", 2, as_json=as_json, error_code="bad-input")
    return doc


def add_sdjwt_commands(app: typer.Typer) -> None:
    sd = typer.Typer(help="SD-JWT VCs: age, driver's licence, qualifications.", no_args_is_help=True)
    app.add_typer(sd, name="sdjwt")

    @sd.command("issue")
    def issue_cmd(
        person: Annotated[int, typer.Option("--person", help="The registry person id.")],
        holder_jwk: Annotated[
            Path, typer.Option("--holder-jwk", help="The holder's public P-256 JWK (file).")
        ],
        kind: Annotated[str, typer.Option("--kind", help="age, driving_licence or qualification.")] = "age",
        out: Annotated[Path | None, typer.Option("--out", help="Write the credential here.")] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Issue an SD-JWT VC bound to the holder's key (staff or demo use); prints it unless --out."""
        jwk = _holder_jwk(holder_jwk, as_json)
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            clock = Clock()
            engine = make_engine(settings)
            try:
                with unit_of_work(make_session_factory(engine)) as db:
                    issued = issuance.issue_for(
                        db, _Ctx(settings), person, kind, jwk, now=clock.now(), actor=_actor()
                    )
            finally:
                engine.dispose()
        if out is not None:
            out.write_text(issued.compact + "\n", encoding="utf-8")
        data = {
            "ok": True,
            "credential_id": issued.credential_id,
            "kind": issued.kind,
            "vct": issued.vct,
            "expires_at": issued.expires_at.isoformat(),
            "file": str(out) if out else None,
            "compact": None if out else issued.compact,
        }
        emit(as_json, data, f"issued credential {issued.credential_id} ({kind})" + (f" to {out}" if out else
             "\n" + issued.compact))  # fmt: skip

    @sd.command("revoke")
    def revoke_cmd(
        credential_id: Annotated[int, typer.Argument(help="The credential id (from issue).")],
        reason: Annotated[str, typer.Option(help="holder_request, staff, deceased, …")] = "staff",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Revoke a credential: its status list entry becomes 1 (invalid) for every verifier."""
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            engine = make_engine(settings)
            try:
                with unit_of_work(make_session_factory(engine)) as db:
                    view = issuance.revoke(db, credential_id, reason=reason, by=_actor(), now=Clock().now())
            finally:
                engine.dispose()
        emit(
            as_json,
            {"ok": True, "credential_id": view.credential_id, "revoked_at": str(view.revoked_at)},
            f"credential {view.credential_id} revoked ({view.revoked_reason})",
        )

    @sd.command("licence-state")
    def licence_state_cmd(
        person: Annotated[int, typer.Option("--person", help="The registry person id.")],
        state: Annotated[str, typer.Option("--state", help="valid, suspended (停止) or revoked (取消).")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Record a licence's suspension or revocation; the credentials issued from it are revoked."""
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            engine = make_engine(settings)
            try:
                with unit_of_work(make_session_factory(engine)) as db:
                    count = issuance.set_licence_state(db, person, state, by=_actor(), now=Clock().now())
            finally:
                engine.dispose()
        emit(as_json, {"ok": True, "revoked": count}, f"licence {state}; {count} credential(s) revoked")

    _add_wallet_commands(app)


def _add_wallet_commands(app: typer.Typer) -> None:
    wa = typer.Typer(help="A command-line wallet for SD-JWT VCs.", no_args_is_help=True)
    app.add_typer(wa, name="wallet")

    @wa.command("init")
    def init_cmd(directory: WalletDir, as_json: AsJson = False) -> None:
        """Create a wallet: a new P-256 key (key.json, mode 0600). Prints the public JWK to give the issuer."""
        try:
            jwk = wallet.init(directory)
        except wallet.WalletError as exc:
            fail(str(exc), 2, as_json=as_json, error_code="exists")
        emit(as_json, {"ok": True, "jwk": jwk}, json.dumps(jwk))

    @wa.command("add")
    def add_cmd(
        file: Annotated[Path, typer.Argument(help="A file with the issued SD-JWT VC.")],
        directory: WalletDir,
        as_json: AsJson = False,
    ) -> None:
        """Store a credential (it must be bound to this wallet's key)."""
        try:
            item = wallet.add(directory, file.read_text(encoding="utf-8"))
        except (OSError, wallet.WalletError) as exc:
            fail(str(exc), 2, as_json=as_json, error_code="refused")
        emit(as_json, {"ok": True, "name": item.name, "vct": item.vct}, f"added {item.name}: {item.vct}")

    @wa.command("list")
    def list_cmd(directory: WalletDir, as_json: AsJson = False) -> None:
        """The credentials in the wallet."""
        try:
            items = wallet.held(directory)
        except (OSError, ValueError) as exc:
            fail(str(exc), 2, as_json=as_json, error_code="bad-wallet")
        rows = [
            {"name": i.name, "vct": i.vct, "iss": i.iss, "exp": i.exp, "claims": list(i.claims)}
            for i in items
        ]
        human = "\n".join(f"{i.name}  {i.vct}  claims: {', '.join(i.claims)}" for i in items)
        emit(as_json, {"ok": True, "credentials": rows}, human or "(empty)")

    @wa.command("present")
    def present_cmd(
        request: Annotated[str, typer.Option("--request", help="The request's link or URL, or its JSON.")],
        directory: WalletDir,
        disclose: Annotated[
            list[str] | None,
            typer.Option("--disclose", help="A claim path to disclose (a/b); default: asked."),
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        """Answer a verifier's request, disclosing only the asked claims; prints the verifier's answer."""
        try:
            with httpx.Client(timeout=15, follow_redirects=False) as client:
                answer = wallet.present(directory, request, client, disclose=disclose, now=int(time.time()))
        except (wallet.WalletError, httpx.HTTPError, ValueError) as exc:
            fail(str(exc), 2, as_json=as_json, error_code="refused")
        ok = answer.get("status") == "valid"
        human = f"{answer.get('status')}: {answer.get('reason') or ''} disclosed {answer.get('disclosed')}"
        emit(as_json, {"ok": ok, **answer}, human)
        if not ok:
            raise typer.Exit(1)
