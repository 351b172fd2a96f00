"""``tsunagu proxy``: register a guardian (後見人) at the counter, and list a person's proxies."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity.proxies import services
from tsunagu.kernel.access import Permission
from tsunagu.kernel.clock import Clock

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def build() -> typer.Typer:
    app = typer.Typer(help="Proxies (代理人).", no_args_is_help=True)

    @app.command("grant-guardian")
    def grant_guardian(
        principal: Annotated[int, typer.Argument(help="The ward (成年被後見人): registry person id.")],
        guardian: Annotated[int, typer.Argument(help="The guardian (成年後見人): registry person id.")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Register a court-appointed guardian as legal proxy, after checking the 登記事項証明書 (audited)."""
        settings = settings_for(data_dir)
        engine = make_engine(settings)
        staff = operator(Permission.IDENTITY_CARD_WRITE)
        try:
            with domain_errors(as_json), unit_of_work(make_session_factory(engine)) as db:
                grant = services.grant_guardian(db, Clock(), staff.username, principal, guardian)
                grant_id = grant.id
        finally:
            engine.dispose()
        emit(
            as_json,
            {"ok": True, "grant": grant_id},
            f"guardian {guardian} may now act for {principal} (#{grant_id})",
        )

    @app.command("list")
    def list_cmd(person: int, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Who may act for a person, and for whom the person may act."""
        settings = settings_for(data_dir)
        engine = make_engine(settings)
        try:
            with domain_errors(as_json), unit_of_work(make_session_factory(engine)) as db:
                mine, theirs = services.overview(db, person)
        finally:
            engine.dispose()
        human = "\n".join(
            [f"acts for {person}: {g.other_name} ({g.kind}, {g.state})" for g in mine]
            + [f"{person} acts for: {g.other_name} ({g.kind})" for g in theirs]
        )
        emit(
            as_json,
            {"ok": True, "proxies": [asdict(g) for g in mine], "principals": [asdict(g) for g in theirs]},
            human or "no proxies",
        )

    return app
