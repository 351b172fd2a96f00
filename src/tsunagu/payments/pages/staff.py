"""Staff pages of benefit payments (給付担当, permission ``payments:run:manage``):

- ``GET /staff/payments``: the programmes, and for each its next period with the entitlements per state;
- ``GET /staff/payments/{programme}/{period}``: one programme and period: the entitlements per state, the steps in
  order (対象者の確定 → 口座照会とお知らせ → 振込データ作成 → 結果の取込 → 再振込), the runs with their Zengin files
  (downloadable) and the reconciliation (also as CSV);
- ``POST …/entitle``, ``…/notify``, ``…/run`` (with the 振込指定日), ``…/retry``: each step, idempotent (a second
  press resumes or changes nothing), audited, then back to the page (POST-redirect-GET);
- ``POST /staff/payments/results``: upload a bank result file: all or nothing; refused files say why;
- ``GET /staff/payments/files/{id}``: a written Zengin file, from the data directory's ``zengin`` folder.

The steps run in the request: fine for a municipality's demo sizes; a city-wide run belongs to the CLI (``tsunagu
payments run``), which shows progress."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.models import Entitlement, File, Run
from tsunagu.payments.pages.common import agency_names, payments_context_of
from tsunagu.payments.services import entitlements, lookups, notify, results, runs
from tsunagu.payments.services import reconcile as reconciliation
from tsunagu.payments.sources import programme as programme_of
from tsunagu.payments.sources import programmes
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import render

MANAGE = [guard(Access.staff(Permission.PAYMENTS_RUN_MANAGE))]
PREFIX = "/staff/payments"
MAX_RESULT_BYTES = 64 * 1024 * 1024
STEPS = ("entitle", "notify", "run", "retry")
DONE = {"entitle", "notify", "run", "retry", "results"}


def out_dir(pctx: PaymentsContext) -> Path:
    """Where the web's runs write their Zengin files (and where downloads are read from)."""
    return Path(pctx.settings.data_dir) / "zengin"


def _programme(pid: str, period: str) -> tuple[Programme, str]:
    found = programme_of(pid)
    try:
        return found, found.check_period(period)
    except ValueError as exc:
        raise NotFound(str(exc), ja=f"{pid} にその期間（{period}）はありません。") from exc


def _counts(db: Any, pid: str, period: str) -> dict[str, tuple[int, int]]:
    rows = db.execute(
        select(Entitlement.state, func.count(), func.coalesce(func.sum(Entitlement.amount), 0))
        .where(Entitlement.programme_id == pid, Entitlement.period == period)
        .group_by(Entitlement.state)
    ).all()
    return {state: (int(n), int(yen)) for state, n, yen in rows}


