"""``tsunagu payments run|results|reconcile``: payment runs, bank result files and reconciliation from the command
line. Progress goes to stderr; errors exit non-zero with the reason."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, err, fail, settings_for
from tsunagu.payments import sources
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.core.runspec import RunSpec
from tsunagu.payments.services import reconcile as reconciliation
from tsunagu.payments.services import results, runs
from tsunagu.payments.services.runs import value_date
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
Period = Annotated[
    str | None, typer.Option("--period", help="The period (YYYY-MM or 'once'; default: the next).")
]
MAX_RESULT_BYTES = 512 * 1024 * 1024


ContextFor = Callable[[Settings], PaymentsContext]  # built by the shell (the hub needs the trust services)


def _spec(programme_id: str, record_limit: int | None) -> RunSpec:
    spec = sources.programme(programme_id).run_spec()
    if record_limit is None:
        return spec
    return RunSpec(
        spec.programme_id,
        spec.agency,
        spec.remitter,
        spec.name_ja,
        spec.name_en,
        record_limit=record_limit,
        lead_days=spec.lead_days,
    )


def _progress(enabled: bool) -> runs.Progress | None:
    if not enabled:
        return None

    def show(stage: str, done: int, total: int | None) -> None:
        of = f" of {total:,}" if total is not None else ""
        err.print(f"{stage}: {done:,}{of}", highlight=False)

    return show


def add_run_commands(app: typer.Typer, context_for: ContextFor) -> None:
    def _context(data_dir: Path | None) -> PaymentsContext:
        return context_for(settings_for(data_dir))

    @app.command("run")
    def run_cmd(
        programme: Annotated[str, typer.Argument(help="The programme id (data/programmes/<id>.toml).")],
        period: Period = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Directory for the Zengin files (default: the data directory's zengin folder)."
            ),
        ] = None,
        date: Annotated[
            str | None, typer.Option("--date", help="振込指定日 YYYY-MM-DD (a bank business day).")
        ] = None,
        record_limit: Annotated[
            int | None, typer.Option("--record-limit", help="Data records per file.")
        ] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Instruct every payable entitlement of the period and write the Zengin files (resumes an unfinished run)."""
        with domain_errors(as_json):
            ctx = _context(data_dir)
            out = out or Path(ctx.settings.data_dir) / "zengin"  # where the staff pages find them too
            found = sources.programme(programme)
            try:
                spec = _spec(programme, record_limit)
                the_period = found.check_period(period or found.default_period(ctx.clock.today()))
                wanted = dt.date.fromisoformat(date) if date else _scheduled(found, the_period, spec, ctx)
            except ValueError as exc:
                fail(str(exc), 2, as_json=as_json, error_code="invalid-input")
            report = runs.run(
                ctx.platform.uow,
                ctx,
                spec,
                the_period,
                out_dir=out,
                transfer_date=wanted,
                started_by="cli",
                progress=_progress(not as_json),
            )
        lines = [
            f"{report.programme_id} {report.period} attempt {report.attempt} (run {report.run_id}): {report.state}, "
            f"{report.instructions:,} transfers, {report.total:,} yen, 振込指定日 {report.transfer_date}"
            + (" (resumed)" if report.resumed else "")
        ]
        lines += [
            f"  {out / f.name}: {f.records:,} records, {f.total:,} yen, sha256 {f.sha256}"
            for f in report.files
        ]
        emit(as_json, report.as_dict() | {"out": str(out)}, "\n".join(lines))

    @app.command("results")
    def results_cmd(
        file: Annotated[Path, typer.Argument(help="The bank's result file (tsunagu's mirror convention).")],
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Import a bank result file: paid and failed transfers, notices to the payees of failed ones."""
        if not file.is_file():
            fail(f"{file}: no such file", 2, as_json=as_json, error_code="not-found")
        if file.stat().st_size > MAX_RESULT_BYTES:
            fail(
                f"{file}: larger than {MAX_RESULT_BYTES // 2**20} MiB",
                2,
                as_json=as_json,
                error_code="too-large",
            )
        data = file.read_bytes()
        with domain_errors(as_json):
            ctx = _context(data_dir)
            with ctx.platform.uow() as db:
                got = results.import_results(
                    db,
                    ctx,
                    data,
                    name=file.name,
                    imported_by="cli",
                    spec_for=lambda pid: sources.programme(pid).run_spec(),
                )
        head = f"{file}: run {got.run_id} ({got.programme_id} {got.period} attempt {got.attempt}): "
        if got.already_imported:
            head += "already imported, nothing changed; "
        lines = [head + f"{got.paid:,} paid, {got.failed:,} failed"]
        lines += [f"  transfer {f['instruction']}: {f['code']} {f['reason']}" for f in got.failures]
        emit(as_json, got.as_dict(), "\n".join(lines))

    @app.command("reconcile")
    def reconcile_cmd(
        programme: Annotated[str, typer.Argument(help="The programme id.")],
        period: Period = None,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV (UTF-8 with BOM) on stdout.")] = False,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Instructed, paid, failed and outstanding per run and file, and who has no transfer and why."""
        with domain_errors(as_json):
            ctx = _context(data_dir)
            found = sources.programme(programme)
            the_period = period or found.default_period(ctx.clock.today())
            with ctx.platform.uow() as db:
                report = reconciliation.reconcile(db, programme, the_period, today=ctx.clock.today())
        if as_csv:
            sys.stdout.buffer.write(report.csv())
            sys.stdout.flush()
            return
        emit(as_json, report.as_dict(), report.text())


def _scheduled(found: Programme, period: str, spec: RunSpec, ctx: PaymentsContext) -> dt.date | None:
    """The programme's own transfer date when it can still be met; else the earliest possible one."""
    wanted = found.transfer_date(period)
    earliest = value_date(ctx.clock.today(), spec, None)
    if wanted < earliest:
        err.print(
            f"note: the scheduled date {wanted} has passed or is too soon; using {earliest}", highlight=False
        )
        return None
    return wanted
