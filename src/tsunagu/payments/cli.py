"""``tsunagu zengin``: Zengin bank files from the command line (no database needed); ``tsunagu payments``: payment
runs, bank result files and reconciliation (:mod:`tsunagu.payments.cli_runs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import emit, fail
from tsunagu.payments.cli_accounts import add_account_commands
from tsunagu.payments.cli_benefits import add_benefit_commands
from tsunagu.payments.cli_runs import ContextFor, add_run_commands
from tsunagu.payments.core import zengin

AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
MAX_FILE_BYTES = 512 * 1024 * 1024


def build() -> typer.Typer:
    app = typer.Typer(help="Zengin (全銀協) bank files: 総合振込.", no_args_is_help=True)

    @app.command("validate")
    def validate_cmd(
        file: Annotated[Path, typer.Argument(help="A 総合振込 file (cp932, 120-byte records).")],
        newline: Annotated[
            str, typer.Option(help="The record separator the bank takes: CRLF, CR, LF, NONE or ANY.")
        ] = "CRLF",
        as_json: AsJson = False,
    ) -> None:
        """Check a 総合振込 file record by record; exit 1 with every reason when it is invalid."""
        if newline not in (*zengin.NEWLINES, "ANY"):
            fail(f"--newline must be one of CRLF, CR, LF, NONE, ANY (got {newline})", 2, as_json=as_json)
        if not file.is_file():
            fail(f"{file}: no such file", 2, as_json=as_json, error_code="not-found")
        if file.stat().st_size > MAX_FILE_BYTES:
            fail(
                f"{file}: larger than {MAX_FILE_BYTES // 2**20} MiB",
                2,
                as_json=as_json,
                error_code="too-large",
            )
        parsed = zengin.parse(file.read_bytes())
        problems = zengin.validate(parsed, newline=None if newline == "ANY" else newline)
        data = parsed.of(zengin.Kind.DATA)
        total = sum(int(r.value("amount")) for r in data if r.value("amount").isdigit())
        summary = {
            "ok": not problems,
            "file": str(file),
            "records": len(parsed.records),
            "transfers": len(data),
            "total": total,
            "separator": parsed.separator,
            "problems": [p.as_dict() for p in problems],
        }
        lines = [
            f"{file}: {len(parsed.records)} records, {len(data)} transfers, {total:,} yen ({parsed.separator})"
        ]
        lines += [f"  record {p.record} {p.field}: {p.en} / {p.ja}" for p in problems]
        lines.append("valid" if not problems else f"INVALID: {len(problems)} problem(s)")
        emit(as_json, summary, "\n".join(lines))
        if problems:
            raise typer.Exit(1)

    return app


def build_payments(context_for: ContextFor) -> typer.Typer:
    """``tsunagu payments``: benefit payments (runs, result files, reconciliation)."""
    app = typer.Typer(
        help="Benefit payments: runs, Zengin files, bank results, reconciliation.", no_args_is_help=True
    )
    add_run_commands(app, context_for)
    add_benefit_commands(app, context_for)
    add_account_commands(app, context_for)
    return app
