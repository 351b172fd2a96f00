"""Staff pages of the registry: search, resident detail with household and history, recording 異動."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import DomainError, InvalidInput, NotFound
from tsunagu.registry.core.types import EventKind, Sex
from tsunagu.registry.core.validation import parse_date
from tsunagu.registry.municipalities import Municipality, demo_towns, municipalities
from tsunagu.registry.services import exchange, queries, records
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

READ = [guard(Access.staff(Permission.REGISTRY_PERSON_READ))]
WRITE = [guard(Access.staff(Permission.REGISTRY_PERSON_WRITE))]
EXPORT = [guard(Access.staff(Permission.REGISTRY_DATA_EXPORT))]
STATS = [guard(Access.staff(Permission.REGISTRY_STATS_READ))]
# Setting a 支援措置 needs the clerk's role: the same permission that lets one see suppressed addresses.
PROTECT = [guard(Access.staff(Permission.REGISTRY_SUPPRESSED_ADDRESS_READ))]
MEASURE_REASONS = ("dv", "stalking", "abuse")
TOP_STATS_SECONDS = 60.0
FORMS = records.EVENT_SLUGS


def router(rctx: Callable[[Request], records.RegistryContext]) -> APIRouter:
    r = APIRouter(prefix="/staff", include_in_schema=False)

    @r.get("/residents", dependencies=READ)
    async def search_page(request: Request, q: str = "", former: bool = False) -> Response:
        ctx, reg = ctx_of(request), rctx(request)
        results: list[queries.ResidentView] = []
        if q:
            with ctx.uow() as db:
                results = queries.search(
                    db, reg.keys, staff_principal(request), q, reg.clock.today(), include_former=former
                )
        return render(
            request, "registry/search.html", q=q, former=former, results=results, limit=queries.MAX_RESULTS
        )

    @r.get("/residents/new", dependencies=WRITE)
    async def new_form(request: Request) -> Response:
        return _new_page(request, {}, None, 200)

    @r.post("/residents/new", dependencies=WRITE)
    async def new_record(request: Request) -> Response:
        data = {k: str(v) for k, v in (await request.form()).items()}
        ctx, reg = ctx_of(request), rctx(request)
        try:
            kind = EventKind.MOVE_IN if data.get("kind") == "move_in" else EventKind.BIRTH
            birth = parse_date(data.get("birth_date", ""), "birth_date")
            when = (
                parse_date(data["effective_date"], "effective_date") if data.get("effective_date") else birth
            )
            if data.get("sex") not in ("male", "female"):
                raise InvalidInput("Choose the sex.", ja="性別を選んでください。", field="sex")
            person = records.NewPerson(
                data.get("family_name", ""),
                data.get("given_name", ""),
                data.get("family_name_kana", ""),
                data.get("given_name_kana", ""),
                birth,
                Sex(data["sex"]),
                data.get("my_number") or None,
            )
            address = records.NewAddress(
                data.get("town", ""), data.get("block", ""), data.get("building", "")
            )
            filing = records.Filing(
                recorded_by=staff_principal(request).username,
                filing_id=records.filing_key(data.get("filing_id")),
            )
            with ctx.uow() as db:
                pid = records.start_record(
                    db,
                    reg,
                    kind,
                    person,
                    address,
                    records.Placement(),
                    when,
                    filing,
                    from_lg_code=data.get("from_lg_code") or None,
                )
        except DomainError as exc:
            return _new_page(request, data, exc, 422)
        return RedirectResponse(f"/staff/residents/{pid}?done=new", status_code=303)

    def _new_page(request: Request, data: dict[str, str], error: DomainError | None, status: int) -> Response:
        reg = rctx(request)
        return render(
            request,
            "registry/new.html",
            status_code=status,
            data=data,
            origins=_other_municipalities(reg),
            **_form_context(request, reg, error),
        )

    @r.get("/residents/{person_id}", dependencies=READ)
    async def detail(request: Request, person_id: int, done: str = "") -> Response:
        ctx, reg = ctx_of(request), rctx(request)
        me = staff_principal(request)
        with ctx.uow() as db:
            person = queries.get_resident(db, reg.keys, me, person_id, reg.clock.today())
            members = queries.household_members(db, me, person.household_id, reg.clock.today())
            events = queries.history(db, me, person_id, audited=False)
        return render(
            request,
            "registry/person.html",
            person=person,
            members=members,
            events=events,
            done=done,
            municipalities=municipalities(),
        )

    @r.get("/residents/{person_id}/protect", dependencies=PROTECT)
    async def protect_form(request: Request, person_id: int) -> Response:
        return _protect_page(request, person_id, None, 200)

    @r.post("/residents/{person_id}/protect", dependencies=PROTECT)
    async def protect(request: Request, person_id: int) -> Response:
        data = {k: str(v) for k, v in (await request.form()).items()}
        ctx, reg = ctx_of(request), rctx(request)
        try:
            reason = data.get("reason", "")
            if reason not in MEASURE_REASONS:
                raise InvalidInput(
                    "Choose the reason for the support measure.", ja="理由を選んでください。", field="reason"
                )
            with ctx.uow() as db:
                records.set_support_measure(
                    db,
                    reg,
                    person_id,
                    reason,
                    staff_principal(request).username,
                    household=data.get("household") == "1",
                )
        except DomainError as exc:
            return _protect_page(request, person_id, exc, 422)
        return RedirectResponse(f"/staff/residents/{person_id}?done=protect", status_code=303)

    def _protect_page(request: Request, person_id: int, error: DomainError | None, status: int) -> Response:
        reg = rctx(request)
        return render(
            request,
            "registry/protect.html",
            status_code=status,
            person=_person_view(request, reg, person_id),
            reasons=MEASURE_REASONS,
            **_form_context(request, reg, error),
        )

    @r.get("/residents/{person_id}/{form}", dependencies=WRITE)
    async def event_form(request: Request, person_id: int, form: str) -> Response:
        return await _form(request, person_id, form, {}, None, 200)

    @r.post("/residents/{person_id}/{form}", dependencies=WRITE)
    async def record(request: Request, person_id: int, form: str) -> Response:
        data = {k: str(v) for k, v in (await request.form()).items()}
        ctx, reg = ctx_of(request), rctx(request)
        me = staff_principal(request)
        try:
            kind = _kind(form)
            when = parse_date(data.get("effective_date", ""), "effective_date")
            filing = records.Filing(
                recorded_by=me.username,
                reason=data.get("reason", ""),
                filing_id=records.filing_key(data.get("filing_id")),
            )
            whole = data.get("whole_household") == "1"
            address = records.NewAddress(
                data.get("town", ""), data.get("block", ""), data.get("building", "")
            )
            with ctx.uow() as db:
                records.record_event(
                    db,
                    reg,
                    person_id,
                    kind,
                    when,
                    filing,
                    address=address,
                    to_lg_code=data.get("to_lg_code", ""),
                    whole_household=whole,
                )
        except DomainError as exc:
            return await _form(request, person_id, form, data, exc, 422)
        return RedirectResponse(f"/staff/residents/{person_id}?done={form}", status_code=303)

    async def _form(
        request: Request,
        person_id: int,
        form: str,
        data: dict[str, str],
        error: DomainError | None,
        status: int,
    ) -> Response:
        kind = _kind(form)
        reg = rctx(request)
        return render(
            request,
            "registry/event_form.html",
            status_code=status,
            person=_person_view(request, reg, person_id),
            form=form,
            kind=kind.value,
            data=data,
            destinations=_other_municipalities(reg),
            **_form_context(request, reg, error),
        )

    @r.get("/registry/stats", dependencies=STATS)
    async def stats_page(request: Request) -> Response:
        ctx, reg = ctx_of(request), rctx(request)
        with ctx.uow() as db:
            figures = queries.stats(db, staff_principal(request), reg.clock.today())
        return render(request, "registry/stats.html", stats=figures)

    @r.get("/registry/export.csv", dependencies=EXPORT)
    async def export(request: Request) -> Response:
        ctx = ctx_of(request)
        buf = io.StringIO()
        with ctx.uow() as db:
            exchange.export_csv(db, staff_principal(request), buf)
        name = f"residents-{dt.date.today().isoformat()}.csv"  # noqa: DTZ011 - file name only
        return StreamingResponse(
            iter([buf.getvalue()]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return r


def _person_view(request: Request, reg: records.RegistryContext, person_id: int) -> queries.ResidentView:
    with ctx_of(request).uow() as db:
        return queries.get_resident(db, reg.keys, staff_principal(request), person_id, reg.clock.today())


def _other_municipalities(reg: records.RegistryContext) -> list[Municipality]:
    return [
        m for m in municipalities().values() if not m.is_prefecture and m.lg_code != reg.municipality_code
    ]


def _form_context(
    request: Request, reg: records.RegistryContext, error: DomainError | None
) -> dict[str, Any]:
    """What every registry form page needs: the error in the reader's language, its field, today, the towns."""
    return {
        "error": error.message(language(request)) if error else None,
        "error_field": error.field if error else None,
        "today": reg.clock.today().isoformat(),
        "towns": [t.town for t in demo_towns() if t.lg_code == reg.municipality_code],
        "filing_id": str(uuid.uuid4()),  # one per form shown: sending the form twice records it once
    }


def _kind(form: str) -> EventKind:
    kind = FORMS.get(form)
    if kind is None:
        raise NotFound(f"Unknown form {form!r}.")
    return kind


def top_context(rctx: Callable[[Request], records.RegistryContext]) -> Callable[[Request], dict[str, Any]]:
    """Public aggregate figures for the top page (nothing personal), recomputed at most once a minute: at a
    million residents the scan takes most of a second, and the top page is the busiest page."""
    cache: dict[str, tuple[float, queries.Stats]] = {}

    def build(request: Request) -> dict[str, Any]:
        now = time.monotonic()
        hit = cache.get("stats")
        if hit is None or now - hit[0] > TOP_STATS_SECONDS:
            with ctx_of(request).uow() as db:
                hit = (now, queries.stats(db, None, rctx(request).clock.today(), with_events=False))
            cache["stats"] = hit
        return {"figures": hit[1]}

    return build
