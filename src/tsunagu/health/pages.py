"""Staff pages of the vaccination registry (予防接種担当), ``/staff/health``:

- ``GET /staff/health?q=…``: find a resident through the registry's own search (least data shown: name, reading,
  birth date; no address);
- ``GET /staff/health/residents/{id}``: the resident (the registry's audited view), their current doses, the
  superseded entries, and the form to record a dose (``health:dose:write``);
- ``POST /staff/health/residents/{id}/doses``: record a dose; errors are shown on their fields (422), nothing saved;
- ``GET|POST /staff/health/residents/{id}/doses/{dose_id}``: correct a dose: a new entry supersedes it.

Listeners of dose changes come from ``ctx.extras["dose_listeners"]`` (set by the shell, e.g. for credentials)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.health.core.vaccines import MANUFACTURERS, Problem, check_entry, vaccine
from tsunagu.health.services import doses as health
from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import NotFound
from tsunagu.registry import api as registry_api
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

READ = [guard(Access.staff(Permission.HEALTH_DOSE_READ))]
WRITE = [guard(Access.staff(Permission.HEALTH_DOSE_WRITE))]
PREFIX = "/staff/health"
SEARCH_LIMIT = 50
FIELDS = ("occurrence", "cvx", "manufacturer", "lot", "municipality_code")
Errors = list[tuple[str, str]]


def _listeners(request: Request) -> Sequence[health.DoseListener]:
    found: Sequence[health.DoseListener] = ctx_of(request).extras.get("dose_listeners", ())
    return found


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.form()).items() if k in {*FIELDS, "reason"}}


def _entry(person_id: int, data: dict[str, str], today: dt.date) -> health.DoseInput:
    """The form as a dose entry; a date that does not parse is told with the other fields' problems."""
    cvx = data.get("cvx", "")
    known = vaccine(cvx)
    manufacturer = data.get("manufacturer", "") or (known.manufacturer if known else "")
    try:
        occurrence = dt.date.fromisoformat(data.get("occurrence", ""))
    except ValueError:
        others = check_entry(
            occurrence=today, cvx=cvx, manufacturer=manufacturer, lot=data.get("lot", ""), today=today
        )
        bad_date = Problem(
            "occurrence",
            "接種日を入力してください（例: 2021-06-01）。",
            "Enter the vaccination date (e.g. 2021-06-01).",
        )
        raise health.InvalidDose([bad_date, *others]) from None
    return health.DoseInput(
        person_id, occurrence, cvx, manufacturer, data.get("lot", ""), data.get("municipality_code", "")
    )


def _errors(exc: health.InvalidDose, lang: str) -> Errors:
    return [(p.field, p.message_ja if lang == "ja" else p.message_en) for p in exc.problems]


def _resident(request: Request, person_id: int) -> dict[str, Any]:
    """The resident (registry view: permission-checked, audited), their current doses and the superseded ones."""
    app, me = ctx_of(request), staff_principal(request)
    keys = registry_api.registry_context(app.settings, app.clock).keys
    with app.uow() as db:
        person = registry_api.get_resident(db, keys, me, person_id, app.clock.today())
        current = health.doses_of(db, person_id)
        history = health.history_of(db, person_id)
        audit.record(db, me.username, audit.AuditAction.HEALTH_DOSES_VIEWED, f"person:{person_id}")
    live = {d.dose_id for d in current}
    return {
        "person": person,
        "doses": current,
        "superseded": [h for h in history if h.dose.dose_id not in live],
        "may_write": me.can(Permission.HEALTH_DOSE_WRITE),
    }


def _choices(request: Request) -> dict[str, Any]:
    return {
        "vaccines": health.vaccines(),
        "manufacturers": MANUFACTURERS,
        "home_code": ctx_of(request).settings.municipality_code,
        "today": ctx_of(request).clock.today(),
    }


def router() -> APIRouter:
    r = APIRouter(prefix=PREFIX, include_in_schema=False)

    def resident_page(
        request: Request, person_id: int, *, done: str = "", errors: Errors | None = None, values: Any = None
    ) -> Response:
        return render(
            request,
            "health/resident.html",
            status_code=422 if errors else 200,
            done=done if done in {"recorded", "corrected"} else "",
            errors=errors or [],
            values=values or {},
            **_resident(request, person_id),
            **_choices(request),
        )

    @r.get("", dependencies=READ)
    async def find(request: Request, q: str = "") -> Response:
        app, me = ctx_of(request), staff_principal(request)
        results: list[registry_api.ResidentView] = []
        if q.strip():
            keys = registry_api.registry_context(app.settings, app.clock).keys
            with app.uow() as db:
                results = registry_api.search(db, keys, me, q, app.clock.today(), limit=SEARCH_LIMIT)
        return render(request, "health/search.html", q=q, results=results, limit=SEARCH_LIMIT)

    @r.get("/residents/{person_id}", dependencies=READ)
    async def resident(request: Request, person_id: int, done: str = "") -> Response:
        return resident_page(request, person_id, done=done)

    @r.post("/residents/{person_id}/doses", dependencies=WRITE)
    async def record(request: Request, person_id: int) -> Response:
        app, me = ctx_of(request), staff_principal(request)
        data = await _form(request)
        try:
            entry = _entry(person_id, data, app.clock.today())
            with app.uow() as db:
                health.record_dose(
                    db, entry, actor=me.username, now=app.clock.now(), listeners=_listeners(request)
                )
        except health.InvalidDose as exc:
            return resident_page(request, person_id, errors=_errors(exc, language(request)), values=data)
        return RedirectResponse(f"{PREFIX}/residents/{person_id}?done=recorded", status_code=303)

    def correction_page(
        request: Request, person_id: int, dose_id: int, *, errors: Errors | None = None, values: Any = None
    ) -> Response:
        found = _resident(request, person_id)
        dose = next((d for d in found["doses"] if d.dose_id == dose_id), None)
        if dose is None:
            raise NotFound(
                "No current dose with this id for this resident (corrected already?).",
                ja="この方の現在の接種記録にはありません（すでに訂正されていませんか）。",
            )
        if values is None:
            values = {f: str(getattr(dose, f)) for f in FIELDS}
            values["occurrence"] = dose.occurrence.isoformat()
        return render(
            request,
            "health/correct.html",
            status_code=422 if errors else 200,
            dose=dose,
            errors=errors or [],
            values=values,
            **found,
            **_choices(request),
        )

    @r.get("/residents/{person_id}/doses/{dose_id}", dependencies=WRITE)
    async def correction(request: Request, person_id: int, dose_id: int) -> Response:
        return correction_page(request, person_id, dose_id)

    @r.post("/residents/{person_id}/doses/{dose_id}", dependencies=WRITE)
    async def correct(request: Request, person_id: int, dose_id: int) -> Response:
        app, me = ctx_of(request), staff_principal(request)
        data = await _form(request)
        try:
            entry = _entry(person_id, data, app.clock.today())
            with app.uow() as db:
                health.correct_dose(
                    db,
                    dose_id,
                    entry,
                    actor=me.username,
                    now=app.clock.now(),
                    reason=data.get("reason", ""),
                    listeners=_listeners(request),
                )
        except health.InvalidDose as exc:
            errors = _errors(exc, language(request))
            return correction_page(request, person_id, dose_id, errors=errors, values=data)
        return RedirectResponse(f"{PREFIX}/residents/{person_id}?done=corrected", status_code=303)

    return r
