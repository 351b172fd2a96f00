"""The ``tsunagu`` command. The root lists the domains; each contributes its own sub-commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tsunagu import wiring
from tsunagu.clikit import DATA_DIR_HELP, emit, err, fail, progress, settings_for
from tsunagu.credentials import cli as credentials_cli
from tsunagu.db.migrate import upgrade
from tsunagu.demo import DEMO_PINS, DEMO_RELYING_PARTIES, DEMO_STAFF, prepare
from tsunagu.health import cli as health_cli
from tsunagu.identity import cli as identity_cli
from tsunagu.identity.cardlogin import cli as cardlogin_cli
from tsunagu.identity.cards import cli as cards_cli
from tsunagu.identity.oidc import cli as oidc_cli
from tsunagu.identity.proxies import cli as proxies_cli
from tsunagu.kernel.clock import Clock
from tsunagu.laws import cli as laws_cli
from tsunagu.linkage import cli as linkage_cli
from tsunagu.linkage.log import cli as linkage_log_cli
from tsunagu.linkage.node import cli as node_cli
from tsunagu.payments import cli as payments_cli
from tsunagu.pki import cli as pki_cli
from tsunagu.procedures import cli as procedures_cli
from tsunagu.registry import cli as registry_cli

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
DEFAULT_DEMO_DIR = Path("tsunagu-data")
LIMIT_CONCURRENCY = 64  # per worker: beyond this, answer 503 at once instead of queueing (p99 stays bounded)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def public_url_for(host: str, port: int) -> str:
    """The address people use for a server bound to ``host``: loopback and wildcard binds are reached as
    ``localhost`` (a secure context, and a host name WebAuthn accepts as the passkey RP ID; an IP address is not)."""
    if host in LOOPBACK or host in {"0.0.0.0", "::"}:  # noqa: S104 - compared, not bound
        return f"http://localhost:{port}"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_app(settings_dir: Path, host: str, port: int, workers: int, environment: str | None = None) -> None:
    import uvicorn  # noqa: PLC0415 - only needed when serving

    if "TSUNAGU_PUBLIC_URL" not in os.environ:  # the OIDC issuer, CRL and QR links name the address served
        os.environ["TSUNAGU_PUBLIC_URL"] = public_url_for(host, port)

    if host not in LOOPBACK and settings_for(settings_dir).cookie_secure:
        err.print(
            "[yellow]note:[/] staff login cookies are Secure: from another machine the portal must be reached "
            "over HTTPS (a TLS proxy in front), or set TSUNAGU_COOKIE_SECURE=false on a closed test network."
        )

    os.environ["TSUNAGU_DATA_DIR"] = str(settings_dir.resolve())
    if environment:  # the demo's server says on every page that its residents are synthetic
        os.environ["TSUNAGU_ENVIRONMENT"] = environment
    uvicorn.run(
        "tsunagu.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,  # its request line includes query strings; AccessLogMiddleware logs without them
        limit_concurrency=LIMIT_CONCURRENCY,
        log_level="info",
        server_header=False,
    )


def build() -> typer.Typer:
    app = typer.Typer(help="tsunagu: a digital-government platform.", no_args_is_help=True)
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")
    app.add_typer(registry_cli.build(wiring.registry_listeners), name="registry")
    app.add_typer(identity_cli.build(), name="staff")
    card_app = cards_cli.build()
    cardlogin_cli.add_login_command(card_app)  # the reader client: `tsunagu card login --server URL`
    app.add_typer(card_app, name="card")
    app.add_typer(oidc_cli.build(), name="oidc")
    app.add_typer(proxies_cli.build(), name="proxy")
    app.add_typer(pki_cli.build(), name="pki")
    app.add_typer(linkage_log_cli.build(), name="audit")
    app.add_typer(payments_cli.build(), name="zengin")
    app.add_typer(payments_cli.build_payments(wiring.payments_context), name="payments")
    app.add_typer(linkage_cli.build(), name="linkage")
    app.add_typer(node_cli.build(), name="node")
    app.add_typer(procedures_cli.build(wiring.registry_listeners), name="procedures")
    app.add_typer(credentials_cli.build(), name="credentials")
    app.add_typer(health_cli.build(wiring.cli_dose_listeners), name="health")
    app.add_typer(laws_cli.build(), name="laws")

    @db_app.command("upgrade")
    def db_upgrade(
        data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None, as_json: AsJson = False
    ) -> None:
        """Apply every migration (idempotent)."""
        settings = settings_for(data_dir)
        try:
            upgrade(settings)
        except Exception as exc:
            fail(f"Could not migrate {settings.sqlalchemy_url.split('@')[-1]}: {exc}", as_json=as_json)
        emit(as_json, {"ok": True}, "database is at the latest schema")

    @app.command()
    def demo(
        data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = DEFAULT_DEMO_DIR,
        residents: Annotated[int, typer.Option(min=1, max=5_000_000)] = 5000,
        host: str = "127.0.0.1",
        port: int = 8000,
        no_serve: Annotated[
            bool, typer.Option("--no-serve", help="Prepare only; do not start the server.")
        ] = False,
        as_json: AsJson = False,
    ) -> None:
        """Create DIR, migrate, seed a synthetic municipality once, print the logins, then serve."""
        settings = settings_for(data_dir, environment="demo")
        with progress("seeding residents", residents, enabled=not as_json) as tick:
            result = prepare(settings, residents, Clock().today(), progress=tick)
        url = os.environ.get("TSUNAGU_PUBLIC_URL", public_url_for(host, port)) + "/"
        logins = [
            {"username": u, "password": p, "roles": [r.value for r in roles]}
            for u, _n, p, roles in DEMO_STAFF
        ]
        seeded = result.info
        note = "seeded now" if result.seeded_now else "already seeded; nothing duplicated"
        if not result.seeded_now and seeded.get("residents") != residents:
            note += f" (it holds {seeded.get('residents')} residents; delete {data_dir} to reseed)"
        human = "\n".join(
            [
                f"tsunagu demo: {data_dir.resolve()} ({note})",
                f"  residents {seeded.get('residents'):,}  households {seeded.get('households'):,}",
                f"  portal:   {url}",
                "  staff logins:",
                *(f"    {x['username']} / {x['password']}  ({', '.join(x['roles'])})" for x in logins),
                f"  residents: {url}login  (demo card reader; every demo card's PINs: {DEMO_PINS['authentication']}"
                f" authentication, {DEMO_PINS['signature']} signature)",
                "  OpenID Connect relying parties (demo secrets; issuer: the portal URL):",
                *(
                    f"    {x['client_id']} / {x['client_secret']}  ({x['name']})"
                    for x in DEMO_RELYING_PARTIES
                ),
                *([f"  {result.laws}"] if result.laws else []),
            ]
        )
        emit(
            as_json,
            {
                "ok": True,
                "data_dir": str(data_dir.resolve()),
                "url": url,
                "seeded_now": result.seeded_now,
                "seed": seeded,
                "laws": result.laws,
                "logins": logins,
                "demo_card_pins": DEMO_PINS,
                "relying_parties": [
                    {k: x[k] for k in ("client_id", "client_secret", "name", "redirect_uris")}
                    for x in DEMO_RELYING_PARTIES
                ],
            },
            human,
        )
        if not no_serve:
            err.print(f"serving on {url} (Ctrl+C to stop)")
            serve_app(data_dir, host, port, 1, environment="demo")

    @app.command()
    def serve(
        data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
    ) -> None:
        """Serve the portal and API (migrations must be applied: tsunagu db upgrade)."""
        settings = settings_for(data_dir)
        serve_app(settings.data_dir, host, port, workers)

    return app


def main() -> None:
    build()()
