"""``tsunagu health doses list|record|correct``: the vaccination registry from the command line. The operator acts
with their own authority over the data directory (actor ``cli:<user>``); every read and write is audited. Errors
exit non-zero with the reason and write nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.audit import api as audit
from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.health.core.vaccines import Problem, vaccine
from tsunagu.health.services import doses as health
from tsunagu.kernel.access import Permission
from tsunagu.kernel.clock import Clock
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Person = Annotated[int, typer.Option("--person", help="The registry person id.")]
ListenersFor = Callable[[Settings], Sequence[health.DoseListener]]
Date = Annotated[str, typer.Option("--date", help="Vaccination date, YYYY-MM-DD (接種日).")]
Cvx = Annotated[str, typer.Option("--cvx", help="CVX vaccine code, e.g. 208 (Comirnaty).")]
Maker = Annotated[str, typer.Option("--manufacturer", help="MVX code (default: the vaccine's).")]
Lot = Annotated[str, typer.Option("--lot", help="Lot number (ロット番号), at most 20 characters.")]
Where = Annotated[
    str | None,
    typer.Option("--municipality", help="6-digit 地方公共団体コード (default: this installation's)."),
]


def _line(d: health.DoseRecord) -> str:
    return (
        f"#{d.dose_id}  {d.occurrence.isoformat()}  CVX {d.cvx} {d.manufacturer}  lot {d.lot}  "
        f"{d.performer} ({d.municipality_code})  {d.vaccine_name}"
    )


def _json(d: health.DoseRecord) -> dict[str, object]:
    return {**dataclasses.asdict(d), "occurrence": d.occurrence.isoformat()}


def build(listeners_for: ListenersFor | None = None) -> typer.Typer:
    app = typer.Typer(help="The vaccination registry (予防接種記録).", no_args_is_help=True)
    doses_app = typer.Typer(help="A resident's COVID-19 doses.", no_args_is_help=True)
    app.add_typer(doses_app, name="doses")

    def entry(
        person: int, date: str, cvx: str, manufacturer: str, lot: str, municipality: str
    ) -> health.DoseInput:
        try:
            occurrence = dt.date.fromisoformat(date)
        except ValueError:
            raise health.InvalidDose(
                [Problem("occurrence", "接種日は YYYY-MM-DD で。", "The date is YYYY-MM-DD.")]
            ) from None
        known = vaccine(cvx)
        maker = manufacturer or (known.manufacturer if known else "")
        return health.DoseInput(person, occurrence, cvx, maker, lot, municipality)

    @doses_app.command("list")
    def list_cmd(person: Person, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """The resident's current doses, oldest first."""
        me = operator(Permission.HEALTH_DOSE_READ)
        with domain_errors(as_json):
            factory = make_session_factory(make_engine(settings_for(data_dir)))
            with unit_of_work(factory) as db:
                found = health.doses_of(db, person)
                audit.record(db, me.username, audit.AuditAction.HEALTH_DOSES_VIEWED, f"person:{person}")
        emit(
            as_json,
            {"ok": True, "person_id": person, "doses": [_json(d) for d in found]},
            "\n".join(_line(d) for d in found) or f"person {person}: no doses recorded",
        )

    @doses_app.command("record")
    def record_cmd(
        person: Person,
        date: Date,
        cvx: Cvx,
        lot: Lot,
        manufacturer: Maker = "",
        municipality: Where = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Record a dose (validated; audited)."""
        me = operator(Permission.HEALTH_DOSE_WRITE)
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            new = entry(person, date, cvx, manufacturer, lot, municipality or settings.municipality_code)
            factory = make_session_factory(make_engine(settings))
            listeners = listeners_for(settings) if listeners_for else ()
            with unit_of_work(factory) as db:
                done = health.record_dose(db, new, actor=me.username, now=Clock().now(), listeners=listeners)
        emit(as_json, {"ok": True, "dose": _json(done)}, f"recorded {_line(done)}")

    @doses_app.command("correct")
    def correct_cmd(
        dose: Annotated[int, typer.Argument(help="The dose id to correct (it is kept as history).")],
        person: Person,
        date: Date,
        cvx: Cvx,
        lot: Lot,
        manufacturer: Maker = "",
        municipality: Where = None,
        reason: Annotated[str, typer.Option("--reason", help="Why (kept with the entry).")] = "",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Correct a dose: a new entry supersedes it."""
        me = operator(Permission.HEALTH_DOSE_WRITE)
        with domain_errors(as_json):
            settings = settings_for(data_dir)
            new = entry(person, date, cvx, manufacturer, lot, municipality or settings.municipality_code)
            factory = make_session_factory(make_engine(settings))
            listeners = listeners_for(settings) if listeners_for else ()
            with unit_of_work(factory) as db:
                done = health.correct_dose(
                    db, dose, new, actor=me.username, now=Clock().now(), reason=reason, listeners=listeners
                )
        emit(
            as_json,
            {"ok": True, "dose": _json(done), "supersedes": dose},
            f"corrected #{dose} → {_line(done)}",
        )

    return app
