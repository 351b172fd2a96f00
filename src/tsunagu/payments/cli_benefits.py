"""``tsunagu payments programmes|entitle|lookup|notify``: benefit programmes, entitlements from the roll, account
lookups through the hub and the push-type notices. Progress goes to stderr; errors exit non-zero with the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, err, fail, settings_for
from tsunagu.payments import sources
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.services import entitlements, lookups, notify
from tsunagu.settings import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
Period = Annotated[
    str | None, typer.Option("--period", help="The period (YYYY-MM or 'once'; default: the next).")
]
ProgrammeId = Annotated[str, typer.Argument(help="The programme id (data/programmes/<id>.toml).")]
ContextFor = Callable[[Settings], PaymentsContext]


def _describe(p: Programme) -> dict[str, Any]:
    return {
        "id": p.id,
        "name_ja": p.name_ja,
        "name_en": p.name_en,
        "agency": p.agency,
        "business": p.business,
        "legal_basis": p.legal_basis_ja,
        "kind": p.kind.value,
        "payee": p.payee.value,
        "schedule": p.schedule.value,
        "notice_days": p.notice_days,
        "flat_amount": p.flat_amount or None,
        "reference_date": p.reference_date.isoformat() if p.reference_date else None,
        "remitter": {"code": p.remitter.code, "name_kana": p.remitter.name_kana},
        "remitting_banks": [b.bank_code for b in p.remitter.banks],
        "record_limit": p.record_limit,
        "unverified": [f.key for f in p.facts if not f.verified],
    }


def _progress(stage: str) -> Callable[[int], None]:
    def show(done: int) -> None:
        err.print(f"{stage}: {done:,}", highlight=False)

    return show


def add_benefit_commands(app: typer.Typer, context_for: ContextFor) -> None:
    def _setup(
        data_dir: Path | None, programme_id: str, period: str | None, as_json: bool
    ) -> tuple[PaymentsContext, Programme, str]:
        ctx = context_for(settings_for(data_dir))
        found = sources.programme(programme_id)
        try:
            the_period = found.check_period(period or found.default_period(ctx.clock.today()))
        except ValueError as exc:
            fail(str(exc), 2, as_json=as_json, error_code="invalid-input")
        return ctx, found, the_period

    @app.command("programmes")
    def programmes_cmd(as_json: AsJson = False) -> None:
        """List the benefit programmes (data/programmes/*.toml)."""
        found = sources.programmes()
        lines = [
            f"{p.id}: {p.name_ja} / {p.name_en} ({p.kind}, paid to {p.payee}, {p.schedule}; {p.agency} "
            f"under {p.business})"
            for p in found.values()
        ]
        emit(as_json, {"programmes": [_describe(p) for p in found.values()]}, "\n".join(lines))

    @app.command("entitle")
    def entitle_cmd(
        programme: ProgrammeId, period: Period = None, data_dir: DataDir = None, as_json: AsJson = False
    ) -> None:
        """Compute the entitlements of a period from the roll and store them (idempotent; resumes)."""
        with domain_errors(as_json):
            ctx, found, the_period = _setup(data_dir, programme, period, as_json)
            done = entitlements.entitle(
                ctx.platform.uow, ctx, found, the_period, progress=_progress("roll rows read")
            )
        emit(
            as_json,
            done.as_dict(),
            f"{done.programme} {done.period}: {done.roll:,} on the roll of {done.on}, {done.computed:,} "
            f"entitled ({done.inserted:,} new), {done.total:,} yen",
        )

    @app.command("lookup")
    def lookup_cmd(
        programme: ProgrammeId, period: Period = None, data_dir: DataDir = None, as_json: AsJson = False
    ) -> None:
        """Look up the payees' public-fund accounts through the hub (the ones never asked, or changed since)."""
        with domain_errors(as_json):
            ctx, found, the_period = _setup(data_dir, programme, period, as_json)
            done = lookups.lookup(
                ctx.platform.uow, ctx, found, the_period, progress=_progress("payees asked")
            )
        emit(as_json, done.as_dict(), _looked(done))

    @app.command("notify")
    def notify_cmd(
        programme: ProgrammeId,
        period: Period = None,
        lookup: Annotated[bool, typer.Option(help="Look the accounts up first.")] = True,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Look the accounts up, then send the push-type notices due (idempotent)."""
        with domain_errors(as_json):
            ctx, found, the_period = _setup(data_dir, programme, period, as_json)
            looked = (
                lookups.lookup(ctx.platform.uow, ctx, found, the_period, progress=_progress("payees asked"))
                if lookup
                else None
            )
            told = notify.notify(ctx.platform.uow, ctx, found, the_period, progress=_progress("payees told"))
        data = {**told.as_dict(), "lookup": looked.as_dict() if looked else None}
        lines = [_looked(looked)] if looked else []
        lines.append(
            f"{told.programme} {told.period}: {told.notified:,} payees told where they will be paid, "
            f"{told.invited:,} invited to register an account ({told.entitlements:,} entitlements)"
        )
        emit(as_json, data, "\n".join(lines))


def _looked(done: lookups.Looked) -> str:
    refused = ", ".join(f"{k} {v}" for k, v in done.refused.items()) or "none"
    return (
        f"{done.programme} {done.period}: {done.asked:,} payees asked, {done.found:,} accounts found, "
        f"{done.not_registered:,} not registered, refused: {refused} ({done.rate:,.0f}/s)"
    )
