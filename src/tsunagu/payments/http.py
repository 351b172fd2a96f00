"""The bank-counter API (``/api/v1/public-fund-accounts``): a bank registers, changes or deletes a customer's
public-fund account at its counter (公金受取口座登録法 第5条, 金融機関経由の登録), for accounts held with that bank
only. Bank staff authenticate with a staff bearer token and need ``payments:account:counter``; their bank is in
``pay_bank_staff``. The My Number identifies the customer and is never echoed, logged or kept."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import Forbidden, NotFound
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.pages.common import payments_context_of
from tsunagu.payments.services import accounts, bank_staff
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of

COUNTER = [guard(Access.staff(Permission.PAYMENTS_ACCOUNT_COUNTER))]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


REFUSALS: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid staff bearer token"),
    403: _problem(
        "Not a bank-counter account, no bank assigned, another bank's account, or a person who died"
    ),
    404: _problem("No resident has this individual number (the number is not echoed)"),
    409: _problem("The account is registered to another person (who is not said)"),
    422: _problem(
        "Invalid input: bank or branch not in the master, deposit type, number, holder name; `field` names it"
    ),
}


class CounterRegistration(BaseModel):
    my_number: str = Field(min_length=12, max_length=20, description="個人番号 of the customer (12 digits)")
    bank_code: str = Field(
        min_length=1, max_length=8, description="金融機関コード (4 digits): the staff's bank"
    )
    branch_code: str = Field(min_length=1, max_length=8, description="支店コード (3 digits)")
    deposit_type: str = Field(min_length=1, max_length=2, description="預金種目: 1 普通, 2 当座, 4 貯蓄")
    account_number: str = Field(
        min_length=1, max_length=10, description="口座番号, 1 to 7 digits (zero-padded)"
    )
    holder_kana: str = Field(
        min_length=1, max_length=60, description="口座名義 in kana (the customer's own name)"
    )


class CounterDeletion(BaseModel):
    my_number: str = Field(min_length=12, max_length=20, description="個人番号 of the customer (12 digits)")


class RegisteredAccount(BaseModel):
    result: Literal["registered", "changed", "deleted"]
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    deposit_type: str
    account_number_masked: str = Field(description="all but the last three digits hidden")
    holder_kana: str


def _out(
    view: accounts.AccountView, result: Literal["registered", "changed", "deleted"]
) -> RegisteredAccount:
    return RegisteredAccount(
        result=result,
        bank_code=view.bank_code,
        bank_name=view.bank_name,
        branch_code=view.branch_code,
        branch_name=view.branch_name,
        deposit_type=view.deposit_type,
        account_number_masked=view.masked_number,
        holder_kana=view.holder_kana,
    )


NO_PERSON = (
    "No resident has this individual number. Check the number on the customer's card.",
    "この個人番号の住民は見つかりません。カードの個人番号を確かめてください。",
)


def _person(db: Session, pctx: PaymentsContext, my_number: str) -> int:
    person_id = pctx.person_by_my_number(db, my_number)
    if person_id is None:
        raise NotFound(NO_PERSON[0], ja=NO_PERSON[1])
    return person_id


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["payments"])

    @r.post(
        "/public-fund-accounts",
        response_model=RegisteredAccount,
        status_code=201,
        dependencies=COUNTER,
        responses={
            200: {"model": RegisteredAccount, "description": "The registered account was changed"},
            **REFUSALS,
        },
    )
    async def register_at_counter(
        request: Request, body: CounterRegistration, response: Response
    ) -> RegisteredAccount:
        """Register (201) or change (200) a customer's public-fund account, held with the staff member's bank.
        The same rules as the portal apply (bank and branch in the master, a liquid deposit, 7 digits, the
        customer's own name, one person per account); a refusal saves nothing."""
        staff = staff_principal(request)
        pctx = payments_context_of(request)
        data = accounts.AccountInput(
            body.bank_code, body.branch_code, body.deposit_type, body.account_number, body.holder_kana
        )
        with ctx_of(request).uow() as db:
            own_bank = bank_staff.require_bank(db, staff.username)
            if body.bank_code.strip() != own_bank:
                raise Forbidden(
                    "A bank registers only accounts held with it.",
                    ja="自行以外の金融機関の口座は登録できません。",
                    field="bank_code",
                )
            person_id = _person(db, pctx, body.my_number)
            view, action = accounts.save(
                db, pctx, pctx.master(), person_id, data, accounts.Actor.bank_counter(staff.username)
            )
        if action == "changed":
            response.status_code = 200
        return _out(view, "registered" if action == "registered" else "changed")

    @r.post(
        "/public-fund-accounts/delete",
        response_model=RegisteredAccount,
        dependencies=COUNTER,
        responses={k: v for k, v in REFUSALS.items() if k in (401, 403, 404, 422)},
    )
    async def delete_at_counter(request: Request, body: CounterDeletion) -> RegisteredAccount:
        """Delete a customer's registration, when the account registered is held with the staff member's bank
        (404 otherwise: whether the customer registered an account elsewhere is not told)."""
        staff = staff_principal(request)
        pctx = payments_context_of(request)
        with ctx_of(request).uow() as db:
            own_bank = bank_staff.require_bank(db, staff.username)
            person_id = _person(db, pctx, body.my_number)
            current = accounts.get(db, person_id)
            if current is None or current.bank_code != own_bank:
                raise NotFound(
                    "No account with your bank is registered for this customer.",
                    ja="この方の貴行の口座は登録されていません。",
                )
            view = accounts.delete_account(db, pctx, person_id, accounts.Actor.bank_counter(staff.username))
        return _out(view, "deleted")

    return r
