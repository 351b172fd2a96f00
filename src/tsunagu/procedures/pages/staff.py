"""Staff pages of the back office: each office's queue, an application's detail with its decisions, the one-stops'
dead letters and the service figures.

- ``GET /staff/procedures``: the queue of an office the staff member works (a switcher when several), filtered by
  state, procedure and 期限超過, with the counts per state. Subjects are shown by name only.
- ``GET /staff/procedures/{id}``: everything filed, what the government filled in (and through which exchanges),
  the signature, the history, the one-stop it belongs to, and the actions its workflow allows now;
  ``POST /staff/procedures/{id}/{action}`` (review, correction, approve, reject, complete), then back to the page
  (POST-redirect-GET). Completing a 転入予約 first checks a mover's card at the counter: the PIN refusal is
  committed (the chip's failure counter) before it is shown.
- ``GET /staff/procedures/outbox`` with ``POST /staff/procedures/outbox/{row}/retry``.
- ``GET /staff/procedures/metrics``.

Every action is audited by the services; the pages only open the units of work."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity import api as identity
from tsunagu.kernel.access import Access, Permission, Principal
from tsunagu.kernel.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import Completion, State
from tsunagu.procedures.models import Application
from tsunagu.procedures.pages import views
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import backoffice, bundles, outbox
from tsunagu.procedures.services import metrics as service_metrics
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

PROCESS = [guard(Access.staff(Permission.PROCEDURES_APPLICATION_PROCESS))]
OUTBOX = [guard(Access.staff(Permission.PROCEDURES_OUTBOX_MANAGE))]
METRICS = [guard(Access.staff(Permission.PROCEDURES_METRICS_READ))]
PIN = re.compile(r"^[0-9]{4}$")
ACTIONS: dict[str, State] = {
    "review": State.IN_REVIEW,
    "correction": State.CORRECTION_REQUESTED,
    "approve": State.APPROVED,
    "reject": State.REJECTED,
    "complete": State.COMPLETED,
}


def pctx_of(request: Request) -> ProceduresContext:
    pctx = ctx_of(request).extras["procedures"]
    if not isinstance(pctx, ProceduresContext):  # pragma: no cover - wired by the shell
        raise TypeError("the app has no procedures context")
    return pctx


def router() -> APIRouter:
    r = APIRouter(prefix="/staff/procedures", include_in_schema=False)

    @r.get("", dependencies=PROCESS)
    async def queue_page(
        request: Request, office: str = "", state: str = "", procedure: str = "", overdue: str = ""
    ) -> Response:
        ctx, pctx, me = ctx_of(request), pctx_of(request), staff_principal(request)
        today = pctx.clock.today()
        with ctx.uow() as db:
            offices = backoffice.offices_of(db, me.username)
            if not offices:
                return render(request, "procedures/staff_queue.html", offices=[], **views.queue_empty())
            chosen = office or offices[0]
            if chosen not in offices:
                raise Forbidden("You do not work this office's queue.", ja="この窓口の担当ではありません。")
            f = backoffice.QueueFilter(
                chosen, views.known_state(state), views.known_procedure(procedure), overdue == "1"
            )
            rows = views.queue_rows(db, backoffice.queue(db, f, today), today)
            counts = backoffice.counts(db, chosen)
        return render(
            request,
            "procedures/staff_queue.html",
            offices=views.office_choices(offices, language(request)),
            office=chosen,
            filters=f,
            rows=rows,
            counts=views.count_rows(counts),
            states=views.QUEUE_STATES,
            procedures=views.procedure_choices(language(request)),
        )

    @r.get("/outbox", dependencies=OUTBOX)
    async def outbox_page(request: Request, done: str = "") -> Response:
        with ctx_of(request).uow() as db:
            dead = outbox.dead_letters(db)
            pending = outbox.pending_count(db)
        return render(
            request,
            "procedures/staff_outbox.html",
            dead=[views.dead_row(row, language(request)) for row in dead],
            pending=pending,
            done=done,
        )

    @r.post("/outbox/{row_id}/retry", dependencies=OUTBOX)
    async def retry(request: Request, row_id: int) -> Response:
        me = staff_principal(request)
        with ctx_of(request).uow() as db:
            retried = outbox.retry(db, pctx_of(request), row_id, backoffice.staff_actor(me))
        return RedirectResponse(
            f"/staff/procedures/outbox?done={'retried' if retried else 'unchanged'}", status_code=303
        )

    @r.get("/metrics", dependencies=METRICS)
    async def metrics_page(request: Request) -> Response:
        with ctx_of(request).uow() as db:
            figures = service_metrics.metrics(db)
        return render(request, "procedures/staff_metrics.html", figures=figures)

    @r.get("/{app_id}", dependencies=PROCESS)
    async def detail(request: Request, app_id: int, done: str = "") -> Response:
        return _detail_page(request, app_id, done=done)

    @r.post("/{app_id}/{action}", dependencies=PROCESS)
    async def act(request: Request, app_id: int, action: str) -> Response:
        target = ACTIONS.get(action)
        if target is None:
            raise NotFound(f"Unknown action {action!r}.", ja="その操作はありません。")
        data = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
        try:
            _do(request, app_id, action, data)
        except DomainError as exc:
            if not _already(request, app_id, target, exc):
                status = 409 if isinstance(exc, Conflict) else 422
                return _detail_page(request, app_id, error=exc, action=action, data=data, status=status)
        return RedirectResponse(f"/staff/procedures/{app_id}?done={action}", status_code=303)

    return r


def _do(request: Request, app_id: int, action: str, data: dict[str, str]) -> None:
    ctx, pctx, me = ctx_of(request), pctx_of(request), staff_principal(request)
    if action == "complete":
        checked = _card_check(request, app_id, data.get("pin", ""))
        with ctx.uow() as db:
            backoffice.complete(db, pctx, me, app_id, checked_person=checked)
        return
    with ctx.uow() as db:
        if action == "review":
            backoffice.start_review(db, pctx, me, app_id)
        elif action == "correction":
            backoffice.request_correction(db, pctx, me, app_id, data.get("reason", ""))
        elif action == "approve":
            backoffice.approve(db, pctx, me, app_id)
        else:
            backoffice.reject(db, pctx, me, app_id, data.get("reason", ""))


def _workable(db: Any, me: Principal, app_id: int) -> Application:
    """The application, if it is in a queue ``me`` works (no audit: the action itself is audited)."""
    app = db.get(Application, app_id)
    if app is None or app.state == State.DRAFT.value:
        raise NotFound("No such application.", ja="該当する申請はありません。")
    if app.agency not in backoffice.offices_of(db, me.username):
        raise Forbidden(
            "This application belongs to another office's queue.", ja="この申請は、担当外の窓口のものです。"
        )
    return app  # type: ignore[no-any-return]


def _card_check(request: Request, app_id: int, pin: str) -> int | None:
    """For a completion that records a 転入: the card of a person moving in, checked with its PIN at the counter.
    A refused PIN was written by the chip: its unit of work commits, then the refusal is raised."""
    ctx, pctx, me = ctx_of(request), pctx_of(request), staff_principal(request)
    with ctx.uow() as db:
        app = _workable(db, me, app_id)
        if apps.procedure_of(app.procedure_id).completion is not Completion.MOVE_IN:
            return None
        if not PIN.match(pin):
            raise InvalidInput(
                "Have the person type the 4-digit PIN of their card.",
                ja="カードの暗証番号（数字4桁）を本人に入力してもらってください。",
                field="pin",
            )
        bundle = bundles.bundle_of_id(db, app.bundle_id) if app.bundle_id else None
        movers = [int(i) for i in (bundle.inputs.get("mover_ids") or [])] if bundle else []
    refusal: DomainError | None = None
    checked: int | None = None
    with ctx.uow() as db:
        try:
            checked = backoffice.card_check(db, pctx, movers, pin)
        except identity.PIN_REFUSALS as exc:
            refusal = exc  # committed with the chip's failure count when this block ends
    if refusal is not None:
        raise refusal
    return checked


def _already(request: Request, app_id: int, target: State, exc: DomainError) -> bool:
    """A form sent twice: the second send finds the application already where the first one put it."""
    if not isinstance(exc, Conflict):
        return False
    with ctx_of(request).uow() as db:
        app = _workable(db, staff_principal(request), app_id)
        return app.state == target.value


def _detail_page(
    request: Request,
    app_id: int,
    *,
    done: str = "",
    error: DomainError | None = None,
    action: str = "",
    data: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx, pctx, me = ctx_of(request), pctx_of(request), staff_principal(request)
    lang = language(request)
    with ctx.uow() as db:
        app = backoffice.application(db, me, app_id)
        page = views.detail(db, pctx, app, me.username, lang)
    return render(
        request,
        "procedures/staff_detail.html",
        status_code=status if error else 200,
        done=done if done in ACTIONS else "",
        error=error.message(lang) if error else None,
        error_field=error.field if error else None,
        error_action=action,
        data=data or {},
        **page,
    )
