"""``tsunagu credentials issue`` and ``tsunagu credentials revoke``: SMART Health Cards from the command line (the
operator acts with the authority over the data directory; every issuance and revocation is audited)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, settings_for
from tsunagu.credentials.context import credentials_context
from tsunagu.credentials.core import qr, shc
from tsunagu.credentials.services import revocation
from tsunagu.credentials.services import shc_issuance as issuance
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def add_shc_commands(app: typer.Typer) -> None:
    @app.command("issue")
    def issue_cmd(
        person: Annotated[int, typer.Option("--person", help="The registry person id.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the .smart-health-card, .png and .svg.")],
        overseas: Annotated[
            bool, typer.Option("--overseas", help="The overseas variant (needs the passport options).")
        ] = False,
        passport: Annotated[str, typer.Option(help="Passport number (overseas).")] = "",
        nationality: Annotated[str, typer.Option(help="ISO 3166-1 alpha-3 (overseas).")] = "JPN",
        family_romaji: Annotated[str, typer.Option(help="Family name in Hepburn capitals (overseas).")] = "",
        given_romaji: Annotated[str, typer.Option(help="Given name in Hepburn capitals (overseas).")] = "",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Issue a vaccination certificate (SMART Health Card) for a person from the health registry and write
        it as a .smart-health-card file and a QR code (PNG and SVG)."""
        details = (
            issuance.OverseasDetails(passport, nationality, family_romaji, given_romaji) if overseas else None
        )
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            ctx = credentials_context(settings, Clock())
            engine = make_engine(settings)
            try:
                with unit_of_work(make_session_factory(engine)) as db:
                    card = issuance.issue_card(db, ctx, person, actor=_actor(), overseas=details)
            finally:
                engine.dispose()
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"vaccination-{person}-{card.public_id[:8]}"
        files = {
            "card": stem.with_suffix(".smart-health-card"),
            "png": stem.with_suffix(".png"),
            "svg": stem.with_suffix(".svg"),
        }
        files["card"].write_bytes(shc.file_body([card.jws]))
        files["png"].write_bytes(qr.png(card.jws, scale=8))
        files["svg"].write_text(qr.svg(card.jws), encoding="utf-8")
        emit(
            as_json,
            {"ok": True, "id": card.public_id, "rid": card.rid, "kid": card.kid, "variant": card.variant}
            | {k: str(v) for k, v in files.items()},
            f"issued {card.variant} card {card.public_id} (rid {card.rid}, {card.dose_count} doses)\n"
            + "\n".join(str(v) for v in files.values()),
        )

    @app.command("revoke")
    def revoke_cmd(
        rid: Annotated[str, typer.Argument(help="The card's revocation id (rid).")],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Revoke every card with this rid issued until now under the current key (it is added to the CRL at
        /credentials/shc/.well-known/crl/{kid}.json and the JWK's crlVersion goes up)."""
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            ctx = credentials_context(settings, Clock())
            engine = make_engine(settings)
            try:
                with unit_of_work(make_session_factory(engine)) as db:
                    version = revocation.revoke(db, ctx, rid, reason=reason, actor=_actor())
            finally:
                engine.dispose()
        emit(
            as_json,
            {"ok": True, "rid": rid, "kid": ctx.kid, "crl_version": version},
            f"revoked {rid} under {ctx.kid} (CRL version {version})",
        )
