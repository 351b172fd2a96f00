"""``tsunagu payments accounts revalidate`` and ``tsunagu payments bank-staff add``: the account registry from the
command line. Progress goes to stderr; errors exit non-zero with the reason and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, err, fail, settings_for
from tsunagu.payments import master as zmaster
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.services import account_revalidation, bank_staff
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
MasterDir = Annotated[
    Path | None,
    typer.Option(
        "--master",
        help="A zengin-code source-data directory (banks.json, branches/, updated_at). Default: the configured "
        "master (TSUNAGU_PAYMENTS_MASTER_DIR) or the installed zengin-code package's.",
    ),
]
ContextFor = Callable[[Settings], PaymentsContext]


def _master(ctx: PaymentsContext, directory: Path | None, as_json: bool) -> zmaster.Master:
    try:
        return zmaster.load(directory) if directory is not None else ctx.master()
    except zmaster.MasterMissing as exc:
        fail(str(exc), 2, as_json=as_json, error_code="not-found")


def add_account_commands(app: typer.Typer, context_for: ContextFor) -> None:
    """Add ``accounts`` and ``bank-staff`` to the ``tsunagu payments`` group."""
    accounts_app = typer.Typer(
        help="The public-fund account registry (公的給付支給等口座登録簿).", no_args_is_help=True
    )
    staff_app = typer.Typer(help="Bank-counter staff and the bank each registers for.", no_args_is_help=True)
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(staff_app, name="bank-staff")

    @accounts_app.command("revalidate")
    def revalidate_cmd(master: MasterDir = None, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Invalidate every registration whose bank or branch is not in the master (after a merger or a branch
        closure), drop it from the hub copy and notify its owner. Running it again changes nothing."""
        with domain_errors(as_json):
            ctx = context_for(settings_for(data_dir))
            found = _master(ctx, master, as_json)

            def show(done: int, total: int) -> None:
                if not as_json:
                    err.print(f"invalidated {done:,} of {total:,}", highlight=False)

            with ctx.platform.uow() as db:
                result = account_revalidation.revalidate(db, ctx, found, progress=show)
        emit(
            as_json,
            {
                "ok": True,
                "master_version": result.master_version,
                "checked": result.checked,
                "invalidated": result.invalidated,
                "renamed": result.renamed,
            },
            f"master {result.master_version}: {result.invalidated:,} registration(s) invalidated, "
            f"{result.renamed:,} renamed",
        )

    @staff_app.command("add")
    def add_staff_cmd(
        username: Annotated[str, typer.Argument(help="A staff account with the bank_counter role.")],
        bank_code: Annotated[str, typer.Argument(help="The bank it registers for (4-digit 金融機関コード).")],
        master: MasterDir = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Let a bank-counter staff account register accounts held with BANK_CODE (replaces its bank if set)."""
        with domain_errors(as_json):
            ctx = context_for(settings_for(data_dir))
            found = _master(ctx, master, as_json)
            with ctx.platform.uow() as db:
                row = bank_staff.set_bank(db, found, username, bank_code)
                bank = found.bank(row.bank_code)
                name = bank.name if bank else ""
        emit(
            as_json,
            {"ok": True, "username": username, "bank_code": bank_code, "bank_name": name},
            f"{username} registers accounts held with {name} ({bank_code})",
        )
