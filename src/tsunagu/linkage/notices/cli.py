"""``tsunagu linkage notices notify``: an agency sends a お知らせ to a person (by the agency's own 符号), to
everyone, or to the residents of one municipality. One command, one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.notices import services

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _factory(data_dir: Path | None) -> tuple[sessionmaker[Session], LinkageKeys]:
    settings = settings_for(data_dir)
    return make_session_factory(make_engine(settings)), LinkageKeys.from_master(settings.master_secret())


def build() -> typer.Typer:
    app = typer.Typer(help="お知らせ: notices from agencies to residents.", no_args_is_help=True)

    @app.callback()
    def notices() -> None:
        """お知らせ: notices from agencies to residents (a group, so that ``notify`` keeps its name)."""

    @app.command("notify")
    def notify(
        agency: Annotated[str, typer.Option("--agency", help="The sending agency's code, e.g. LG-142051.")],
        title_ja: Annotated[str, typer.Option("--title-ja", help="Title in Japanese (≤ 200 characters).")],
        title_en: Annotated[str, typer.Option("--title-en", help="Title in English (≤ 200 characters).")],
        body_ja: Annotated[str, typer.Option("--body-ja", help="Body in Japanese (≤ 4000 characters).")],
        body_en: Annotated[str, typer.Option("--body-en", help="Body in English (≤ 4000 characters).")],
        code: Annotated[
            str | None, typer.Option("--code", help="The person, by the sending agency's own 符号.")
        ] = None,
        to_all: Annotated[bool, typer.Option("--all", help="Everyone on the platform.")] = False,
        municipality: Annotated[
            str | None,
            typer.Option(
                "--municipality", help="The residents of one municipality (6-digit code, e.g. 142051)."
            ),
        ] = None,
        link: Annotated[
            str | None, typer.Option("--link", help="Optional link: https://… or a path on this site.")
        ] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Send one notice; give exactly one of --code, --all and --municipality."""
        if sum((code is not None, to_all, municipality is not None)) != 1:
            fail("give exactly one of --code, --all and --municipality", 2, as_json=as_json)
        factory, keys = _factory(data_dir)
        text = (title_ja, title_en, body_ja, body_en)
        with domain_errors(as_json), unit_of_work(factory) as db:
            if code is not None:
                sent = services.send_to_code(db, keys, agency, code, *text, link)
            else:
                sent = services.send_to_segment(
                    db, agency, "all" if to_all else str(municipality), *text, link
                )
        to = {"person": "one person", "all": "everyone"}.get(sent.audience, f"residents of {sent.segment}")
        data = {
            "ok": True,
            "id": sent.id,
            "agency": sent.agency,
            "audience": sent.audience,
            "segment": sent.segment,
            "created_at": sent.created_at.isoformat(),
        }
        emit(as_json, data, f"notice {sent.id} sent by {sent.agency} to {to}")

    return app
