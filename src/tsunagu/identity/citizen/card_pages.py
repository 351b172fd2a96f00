"""マイページ › マイナンバーカード: the citizen's own card (status, validity, PIN tries left), an immediate
suspension (一時停止, e.g. the card is missing) and a loss report. Staff restore a suspended card at the desk."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import PinStatus
from tsunagu.identity.citizen.pages import clear_citizen_cookie
from tsunagu.identity.core.card_rules import NoSignatureCertificate
from tsunagu.identity.core.pins import PinSlot
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError, Forbidden, InvalidInput
from tsunagu.pki import api as pki
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
SECTION = {
    "href": "/my/card",
    "title": "マイナンバーカード",
    "description": "カードの有効期限と暗証番号の状態、紛失したときの一時停止",
    "title_en": "My Number card",
    "description_en": "Card validity and PIN status; stop the card at once if it is missing",
}
TrustOf = Callable[[Request], pki.TrustServices]


def router(trust_of: TrustOf) -> APIRouter:
    r = APIRouter(prefix="/my/card", include_in_schema=False)

    def card_ctx(request: Request) -> cards.CardContext:
        ctx = ctx_of(request)
        return cards.card_context(ctx.settings, ctx.clock, trust_of(request))

    def page(request: Request, status: int = 200, error: str | None = None) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        pins: list[PinStatus] = []
        with ctx.uow() as db:
            held = cards.cards_of(db, me.person_id)
            current = held[0] if held else None
            if current is not None and current.status == "active":
                chip = cards.chip_for(db, card_ctx(request), current.serial)
                for slot in (PinSlot.AUTHENTICATION, PinSlot.SIGNATURE, PinSlot.SURFACE):
                    try:
                        pins.append(chip.pin_status(slot))
                    except NoSignatureCertificate:
                        continue
        return render(
            request,
            "citizen/card.html",
            status_code=status,
            me=me,
            card=current,
            pins=pins,
            today=ctx.clock.today(),
            error=error,
        )

    async def change(request: Request, action: str) -> Response:
        me = citizen_principal(request)
        if me.acting_for is not None:
            raise Forbidden(
                "A proxy cannot stop the principal's card.", ja="代理人はご本人のカードを停止できません。"
            )
        ctx = ctx_of(request)
        form = await request.form()
        if form.get("confirm") != "yes":
            return page(request, 422, _confirm_text(request))
        try:
            with ctx.uow() as db:
                held = cards.cards_of(db, me.person_id)
                if not held:
                    raise InvalidInput("You hold no card.", ja="カードをお持ちではありません。")
                actor = f"person:{me.person_id}"
                if action == "suspend":
                    cards.suspend_card(
                        db, card_ctx(request), held[0].serial, actor, "holder stopped it online"
                    )
                else:
                    cards.report_loss(db, card_ctx(request), held[0].serial, actor)
        except DomainError as exc:
            return page(request, exc.status, exc.message(language(request)))
        # suspension ends every session of the holder, this one too
        response = RedirectResponse(f"/login?card={action}", status_code=303)
        clear_citizen_cookie(response, ctx.settings)
        return response

    @r.get("", dependencies=CITIZEN)
    async def card_page(request: Request) -> Response:
        return page(request)

    @r.post("/suspend", dependencies=CITIZEN)
    async def suspend(request: Request) -> Response:
        return await change(request, "suspend")

    @r.post("/report-loss", dependencies=CITIZEN)
    async def report_loss(request: Request) -> Response:
        return await change(request, "loss")

    return r


def _confirm_text(request: Request) -> str:
    if language(request) == "ja":
        return "確認のチェックを入れてください。"
    return "Tick the confirmation box."
