"""The card desk (マイナンバーカード交付窓口), ``/staff/cards``: find a resident's cards, issue a card, re-set a
locked PIN after a photo-ID check, suspend, restore a suspended card and report a loss. The resident is shown
through the registry's own least-data view (a suppressed address stays hidden)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import PinStatus
from tsunagu.identity.core.card_rules import CardStatus, may_hold_signature_certificate
from tsunagu.identity.core.pins import PinSlot
from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import DomainError, InvalidInput
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

READ = [guard(Access.staff(Permission.IDENTITY_CARD_READ))]
WRITE = [guard(Access.staff(Permission.IDENTITY_CARD_WRITE))]
PIN_RESET = [guard(Access.staff(Permission.IDENTITY_PIN_RESET))]
TrustOf = Callable[[Request], pki.TrustServices]


def router(trust_of: TrustOf) -> APIRouter:
    r = APIRouter(prefix="/staff/cards", include_in_schema=False)

    def card_ctx(request: Request) -> cards.CardContext:
        ctx = ctx_of(request)
        return cards.card_context(ctx.settings, ctx.clock, trust_of(request))

    def page(
        request: Request, person_id: int | None, *, done: str = "", error: DomainError | None = None
    ) -> Response:
        return render(
            request,
            "cards/desk.html",
            status_code=error.status if error else 200,
            done=done,
            error=error.message(language(request)) if error else None,
            error_field=error.field if error else None,
            **_desk(request, card_ctx(request), person_id),
        )

    @r.get("", dependencies=READ)
    async def desk(request: Request, person: str = "", done: str = "") -> Response:
        if not person:
            return page(request, None, done=done)
        if not person.strip().isdigit():
            error = InvalidInput("Enter the person's id (digits).", ja="住民のIDを数字で入力してください。")
            return page(request, None, error=error)
        return page(request, int(person), done=done)

    @r.post("/issue", dependencies=WRITE)
    async def issue(request: Request) -> Response:
        data = await _form(request)
        person_id = _person_id(data)
        pins = _pins(data)
        try:
            with ctx_of(request).uow() as db:
                cards.issue_card(db, card_ctx(request), staff_principal(request), person_id, pins)
        except DomainError as exc:
            return page(request, person_id, error=exc)
        return RedirectResponse(f"/staff/cards?person={person_id}&done=issued", status_code=303)

    async def act(
        request: Request, serial: str, action: str, run: Callable[[Any, dict[str, str]], None]
    ) -> Response:
        data = await _form(request)
        person_id = _person_id(data)
        try:
            if data.get("confirm") != "yes":
                raise InvalidInput(
                    "Confirm that you checked the holder's photo ID.",
                    ja="本人確認書類で本人であることを確認したら、確認欄にチェックしてください。",
                    field="confirm",
                )
            with ctx_of(request).uow() as db:
                run(db, data)
        except DomainError as exc:
            return page(request, person_id, error=exc)
        return RedirectResponse(f"/staff/cards?person={person_id}&done={action}", status_code=303)

    @r.post("/{serial}/reset-pin", dependencies=PIN_RESET)
    async def reset(request: Request, serial: str) -> Response:
        def run(db: Any, data: dict[str, str]) -> None:
            slot = _slot(data.get("slot", ""))
            cards.reset_pin(
                db, card_ctx(request), staff_principal(request), serial, slot, data.get("new_pin", "")
            )

        return await act(request, serial, "pin-reset", run)

    @r.post("/{serial}/restore", dependencies=WRITE)
    async def restore(request: Request, serial: str) -> Response:
        def run(db: Any, _data: dict[str, str]) -> None:
            cards.restore_card(db, card_ctx(request), staff_principal(request), serial)

        return await act(request, serial, "restored", run)

    @r.post("/{serial}/suspend", dependencies=WRITE)
    async def suspend(request: Request, serial: str) -> Response:
        def run(db: Any, _data: dict[str, str]) -> None:
            me = staff_principal(request).username
            cards.suspend_card(db, card_ctx(request), serial, me, "stopped at the desk")

        return await act(request, serial, "suspended", run)

    @r.post("/{serial}/reissue", dependencies=WRITE)
    async def reissue(request: Request, serial: str) -> Response:
        def run(db: Any, data: dict[str, str]) -> None:
            pins = _pins(data)
            cards.reissue_card(db, card_ctx(request), staff_principal(request), serial, pins)

        return await act(request, serial, "reissued", run)

    @r.post("/{serial}/report-loss", dependencies=WRITE)
    async def report_loss(request: Request, serial: str) -> Response:
        def run(db: Any, _data: dict[str, str]) -> None:
            cards.report_loss(db, card_ctx(request), serial, staff_principal(request).username)

        return await act(request, serial, "lost", run)

    return r


def _pins(data: dict[str, str]) -> cards.CardPins:
    return cards.CardPins(
        authentication=data.get("authentication_pin", ""),
        surface=data.get("surface_pin", ""),
        signature=data.get("signature_pin") or None,
    )


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


def _person_id(data: dict[str, str]) -> int:
    value = data.get("person_id", "").strip()
    if not value.isdigit():
        raise InvalidInput("The person's id is missing.", ja="住民のIDがありません。")
    return int(value)


def _slot(value: str) -> PinSlot:
    try:
        return PinSlot(value)
    except ValueError:
        raise InvalidInput(
            "Choose which PIN to re-set.", ja="再設定する暗証番号を選んでください。", field="slot"
        ) from None


def _desk(request: Request, ctx: cards.CardContext, person_id: int | None) -> dict[str, Any]:
    """The resident (registry view: permission-checked, audited, suppressed address hidden), their cards and the
    PIN state of the live one."""
    found: dict[str, Any] = {"person": None, "cards": [], "current": None, "pins": [], "may_sign": False}
    if person_id is None:
        return {**found, "today": ctx.clock.today(), "slots": list(PinSlot)}
    app = ctx_of(request)
    today = ctx.clock.today()
    keys = registry_api.registry_context(app.settings, app.clock).keys
    with app.uow() as db:
        person = registry_api.get_resident(db, keys, staff_principal(request), person_id, today)
        held = cards.cards_of(db, person_id)
        current = next((c for c in held if c.status in (CardStatus.ACTIVE, CardStatus.SUSPENDED)), None)
        pins: list[PinStatus] = []
        if current is not None:
            chip = cards.chip_for(db, ctx, current.serial)
            slots = [s for s in PinSlot if s is not PinSlot.SIGNATURE or current.signature_cert_serial]
            pins = [chip.pin_status(s) for s in slots]
    found.update(
        person=person,
        cards=held,
        current=current,
        pins=pins,
        may_sign=may_hold_signature_certificate(person.birth_date, today),
    )
    return {**found, "today": today, "slots": list(PinSlot)}
