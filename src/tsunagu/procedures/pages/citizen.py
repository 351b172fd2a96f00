"""The citizen's side of procedures: find (by life event or keyword), start (pre-filled through the hub), save a
draft, confirm, sign with the card where required, submit, follow the status, withdraw; life-event one-stops.

- ``GET /procedures`` (public): life events and keyword search, in ja/en. ``GET /procedures/{id}``: one procedure.
- ``POST /my/applications`` starts a draft; ``/my/applications/{id}/edit`` (GET form, POST save or confirm),
  ``/my/applications/{id}/confirm`` (GET), ``/my/applications/{id}/submit`` (POST, the signature PIN where
  required), ``/my/applications/{id}`` (status), ``…/withdraw``, ``…/receipt``, ``…/document``.
- ``/my/bundles/{id}/cancel`` cancels a one-stop; ``/my/life-events/bereavement`` files おくやみ.

A signature is made by the demo card reader (the server plays the reader: the chip checks the PIN, and a refusal
is committed before it is shown), then checked like any client's signature."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.identity import api as identity
from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.kernel.errors import DomainError, NotFound
from tsunagu.linkage import api as linkage
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import WITHDRAWABLE, Assurance, Procedure, State
from tsunagu.procedures.models import Application
from tsunagu.procedures.pages import views
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import bundles, filing, outbox, prefill, signatures
from tsunagu.procedures.sources import catalogue, life_events
from tsunagu.registry import api as registry
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.templating import language, render

PUBLIC = [guard(Access.public())]
CITIZEN = [guard(Access.citizen())]
EVENT_START = {"moving": "tenshutsu", "birth": "shussei-todoke"}
SECTION = {
    "href": "/my/applications",
    "title": "申請・届出",
    "description": "オンラインで出した申請・届出の状況、引越し・出生・おくやみのワンストップ",
    "title_en": "Applications",
    "description_en": "Your online applications and their status; moving, birth and bereavement one-stops",
}


def pctx_of(request: Request) -> ProceduresContext:
    pctx = ctx_of(request).extras["procedures"]
    assert isinstance(pctx, ProceduresContext)  # noqa: S101 - set by the app factory
    return pctx


def _raw(form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if len(values) > 1 or key == "movers" else (values[0] if values else "")
    return out


def _municipality_name(lg: str) -> str:
    m = registry.municipalities().get(lg)
    return m.name if m else lg


def _form_context(db: Any, app: Application, procedure: Procedure, lang: str) -> dict[str, Any]:
    choices = apps.choices_for(db, app, procedure)
    municipalities = sorted(
        ((lg, _municipality_name(lg)) for lg in (choices.towns or {})), key=lambda x: x[0]
    )
    return {
        "procedure": procedure,
        "app": app,
        "rows": views.field_lines(app, procedure, lang),
        "members": app.facts.get("members", []),
        "municipalities": municipalities,
        "towns": choices.towns or {},
        "failed": app.facts.get("failed", {}),
    }


def _confirm(
    request: Request, me: CitizenPrincipal, app: Application, procedure: Procedure, error: str | None = None
) -> Response:
    """The confirmation page (again with ``error`` after a refused signature or submission)."""
    return render(
        request,
        "procedures/confirm.html",
        status_code=422 if error else 200,
        me=me,
        app=app,
        procedure=procedure,
        rows=views.field_lines(app, procedure, language(request)),
        plan=_moving_plan(app),
        error=error,
    )


def _own(request: Request, app_id: int) -> tuple[CitizenPrincipal, Application, Procedure]:
    me = citizen_principal(request)
    with ctx_of(request).uow() as db:
        app = apps.own_application(db, me, app_id)
        db.expunge(app)
    return me, app, apps.procedure_of(app.procedure_id)


def router() -> APIRouter:  # noqa: PLR0915 - one closure per route, as the other page modules
    r = APIRouter(include_in_schema=False)

    @r.get("/procedures", dependencies=PUBLIC)
    async def catalogue_page(request: Request, q: str = "", event: str = "") -> Response:
        q = q.strip()[:100]
        events = life_events()
        if event and event not in events:
            event = ""
        found = (
            catalogue().by_life_event(event) if event else catalogue().search(q) if q else list(catalogue())
        )
        return render(
            request,
            "procedures/catalogue.html",
            q=q,
            event=event,
            events=events,
            found=found,
            starts=EVENT_START,
        )

    @r.get("/procedures/{pid}", dependencies=PUBLIC)
    async def procedure_page(request: Request, pid: str) -> Response:
        procedure = apps.procedure_of(pid)
        events = [life_events()[e] for e in ("moving", "birth", "bereavement") if e in procedure.life_events]
        return render(
            request, "procedures/procedure.html", procedure=procedure, events=events, starts=EVENT_START
        )

    @r.get("/my/applications", dependencies=CITIZEN)
    async def my_applications(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            found = apps.applications_of(db, me.subject_person_id)
            db.expunge_all()
        names = {p.id: p for p in catalogue()}
        return render(request, "procedures/applications.html", me=me, found=found, names=names)

    @r.post("/my/applications", dependencies=CITIZEN)
    async def start(request: Request) -> Response:
        me = citizen_principal(request)
        form = await request.form()
        procedure = apps.procedure_of(str(form.get("procedure", "")))
        pctx = pctx_of(request)
        fetched = await run_in_threadpool(
            prefill.fetch,
            pctx,
            me.subject_person_id,
            prefill.items_for(procedure),
            by_proxy=me.acting_for is not None,
        )
        with ctx_of(request).uow() as db:
            app = apps.create_draft(db, pctx, me, procedure, fetched)
            app_id = app.id
        return RedirectResponse(f"/my/applications/{app_id}/edit", status_code=303)

    @r.get("/my/applications/{app_id}/edit", dependencies=CITIZEN)
    async def edit(request: Request, app_id: int) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            app = apps.own_application(db, me, app_id)
            if State(app.state) not in apps.EDITABLE:
                return RedirectResponse(f"/my/applications/{app_id}", status_code=303)
            context = _form_context(db, app, apps.procedure_of(app.procedure_id), language(request))
        return render(
            request,
            "procedures/form.html",
            me=me,
            errors=[],
            saved=request.query_params.get("saved") == "1",
            **context,
        )

    @r.post("/my/applications/{app_id}/edit", dependencies=CITIZEN)
    async def save(request: Request, app_id: int) -> Response:
        me = citizen_principal(request)
        pctx = pctx_of(request)
        form = await request.form()
        raw = _raw(form)
        confirm = form.get("action") == "confirm"
        lang = language(request)
        try:
            with ctx_of(request).uow() as db:
                apps.save_draft(db, pctx, me, app_id, raw, partial=not confirm)
                if confirm:
                    filing.preview(db, pctx, me, app_id, raw)
        except apps.FormInvalid as invalid:
            return _form_again(request, me, app_id, raw, [(e.field, e.message(lang)) for e in invalid.errors])
        except DomainError as error:
            return _form_again(request, me, app_id, raw, [(error.field or "", error.message(lang))])
        target = (
            f"/my/applications/{app_id}/confirm" if confirm else f"/my/applications/{app_id}/edit?saved=1"
        )
        return RedirectResponse(target, status_code=303)

    def _form_again(
        request: Request,
        me: CitizenPrincipal,
        app_id: int,
        raw: Mapping[str, Any],
        errors: Sequence[tuple[str, str]],
    ) -> Response:
        with ctx_of(request).uow() as db:
            app = apps.own_application(db, me, app_id)
            db.expunge(app)
            context = _form_context(db, app, apps.procedure_of(app.procedure_id), language(request))
        return render(
            request,
            "procedures/form.html",
            status_code=422,
            me=me,
            errors=list(errors),
            raw=raw,
            saved=False,
            **context,
        )

    @r.get("/my/applications/{app_id}/confirm", dependencies=CITIZEN)
    async def confirm_page(request: Request, app_id: int) -> Response:
        me, app, procedure = _own(request, app_id)
        if State(app.state) not in apps.EDITABLE:
            return RedirectResponse(f"/my/applications/{app_id}", status_code=303)
        return _confirm(request, me, app, procedure)

    @r.post("/my/applications/{app_id}/submit", dependencies=CITIZEN)
    async def submit(request: Request, app_id: int) -> Response:
        me = citizen_principal(request)
        pctx = pctx_of(request)
        form = await request.form()
        lang = language(request)
        pin = str(form.get("signature_pin", "")).strip().upper()
        # The database work runs off the event loop: waiting for SQLite's writer must not stall other requests.
        refusal, bundle_id = await run_in_threadpool(_submit, ctx_of(request), pctx, me, app_id, pin, lang)
        if refusal is not None:
            me, app, procedure = _own(request, app_id)
            return _confirm(request, me, app, procedure, refusal)
        if bundle_id is not None:  # the fan-out, at once; what fails stays in the outbox for the worker
            with contextlib.suppress(Exception):
                await run_in_threadpool(outbox.work, ctx_of(request).uow, pctx, bundle_id=bundle_id)
        return RedirectResponse(f"/my/applications/{app_id}", status_code=303)

    @r.get("/my/applications/{app_id}", dependencies=CITIZEN)
    async def status(request: Request, app_id: int) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            app = apps.own_application(db, me, app_id)
            history = apps.history(db, app_id)
            siblings = bundles.applications_in(db, app.bundle_id) if app.bundle_id else []
            bundle = bundles.bundle_of_id(db, app.bundle_id) if app.bundle_id else None
            pending = bundles.pending_in(db, app.bundle_id) if app.bundle_id else 0
            db.expunge_all()
        procedure = apps.procedure_of(app.procedure_id)
        names = {p.id: p for p in catalogue()}
        return render(
            request,
            "procedures/application.html",
            me=me,
            app=app,
            procedure=procedure,
            rows=views.field_lines(app, procedure, language(request)),
            history=history,
            siblings=siblings,
            bundle=bundle,
            pending=pending,
            names=names,
            agencies={
                a.code: a.name_en if language(request) == "en" else a.name_ja for a in linkage.agencies()
            },
            withdrawable=State(app.state) in WITHDRAWABLE and app.applicant_person_id == me.subject_person_id,
        )

    @r.post("/my/applications/{app_id}/withdraw", dependencies=CITIZEN)
    async def withdraw(request: Request, app_id: int) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            apps.withdraw(db, pctx_of(request), me, app_id)
        return RedirectResponse(f"/my/applications/{app_id}", status_code=303)

    @r.post("/my/bundles/{bundle_id}/cancel", dependencies=CITIZEN)
    async def cancel(request: Request, bundle_id: str) -> Response:
        me = citizen_principal(request)
        form = await request.form()
        back = str(form.get("back", "/my/applications"))
        with ctx_of(request).uow() as db:
            bundles.cancel(db, pctx_of(request), me, bundle_id)
        return RedirectResponse(back if back.startswith("/my/") else "/my/applications", status_code=303)

    @r.get("/my/applications/{app_id}/receipt", dependencies=CITIZEN)
    async def receipt(request: Request, app_id: int) -> Response:
        _me, app, _procedure = _own(request, app_id)
        if not app.receipt:
            raise NotFound("No receipt yet.", ja="受付票はまだありません。")
        return _download(app.receipt, f"tsunagu-receipt-{app.receipt_number}.jws")

    @r.get("/my/applications/{app_id}/document", dependencies=CITIZEN)
    async def document(request: Request, app_id: int) -> Response:
        _me, app, _procedure = _own(request, app_id)
        if not app.document:
            raise NotFound("No document has been issued.", ja="交付された書類はありません。")
        return _download(app.document, f"tsunagu-juminhyo-{app.receipt_number}.jws")

    @r.get("/my/life-events/bereavement", dependencies=CITIZEN)
    async def bereavement(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            deceased = _deceased_of(db, me.subject_person_id)
        return render(
            request,
            "procedures/bereavement.html",
            me=me,
            deceased=deceased,
            plan=None,
            chosen=None,
            error=None,
            key="",
        )

    @r.post("/my/life-events/bereavement", dependencies=CITIZEN)
    async def bereavement_file(request: Request) -> Response:
        me = citizen_principal(request)
        pctx = pctx_of(request)
        form = await request.form()
        lang = language(request)
        chosen = str(form.get("deceased", ""))
        with ctx_of(request).uow() as db:
            deceased = _deceased_of(db, me.subject_person_id)
        dead = next((d for d in deceased if str(d.person_id) == chosen), None)
        if dead is None:
            error = "Choose the person who died." if lang == "en" else "亡くなった方を選んでください。"
            return render(
                request,
                "procedures/bereavement.html",
                status_code=422,
                me=me,
                deceased=deceased,
                plan=None,
                chosen=None,
                error=error,
                key="",
            )
        items = ("resident.basic", "resident.household", "nhi.eligibility", "pension.status")
        fetched = await run_in_threadpool(
            prefill.fetch, pctx, me.subject_person_id, items, by_proxy=me.acting_for is not None
        )
        if form.get("action") != "file":
            plan = bundles.planned_for_bereavement(fetched, dead, pctx.clock.today())
            return render(
                request,
                "procedures/bereavement.html",
                me=me,
                deceased=deceased,
                plan=plan,
                chosen=dead,
                error=None,
                key=str(uuid.uuid4()),
                names={p.id: p for p in catalogue()},
            )
        key = str(form.get("key", ""))[:64] or str(uuid.uuid4())
        try:
            with ctx_of(request).uow() as db:
                bundle = bundles.file_bereavement(db, pctx, me, dead.person_id, fetched, key)
                bundle_id = bundle.id
        except DomainError as error:
            return render(
                request,
                "procedures/bereavement.html",
                status_code=422,
                me=me,
                deceased=deceased,
                plan=None,
                chosen=None,
                error=error.message(lang),
                key="",
            )
        with contextlib.suppress(Exception):
            await run_in_threadpool(outbox.work, ctx_of(request).uow, pctx, bundle_id=bundle_id)
        return RedirectResponse("/my/applications?bundle=" + bundle_id, status_code=303)

    return r


def _submit(
    ctx: AppContext, pctx: ProceduresContext, me: CitizenPrincipal, app_id: int, pin: str, lang: str
) -> tuple[str | None, str | None]:
    """(refusal message, bundle opened). A signature procedure is signed first by the demo reader in a unit of
    work of its own, so a refused PIN is committed (counted) before it is reported; then one unit of work
    submits (the application is loaded once, for update)."""
    signed: signatures.Signed | None = None
    try:
        with ctx.uow() as db:
            app = apps.own_application(db, me, app_id)
            procedure = apps.procedure_of(app.procedure_id)
            if procedure.assurance is Assurance.SIGNATURE and State(app.state) in apps.EDITABLE:
                data = filing.preview(db, pctx, me, app_id, apps.raw_from_values(app.values))
                try:
                    signed = signatures.sign_with_demo_card(db, pctx, me.person_id, pin, data)
                except identity.PIN_REFUSALS as exc:
                    audit.record_citizen(
                        db, me, audit.AuditAction.PROCEDURE_REFUSED, f"application:{app_id}", why="pin"
                    )
                    return (exc.message(lang) if isinstance(exc, DomainError) else str(exc)), None
        with ctx.uow() as db:
            done = filing.submit(db, pctx, me, app_id, signed=signed)
            return None, done.bundle_id
    except DomainError as error:
        return error.message(lang), None


def _download(token: str, filename: str) -> Response:
    return Response(
        token + "\n",
        media_type="application/jose",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _deceased_of(db: Any, person_id: int) -> list[registry.BasicFacts]:
    mine = registry.basic_facts(db, person_id)
    return [m for m in registry.household_facts(db, mine.household_id) if m.status == "deceased"]


def _moving_plan(app: Application) -> list[dict[str, str]]:
    """What the moving one-stop will file, for the confirmation page (names only)."""
    if app.procedure_id != "tenshutsu":
        return []
    names = {str(m["ref"]): f"{m['family_name']} {m['given_name']}" for m in app.facts.get("members", [])}
    return [
        {
            "ja": catalogue()[p.procedure].name_ja,
            "en": catalogue()[p.procedure].name_en,
            "end": p.end.value,
            "who": names.get(p.person_ref, ""),
        }
        for p in bundles.moving_plan(app)
    ]
