"""The citizen's benefits (給付金の受取状況), behind a card or passkey login (a proxy sees the person's):

- ``GET /my/benefits``: every benefit notified to the person (as payee, or the child it is for): programme, period,
  amount, state, the account it is (or was) paid into with the number masked, and the deadline to change or decline;
- ``GET /my/benefits/{id}``: one benefit: the push-type notice's terms, each transfer (振込指定日, result), and the
  account lookups through the hub that preceded it (the lines of やりとり履歴 behind them);
- ``POST /my/benefits/{id}/confirm`` and ``…/decline`` (受給辞退, with a confirmation box): the payee's decision
  before the deadline; POST-redirect-GET, audited.

Changing the account is done on the account page: the change marks the pending benefit's lookup stale and the paying
agency looks the account up again before the payment run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import InvalidInput
from tsunagu.payments.pages.common import agency_names, payments_context_of
from tsunagu.payments.services import entitlements, statements
from tsunagu.payments.sources import programmes
from tsunagu.registry import api as registry
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import render

CITIZEN = [guard(Access.citizen())]
PAGE = "/my/benefits"
SECTION = {
    "href": PAGE,
    "title": "給付金の受取",
    "description": "お知らせのあった給付金、振込先の口座と振込の状況、口座の照会の記録",
    "title_en": "Benefits",
    "description_en": "Benefits you were notified of, the account they are paid into, transfers and account lookups",
}
DONE = {"confirmed", "declined"}


def _names(db: Any, person_ids: set[int]) -> dict[int, str]:
    """Whom each benefit is for (a head is paid for every member of the household): names by person id."""
    found = {p: registry.name_and_status(db, p) for p in person_ids}
    return {p: v[0] for p, v in found.items() if v is not None}


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PAGE, dependencies=CITIZEN)
    async def benefits_page(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            found = entitlements.entitlements_of(db, me.subject_person_id)
            names = _names(db, {b.person_id for b in found})
        return render(request, "payments/benefits.html", me=me, found=found, names=names)

    @r.get(PAGE + "/{entitlement_id}", dependencies=CITIZEN)
    async def benefit_page(request: Request, entitlement_id: int, done: str = "") -> Response:
        me = citizen_principal(request)
        pctx = payments_context_of(request)
        with ctx_of(request).uow() as db:
            benefit = entitlements.entitlement_of(db, entitlement_id, me.subject_person_id)
            transfers = statements.transfers_of(db, entitlement_id)
            names = _names(db, {benefit.person_id})
            programme = programmes().get(benefit.programme_id)
            lookups = (
                statements.lookups_of(db, pctx, benefit.payee_person_id, programme.agency, programme.business)
                if programme is not None
                else []
            )
        return render(
            request,
            "payments/benefit.html",
            me=me,
            b=benefit,
            programme=programme,
            transfers=transfers,
            lookups=lookups,
            agencies=agency_names(),
            is_payee=benefit.payee_person_id == me.subject_person_id,
            names=names,
            done=done if done in DONE else "",
        )

    @r.post(PAGE + "/{entitlement_id}/confirm", dependencies=CITIZEN)
    async def confirm(request: Request, entitlement_id: int) -> Response:
        me = citizen_principal(request)
        pctx = payments_context_of(request)
        with ctx_of(request).uow() as db:
            entitlements.confirm_with_household(db, pctx, entitlement_id, me.subject_person_id)
            audit.record_citizen(
                db, me, audit.AuditAction.PAYMENTS_BENEFIT_CONFIRMED, f"benefit:{entitlement_id}"
            )
        return RedirectResponse(f"{PAGE}/{entitlement_id}?done=confirmed", status_code=303)

    @r.post(PAGE + "/{entitlement_id}/decline", dependencies=CITIZEN)
    async def decline(request: Request, entitlement_id: int) -> Response:
        me = citizen_principal(request)
        pctx = payments_context_of(request)
        form = await request.form()
        if form.get("really") != "yes":
            raise InvalidInput(
                "Tick the box to confirm that you decline this benefit.",
                ja="受給を辞退することを確認するチェックボックスを選んでください。",
                field="really",
            )
        with ctx_of(request).uow() as db:
            entitlements.decline(db, pctx, entitlement_id, me.subject_person_id, "declined in the portal")
            audit.record_citizen(
                db, me, audit.AuditAction.PAYMENTS_BENEFIT_DECLINED, f"benefit:{entitlement_id}"
            )
        return RedirectResponse(f"{PAGE}/{entitlement_id}?done=declined", status_code=303)

    return r
