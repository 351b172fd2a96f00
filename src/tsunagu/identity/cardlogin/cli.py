"""``tsunagu card login``: log in to a tsunagu server with a card, as a non-browser client."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from tsunagu.clikit import DATA_DIR_HELP, emit, fail, settings_for
from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.identity.cardlogin import client
from tsunagu.identity.cards.chip import PIN_REFUSALS, ChipKeys, SoftwareChip
from tsunagu.kernel.clock import Clock


def add_login_command(app: typer.Typer) -> None:
    @app.command("login")
    def login_cmd(
        server: Annotated[str, typer.Option("--server", help="Base URL of the tsunagu server.")],
        card: Annotated[str, typer.Option("--card", help="Card number (the software chip in the data dir).")],
        pin_file: Annotated[
            Path | None,
            typer.Option("--pin-file", help="Read the 4-digit PIN from this file instead of asking."),
        ] = None,
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
        show_session: Annotated[
            bool,
            typer.Option("--show-session", help="Print the session id (a secret: use it as the cookie)."),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")] = False,
    ) -> None:
        """Card login over the JSON protocol (tsunagu-card-login-v1): the chip signs the server's challenge."""
        pin = (
            pin_file.read_text().strip()
            if pin_file
            else typer.prompt("利用者証明用暗証番号 (4 digits)", hide_input=True)
        )
        settings = settings_for(data_dir)
        engine = make_engine(settings)
        sessions = make_session_factory(engine)
        db: Session = sessions()
        try:
            chip = SoftwareChip(
                db, ChipKeys(settings.master_secret()), Clock(), card.replace("-", "").replace(" ", "")
            )
            result = client.login(server, chip, pin, commit_chip=db.commit)
        except PIN_REFUSALS as exc:
            fail(exc.detail, as_json=as_json, error_code=exc.code)
        except client.ClientError as exc:
            fail(str(exc), as_json=as_json, error_code=exc.code)
        finally:
            db.close()
            engine.dispose()
        data = {
            "ok": True,
            "display_name": result.display_name,
            "idle_minutes": result.idle_minutes,
            "absolute_minutes": result.absolute_minutes,
        }
        if show_session:
            data["session"] = result.session
        human = (
            f"logged in as {result.display_name} "
            f"(session: idle {result.idle_minutes} min, at most {result.absolute_minutes} min)"
        )
        if show_session:
            human += f"\nsession: {result.session}"
        emit(as_json, data, human)