def router() -> APIRouter:  # noqa: PLR0915 - one closure per route, as the other page modules
    r = APIRouter(prefix=PREFIX, include_in_schema=False)

    @r.get("", dependencies=MANAGE)
    async def programmes_page(request: Request) -> Response:
        pctx = payments_context_of(request)
        today = pctx.clock.today()
        rows = []
        with ctx_of(request).uow() as db:
            for p in programmes().values():
                period = p.default_period(today)
                rows.append({"p": p, "period": period, "counts": _counts(db, p.id, period)})
        return render(request, "payments/staff_programmes.html", rows=rows, agencies=agency_names())

    @r.get("/files/{file_id}", dependencies=MANAGE)
    async def file_download(request: Request, file_id: int) -> Response:
        pctx, me = payments_context_of(request), staff_principal(request)
        with ctx_of(request).uow() as db:
            row = db.get(File, file_id)
            if row is None:
                raise NotFound(f"No Zengin file {file_id}.", ja=f"振込データ {file_id} はありません。")
            path = out_dir(pctx) / row.name
            if not path.is_file():
                raise NotFound(
                    f"{row.name} is not in the data directory's zengin folder (written by the CLI elsewhere?).",
                    ja=f"{row.name} はデータディレクトリの zengin フォルダにありません"
                    "（CLI で別の場所に書き出しましたか）。",
                )
            data = path.read_bytes()
            audit.record(
                db, me.username, audit.AuditAction.PAYMENTS_FILE_DOWNLOADED, f"file:{row.id}", name=row.name
            )
        return Response(
            data,
            media_type="text/plain; charset=Shift_JIS",
            headers={
                "Content-Disposition": f'attachment; filename="{row.name}"',
                "Cache-Control": "no-store",
            },
        )

    @r.post("/results", dependencies=MANAGE)
    async def results_upload(request: Request) -> Response:
        pctx, me = payments_context_of(request), staff_principal(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(
                "Choose the bank's result file.", ja="金融機関の結果ファイルを選んでください。", field="file"
            )
        data = await upload.read(MAX_RESULT_BYTES + 1)
        if len(data) > MAX_RESULT_BYTES:
            raise InvalidInput("The file is too large.", ja="ファイルが大きすぎます。", field="file")
        name = Path(upload.filename).name[:200]

        def work() -> results.ImportReport:
            with ctx_of(request).uow() as db:
                report = results.import_results(
                    db,
                    pctx,
                    data,
                    name=name,
                    imported_by=f"staff:{me.username}"[:64],
                    spec_for=lambda pid: programme_of(pid).run_spec(),
                )
                audit.record(
                    db,
                    me.username,
                    audit.AuditAction.PAYMENTS_RESULTS_IMPORTED,
                    f"run:{report.run_id}",
                    name=name,
                    paid=report.paid,
                    failed=report.failed,
                    again=report.already_imported,
                )
                return report

        report = await run_in_threadpool(work)
        return RedirectResponse(
            f"{PREFIX}/{report.programme_id}/{report.period}?done=results&paid={report.paid}&failed={report.failed}",
            status_code=303,
        )

    @r.get("/{pid}/{period}", dependencies=MANAGE)
    async def programme_page(
        request: Request, pid: str, period: str, done: str = "", paid: int = 0, failed: int = 0
    ) -> Response:
        pctx = payments_context_of(request)
        found, period = _programme(pid, period)
        today = pctx.clock.today()
        with ctx_of(request).uow() as db:
            counts = _counts(db, pid, period)
            report = reconciliation.reconcile(db, pid, period, today=today)
            files = {
                f.name: f
                for f in db.scalars(
                    select(File)
                    .join(Run, Run.id == File.run_id)
                    .where(Run.programme_id == pid, Run.period == period)
                )
            }
        return render(
            request,
            "payments/staff_programme.html",
            p=found,
            period=period,
            counts=counts,
            report=report,
            files=files,
            scheduled=_scheduled(found, period, today),
            agencies=agency_names(),
            done=done if done in DONE else "",
            paid=paid,
            failed=failed,
        )

    @r.get("/{pid}/{period}/reconciliation.csv", dependencies=MANAGE)
    async def reconciliation_csv(request: Request, pid: str, period: str) -> Response:
        pctx = payments_context_of(request)
        _programme(pid, period)
        with ctx_of(request).uow() as db:
            body = reconciliation.reconcile(db, pid, period, today=pctx.clock.today()).csv()
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="reconciliation-{pid}-{period}.csv"'},
        )

    @r.post("/{pid}/{period}/{step}", dependencies=MANAGE)
    async def step(request: Request, pid: str, period: str, step: str) -> Response:
        pctx, me = payments_context_of(request), staff_principal(request)
        if step not in STEPS:
            raise NotFound(f"No step {step}.", ja=f"{step} という処理はありません。")
        found, period = _programme(pid, period)
        form = await request.form()
        wanted = _date(str(form.get("transfer_date", "")))
        uow = ctx_of(request).uow
        by = f"staff:{me.username}"[:64]

        def work() -> dict[str, Any]:
            if step == "entitle":
                return vars(entitlements.entitle(uow, pctx, found, period))
            if step == "notify":  # the push-type notice names the account: look it up through the hub first
                looked = lookups.lookup(uow, pctx, found, period)
                told = notify.notify(uow, pctx, found, period)
                return {"asked": looked.asked, "found": looked.found} | told.as_dict()
            spec = found.run_spec()
            go = runs.run if step == "run" else runs.retry
            return go(
                uow, pctx, spec, period, out_dir=out_dir(pctx), transfer_date=wanted, started_by=by
            ).as_dict()

        outcome = await run_in_threadpool(work)
        with ctx_of(request).uow() as db:
            audit.record(
                db,
                me.username,
                audit.AuditAction.PAYMENTS_STAFF_STEP,
                f"programme:{pid}:{period}",
                step=step,
                **{k: v for k, v in outcome.items() if isinstance(v, int | str)},
            )
        return RedirectResponse(f"{PREFIX}/{pid}/{period}?done={step}", status_code=303)

    return r


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            "The transfer date must be a date (YYYY-MM-DD).",
            ja="振込指定日は日付（YYYY-MM-DD）で入力してください。",
            field="transfer_date",
        ) from exc


def _scheduled(p: Programme, period: str, today: dt.date) -> dt.date:
    """The date the run form proposes: the programme's rule, or the earliest the run allows."""
    try:
        return max(p.transfer_date(period), runs.value_date(today, p.run_spec(), None))
    except ValueError:
        return runs.value_date(today, p.run_spec(), None)
