"""``tsunagu staff ...``: create staff accounts and API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity import services
from tsunagu.identity.core.roles import Role
from tsunagu.kernel.clock import Clock

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def build() -> typer.Typer:
    app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)

    @app.command("create")
    def create(
        username: str,
        display_name: Annotated[str, typer.Option("--name")],
        role: Annotated[list[Role], typer.Option("--role", help="Repeatable.")],
        password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Create a staff account (argon2id password hash)."""
        factory = make_session_factory(make_engine(settings_for(data_dir)))
        with domain_errors(as_json), unit_of_work(factory) as db:
            user = services.create_staff(db, username, display_name, password, role)
            uid = user.id
        emit(as_json, {"ok": True, "id": uid, "username": username}, f"created staff {username} (id {uid})")

    @app.command("token")
    def token(username: str, label: str = "cli", data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Create an API bearer token for a staff account. It is shown once; only its hash is stored."""
        factory = make_session_factory(make_engine(settings_for(data_dir)))
        with domain_errors(as_json), unit_of_work(factory) as db:
            raw = services.create_api_token(db, username, label, Clock())
        emit(as_json, {"ok": True, "token": raw}, raw)

    return app
