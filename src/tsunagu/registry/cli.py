"""``tsunagu registry ...``: import, export, stats, show, record and verify."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, operator, progress, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.access import Permission
from tsunagu.kernel.clock import Clock
from tsunagu.registry import api
from tsunagu.registry.models import Person
from tsunagu.registry.services import exchange, queries, records, verify
from tsunagu.settings import Settings

P = Permission
ALL = tuple(Permission)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


ListenersFor = Callable[[Settings, Clock], Sequence[records.ChangeListener]]


def build(listeners_for: ListenersFor = lambda _s, _c: ()) -> typer.Typer:
    """The ``registry`` commands; the listeners (wired by the shell) hear of every recorded event."""
    app = typer.Typer(help="Resident registry (住民基本台帳).", no_args_is_help=True)

    def _open(data_dir: Path | None) -> tuple[records.RegistryContext, sessionmaker[Session]]:
        settings = settings_for(data_dir)
        engine = make_engine(settings)
        clock = Clock()
        return api.registry_context(settings, clock, listeners_for(settings, clock)), make_session_factory(
            engine
        )

    @app.command("stats")
    def stats_cmd(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Population, households and movement counts."""
        reg, factory = _open(data_dir)
        with unit_of_work(factory) as db:
            s = queries.stats(db, operator(*ALL), reg.clock.today())
        data = dataclasses.asdict(s)
        emit(
            as_json,
            data,
            "\n".join(
                [
                    f"residents   {s.residents:>10,}",
                    f"households  {s.households:>10,}",
                    f"former      {s.former:>10,}",
                    f"suppressed  {s.suppressed:>10,}",
                    *(f"{k:<11} {v:>10,}" for k, v in s.by_age_band.items()),
                    *(f"event {k:<13} {v:>8,}" for k, v in s.events.items()),
                ]
            ),
        )

    @app.command("show")
    def show_cmd(person_id: int, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """One resident with their movement history (My Number masked)."""
        reg, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            me = operator(*ALL)
            person = queries.get_resident(db, reg.keys, me, person_id, reg.clock.today())
            events = queries.history(db, me, person_id, audited=False)
        data = {"resident": dataclasses.asdict(person), "events": [dataclasses.asdict(e) for e in events]}
        lines = [
            f"{person.family_name} {person.given_name} ({person.family_name_kana} {person.given_name_kana})",
            f"  born {person.birth_date}  status {person.status}  address {person.address or '(withheld)'}",
        ]
        lines += [f"  {e.effective_date}  {e.kind:<12} {e.details or ''}" for e in events]
        emit(as_json, data, "\n".join(lines))

    @app.command("record")
    def record_cmd(
        kind: Annotated[str, typer.Argument(help="move (転居), move-out (転出) or death (死亡)")],
        person_id: int,
        date: Annotated[str, typer.Option("--date", help="Effective date, YYYY-MM-DD")],
        town: str = "",
        block: str = "",
        building: str = "",
        to: Annotated[str, typer.Option("--to", help="Destination local-government code (move-out)")] = "",
        whole_household: bool = False,
        reason: str = "",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Record a movement event. Invalid or out-of-order events are refused and nothing is written."""
        reg, factory = _open(data_dir)
        filing = records.Filing(recorded_by=operator().username, reason=reason)
        with domain_errors(as_json):
            try:
                when = dt.date.fromisoformat(date)
            except ValueError:
                fail("--date must be written as YYYY-MM-DD.", as_json=as_json)
            event_kind = records.EVENT_SLUGS.get(kind)
            if event_kind is None:
                fail(f"Unknown kind {kind!r}: use move, move-out or death.", as_json=as_json)
            with unit_of_work(factory) as db:
                ids = records.record_event(
                    db,
                    reg,
                    person_id,
                    event_kind,
                    when,
                    filing,
                    address=records.NewAddress(town, block, building),
                    to_lg_code=to,
                    whole_household=whole_household,
                )
        emit(
            as_json,
            {"ok": True, "kind": kind, "person_ids": ids, "filing_id": filing.filing_id},
            f"recorded {kind} for {len(ids)} person(s): {', '.join(map(str, ids))}",
        )

    @app.command("register")
    def register_cmd(
        kind: Annotated[str, typer.Argument(help="birth (出生) or move-in (転入)")],
        family_name: Annotated[str, typer.Option("--family-name")],
        given_name: Annotated[str, typer.Option("--given-name")],
        family_kana: Annotated[str, typer.Option("--family-kana")],
        given_kana: Annotated[str, typer.Option("--given-kana")],
        birth_date: Annotated[str, typer.Option("--birth-date", help="YYYY-MM-DD")],
        sex: Annotated[str, typer.Option("--sex", help="male or female")],
        town: Annotated[str, typer.Option("--town")],
        block: Annotated[str, typer.Option("--block")],
        building: str = "",
        household: Annotated[int | None, typer.Option(help="Join this household (else a new one)")] = None,
        relationship: Annotated[str, typer.Option(help="続柄 to the head when joining")] = "head",
        date: Annotated[str, typer.Option("--date", help="Move-in date (move-in only)")] = "",
        from_lg_code: Annotated[str, typer.Option("--from", help="Previous municipality code")] = "",
        my_number: Annotated[str, typer.Option("--my-number", help="Optional; stored encrypted")] = "",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Start a record by 出生 or 転入. Invalid input is refused and nothing is written."""
        reg, factory = _open(data_dir)
        with domain_errors(as_json):
            event_kind = {"birth": api.EventKind.BIRTH, "move-in": api.EventKind.MOVE_IN}.get(kind)
            if event_kind is None:
                fail(f"Unknown kind {kind!r}: use birth or move-in.", as_json=as_json)
            try:
                born = dt.date.fromisoformat(birth_date)
                when = dt.date.fromisoformat(date) if date else born
                person = records.NewPerson(
                    family_name, given_name, family_kana, given_kana, born, api.Sex(sex), my_number or None
                )
                placement = records.Placement(household, api.Relationship(relationship))
            except ValueError as exc:
                fail(f"{exc}", as_json=as_json)
            with unit_of_work(factory) as db:
                pid = records.start_record(
                    db,
                    reg,
                    event_kind,
                    person,
                    records.NewAddress(town, block, building),
                    placement,
                    when,
                    records.Filing(operator().username),
                    from_lg_code=from_lg_code or None,
                )
        emit(as_json, {"ok": True, "person_id": pid}, f"registered person {pid}")

    @app.command("correct")
    def correct_cmd(
        person_id: int,
        reason: Annotated[
            str, typer.Option("--reason", help="Why the office corrects the record (required)")
        ],
        family_name: Annotated[str | None, typer.Option("--family-name")] = None,
        given_name: Annotated[str | None, typer.Option("--given-name")] = None,
        family_kana: Annotated[str | None, typer.Option("--family-kana")] = None,
        given_kana: Annotated[str | None, typer.Option("--given-kana")] = None,
        birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD")] = None,
        sex: Annotated[str | None, typer.Option("--sex", help="male or female")] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """職権修正: correct recorded attributes; the old values stay in the history."""
        given = {
            "family_name": family_name,
            "given_name": given_name,
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
            "birth_date": birth_date,
            "sex": sex,
        }
        changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
        if sex is not None and sex not in ("male", "female"):
            fail("--sex must be male or female.", as_json=as_json)
        reg, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            try:
                records.record_correction(
                    db, reg, person_id, changes, records.Filing(operator().username, reason)
                )
            except ValueError as exc:
                fail(f"{exc}", as_json=as_json)
        emit(
            as_json,
            {"ok": True, "person_id": person_id, "changed": sorted(changes)},
            f"corrected {', '.join(sorted(changes))} of person {person_id}",
        )

    @app.command("protect")
    def protect_cmd(
        person_id: int,
        reason: Annotated[str, typer.Option(help="dv, stalking or abuse")] = "dv",
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Start a support measure (支援措置) for a person and their household: their address is withheld."""
        reg, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            ids = records.set_support_measure(db, reg, person_id, reason, operator().username)
        emit(as_json, {"ok": True, "person_ids": ids}, f"support measure in force for {len(ids)} person(s)")

    @app.command("import")
    def import_cmd(file: Path, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Import residents from CSV (all-or-nothing; the same file twice does nothing)."""
        if not file.is_file():
            fail(f"No such file: {file}", as_json=as_json)
        data = file.read_bytes()
        reg, factory = _open(data_dir)
        lines = max(0, data.count(b"\n") - 1)
        with (
            domain_errors(as_json),
            progress("import", lines, enabled=not as_json) as tick,
            unit_of_work(factory) as db,
        ):
            result = exchange.import_csv(db, reg, operator(*ALL), data, progress=tick)
        emit(
            as_json,
            {"ok": True, **dataclasses.asdict(result)},
            "already imported (same SHA-256); nothing changed"
            if result.already_imported
            else f"imported {result.persons} person(s) in {result.households} household(s)",
        )

    @app.command("export")
    def export_cmd(
        file: Annotated[Path, typer.Argument(help="Output CSV file, or - for standard output")],
        include_former: bool = False,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Export residents as CSV (never the My Number)."""
        factory = _open(data_dir)[1]
        with unit_of_work(factory) as db:
            total = db.scalar(select(func.count()).select_from(Person)) or 0
            show_bar = not as_json and str(file) != "-"
            with progress("export", total, enabled=show_bar) as tick:
                if str(file) == "-":
                    n = exchange.export_csv(db, operator(*ALL), sys.stdout, include_former=include_former)
                else:
                    with file.open("w", encoding="utf-8", newline="") as out:
                        n = exchange.export_csv(
                            db, operator(*ALL), out, include_former=include_former, progress=tick
                        )
        if str(file) != "-":
            emit(as_json, {"ok": True, "rows": n, "file": str(file)}, f"exported {n} row(s) to {file}")

    @app.command("verify")
    def verify_cmd(data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Replay every person's history and check it equals the current state."""
        factory = _open(data_dir)[1]
        with unit_of_work(factory) as db:
            total = db.scalar(select(func.count()).select_from(Person)) or 0
            with progress("verify", total, enabled=not as_json) as tick:
                report = verify.replay_all(db, progress=tick)
        emit(
            as_json,
            {"ok": not report.mismatches, **dataclasses.asdict(report)},
            f"checked {report.checked} person(s); mismatches: {len(report.mismatches)}",
        )
        if report.mismatches:
            raise typer.Exit(1)

    return app
