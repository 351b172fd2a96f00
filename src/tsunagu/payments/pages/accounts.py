"""The citizen's public-fund account (公金受取口座) pages, behind a card or passkey login (a proxy acts for the
person they represent):

- ``GET /my/public-fund-account``: the registration (the number masked but for its last three digits), its
  history, and the form to register or change it (the holder pre-filled with the registry kana in bank kana);
- ``POST /my/public-fund-account``: checks the input and shows the confirmation page with the bank and branch names
  from the master (nothing saved yet), or the form again with the reasons;
- ``POST /my/public-fund-account/confirm``: registers (or goes back to the form with ``action=edit``);
- ``GET|POST /my/public-fund-account/delete``: deletion, with a confirmation step.

Every write redirects (POST-redirect-GET); the forms carry the CSRF token the security middleware checks."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.kernel.errors import DomainError
from tsunagu.payments.pages.common import payments_context_of
from tsunagu.payments.services import accounts
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
PAGE = accounts.ACCOUNT_PAGE
FIELDS = ("bank_code", "branch_code", "deposit_type", "account_number", "holder_kana")
SECTION = {
    "href": PAGE,
    "title": "公金受取口座",
    "description": "給付金などを受け取る口座の登録・変更・削除",
    "title_en": "Public-fund account",
    "description_en": "Register, change or delete the account that receives benefits and other public funds",
}
DONE = {"registered", "changed", "deleted"}


def _input(form: FormData) -> accounts.AccountInput:
    values = {f: str(form.get(f, ""))[:60] for f in FIELDS}
    return accounts.AccountInput(**values)


def _form_page(
    request: Request,
    me: CitizenPrincipal,
    values: dict[str, str] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    status_code: int = 200,
) -> Response:
    with ctx_of(request).uow() as db:
        current = accounts.get(db, me.subject_person_id)
        events = accounts.history(db, me.subject_person_id)
        holder = accounts.registry_holder_kana(db, me.subject_person_id)
    if values is None:
        values = {"deposit_type": "1", "holder_kana": holder}
        if current is not None:
            values = {
                "bank_code": current.bank_code,
                "branch_code": current.branch_code,
                "deposit_type": current.deposit_type,
                "account_number": "",
                "holder_kana": current.holder_kana,
            }
    done = request.query_params.get("done", "")
    return render(
        request,
        "payments/account.html",
        status_code=status_code,
        me=me,
        current=current,
        events=events,
        values=values,
        errors=list(errors),
        error_fields={f for f, _m in errors},
        deposit_types=accounts.DEPOSIT_TYPES,
        done=done if done in DONE else "",
    )


def _errors(error: DomainError, lang: str) -> list[tuple[str, str]]:
    return [(error.field or "", error.message(lang))]


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PAGE, dependencies=CITIZEN)
    async def account_page(request: Request) -> Response:
        return _form_page(request, citizen_principal(request))

    @r.post(PAGE, dependencies=CITIZEN)
    async def check(request: Request) -> Response:
        me = citizen_principal(request)
        form = await request.form()
        data = _input(form)
        try:
            with ctx_of(request).uow() as db:
                checked = accounts.check(
                    db, payments_context_of(request).master(), me.subject_person_id, data
                )
        except DomainError as error:
            return _form_page(request, me, vars(data), _errors(error, language(request)), 422)
        return render(
            request,
            "payments/account_confirm.html",
            me=me,
            checked=checked,
            deposit=accounts.DEPOSIT_TYPES[checked.deposit_type],
        )

    @r.post(f"{PAGE}/confirm", dependencies=CITIZEN)
    async def register(request: Request) -> Response:
        me = citizen_principal(request)
        form = await request.form()
        data = _input(form)
        if form.get("action") == "edit":
            return _form_page(request, me, vars(data))
        pctx = payments_context_of(request)
        try:
            with ctx_of(request).uow() as db:
                _view, action = accounts.save(
                    db, pctx, pctx.master(), me.subject_person_id, data, accounts.Actor.citizen(me)
                )
        except DomainError as error:
            return _form_page(request, me, vars(data), _errors(error, language(request)), error.status)
        return RedirectResponse(f"{PAGE}?done={action}", status_code=303)

    @r.get(f"{PAGE}/delete", dependencies=CITIZEN)
    async def delete_page(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            current = accounts.get(db, me.subject_person_id)
        if current is None:
            return RedirectResponse(PAGE, status_code=303)
        return render(request, "payments/account_delete.html", me=me, current=current)

    @r.post(f"{PAGE}/delete", dependencies=CITIZEN)
    async def delete(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            if accounts.get(db, me.subject_person_id) is not None:
                accounts.delete_account(
                    db, payments_context_of(request), me.subject_person_id, accounts.Actor.citizen(me)
                )
        return RedirectResponse(f"{PAGE}?done=deleted", status_code=303)

    return r
