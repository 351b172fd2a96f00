"""``tsunagu oidc ...``: register, list and revoke relying parties (OpenID Connect clients)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity.oidc import services
from tsunagu.kernel.clock import Clock

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def build() -> typer.Typer:
    app = typer.Typer(help="OpenID Connect relying parties (連携先サービス).", no_args_is_help=True)

    @app.command("register")
    def register(
        name: Annotated[str, typer.Option("--name", help="Name shown to residents (Japanese).")],
        name_en: Annotated[str, typer.Option("--name-en", help="Name shown to residents (English).")],
        sector: Annotated[str, typer.Option("--sector", help="public (行政機関等) or private (民間事業者).")],
        redirect_uri: Annotated[
            list[str], typer.Option("--redirect-uri", help="Exact redirect URI; repeatable.")
        ],
        scopes: Annotated[
            str, typer.Option("--scopes", help='Scopes it may ask for, e.g. "openid profile address".')
        ] = "openid profile",
        sector_identifier: Annotated[
            str | None,
            typer.Option("--sector-identifier", help="Host shared by the RPs of one sector (pairwise sub)."),
        ] = None,
        public_client: Annotated[
            bool, typer.Option("--public-client", help="No secret: a native or browser app (PKCE only).")
        ] = False,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Register a relying party. Prints client_id and client_secret once; only a hash of the secret is kept."""
        factory = make_session_factory(make_engine(settings_for(data_dir)))
        with domain_errors(as_json), unit_of_work(factory) as db:
            made = services.register_client(
                db,
                Clock(),
                name=name,
                name_en=name_en,
                sector=sector,
                redirect_uris=redirect_uri,
                scopes=scopes,
                sector_identifier=sector_identifier,
                public_client=public_client,
            )
        lines = [f"client_id:     {made.client_id}"]
        if made.client_secret:
            lines.append(f"client_secret: {made.client_secret}")
            lines.append("(the secret is shown only now; tsunagu keeps only its hash)")
        lines.append(f"sector identifier (pairwise sub): {made.sector_identifier}")
        emit(as_json, {"ok": True, **asdict(made)}, "\n".join(lines))

    @app.command("list")
    def list_(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """List the relying parties (never their secrets)."""
        factory = make_session_factory(make_engine(settings_for(data_dir)))
        with unit_of_work(factory) as db:
            found = services.list_clients(db)
        human = "\n".join(
            f"{c.client_id}  {c.name} / {c.name_en}  [{c.sector}{', revoked' if c.revoked else ''}]  "
            f"scopes: {' '.join(c.scopes)}  redirect: {' '.join(c.redirect_uris)}"
            for c in found
        )
        emit(as_json, {"ok": True, "clients": [asdict(c) for c in found]}, human or "no relying parties")

    @app.command("revoke")
    def revoke(client_id: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Stop a relying party: no new logins, and its access tokens stop working."""
        factory = make_session_factory(make_engine(settings_for(data_dir)))
        with domain_errors(as_json), unit_of_work(factory) as db:
            services.revoke_client(db, Clock(), client_id)
        emit(as_json, {"ok": True, "client_id": client_id, "revoked": True}, f"revoked {client_id}")

    return app
