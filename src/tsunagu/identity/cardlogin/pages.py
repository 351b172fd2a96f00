"""Browser pages of card login: the demo card reader, the 2D-code (QR) login on PC and phone, and the signature
PIN re-authentication before signature-level actions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import segno
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.identity.cardlogin import qr, reader, services
from tsunagu.identity.cardlogin.edge import challenge_key_cache
from tsunagu.identity.cardlogin.errors import CardLoginRefused
from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import PIN_REFUSALS
from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.core.card_rules import CardExpired, CardRevoked, CardSuspended, NoSignatureCertificate
from tsunagu.identity.core.pins import PinSlot
from tsunagu.identity.oidc.targets import form_targets_for_next
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError, InvalidInput
from tsunagu.pki import api as pki
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.pages import safe_next
from tsunagu.web.security import allow_form_targets
from tsunagu.web.templating import language, render

TrustOf = Callable[[Request], pki.TrustServices]
PUBLIC = [guard(Access.public())]
CITIZEN = [guard(Access.citizen())]
QR_COOKIE = "tsunagu_qr"
QR_MASK = 3  # a fixed mask: choosing the best of 8 masks costs 8x the time (performance-limits.md)
REFUSALS: tuple[type[DomainError], ...] = (
    CardLoginRefused,
    pki.CertificateRefused,
    CardSuspended,
    CardRevoked,
    CardExpired,
    NoSignatureCertificate,
    *PIN_REFUSALS,
)
FORM_REFUSALS: tuple[type[DomainError], ...] = (InvalidInput, *REFUSALS)


def _demo(ctx: AppContext) -> bool:
    return ctx.settings.environment in {"demo", "test"}


def _with_targets(request: Request, response: Response, next_path: str) -> Response:
    """A login on the way to an OpenID authorization ends in a redirect to the RP: let the form go there."""
    with ctx_of(request).uow() as db:
        allow_form_targets(response, form_targets_for_next(db, next_path))
    return response


def _reader_context(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    if not _demo(ctx):
        return {"demo": False, "cards": []}
    with ctx.uow() as db:
        return {"demo": True, "cards": reader.demo_cards(db, ctx.clock)}


def _qr_cookie(secure: bool) -> str:
    return "__Host-" + QR_COOKIE if secure else QR_COOKIE


def router(trust_of: TrustOf) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    key_of = challenge_key_cache()

    def card_answer(request: Request, serial: str, pin: str, qr_id: str | None) -> services.LoginResult:
        """Play the reader: challenge, the chip signs after its PIN check, then the same verification as the
        JSON protocol. Refusals are committed (PIN counter, burnt challenge, audit) and then raised."""
        ctx = ctx_of(request)
        policy = citizen_pages.session_policy(ctx.settings)
        audience = ctx.settings.public_url
        refused: DomainError | None = None
        challenge = services.issue_challenge(key_of(request), ctx.clock, audience, qr_login_id=qr_id)
        with ctx.uow() as db:
            try:
                cert, sig = reader.answer_with_card(
                    db,
                    ctx.settings.master_secret(),
                    ctx.clock,
                    serial,
                    PinSlot.AUTHENTICATION,
                    pin,
                    challenge.message,
                )
                result = services.login_with_card(
                    db,
                    trust_of(request),
                    key_of(request),
                    ctx.clock,
                    policy,
                    audience,
                    challenge.challenge_id,
                    cert,
                    sig,
                )
            except REFUSALS as exc:
                refused = exc
                if isinstance(exc, PIN_REFUSALS):  # this server is the reader: the holder sees the attempt
                    holder = cards.get_card(db, serial).person_id
                    citizen.record_login(db, ctx.clock, holder, "qr" if qr_id else "card", refused=exc.code)
        if refused is not None:
            raise refused
        return result

    async def reader_form(request: Request) -> tuple[str, str]:
        form = await request.form()
        serial, pin = str(form.get("card", "")), str(form.get("pin", ""))
        if not serial:
            raise InvalidInput("Choose a card.", ja="カードを選んでください。", field="card")
        return serial, pin

    # -- card reader (demo) -------------------------------------------------------------------------------

    @r.get("/login/card", dependencies=PUBLIC)
    async def card_page(request: Request, next: str = "/my") -> Response:
        return render(
            request, "cardlogin/card.html", next=safe_next(next), error=None, **_reader_context(request)
        )

    @r.post("/login/card", dependencies=PUBLIC)
    async def card_login(request: Request) -> Response:
        ctx = ctx_of(request)
        form = await request.form()
        target = safe_next(str(form.get("next", "/my")))
        if not _demo(ctx):
            raise InvalidInput(
                "Use a card reader client with this server.", ja="カードリーダーをご利用ください。"
            )
        try:
            serial, pin = await reader_form(request)
            result = card_answer(request, serial, pin, None)
        except FORM_REFUSALS as exc:
            page = render(
                request,
                "cardlogin/card.html",
                status_code=exc.status,
                next=target,
                error=exc.message(language(request)),
                chosen=str(form.get("card", "")),
                **_reader_context(request),
            )
            return _with_targets(request, page, target)
        response = RedirectResponse(target, status_code=303)
        citizen_pages.set_citizen_cookie(response, result.session, ctx.settings)
        return response

    # -- 2D-code login: the PC ------------------------------------------------------------------------------

    @r.get("/login/qr", dependencies=PUBLIC)
    async def qr_start(request: Request, next: str = "/my") -> Response:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            start = qr.start_qr_login(db, ctx.clock, safe_next(next))
        phone_url = f"{ctx.settings.public_url}/login/qr/{start.qr_id}/phone"
        response = render(
            request,
            "cardlogin/qr.html",
            qr_id=start.qr_id,
            confirmation=start.confirmation,
            phone_url=phone_url,
            expires_at=start.expires_at,
        )
        response.set_cookie(
            _qr_cookie(ctx.settings.cookie_secure),
            start.pc_secret,
            httponly=True,
            secure=ctx.settings.cookie_secure,
            samesite="lax",
            path="/",
            max_age=qr.QR_MINUTES * 60,
        )
        return response

    @r.get("/login/qr/{qr_id}/code.svg", dependencies=PUBLIC)
    async def qr_code(request: Request, qr_id: str) -> Response:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            qr.qr_login(db, ctx.clock, qr_id)  # 4xx for an unknown or expired one
        url = f"{ctx.settings.public_url}/login/qr/{qr_id}/phone"
        out = io.BytesIO()  # a standalone SVG document (with its namespace), quiet zone of 4 modules
        segno.make(url, error="m", mask=QR_MASK, micro=False).save(
            out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True, dark="#000", light="#fff"
        )
        return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    @r.get("/login/qr/{qr_id}/status", dependencies=PUBLIC)
    async def qr_status(request: Request, qr_id: str) -> Response:
        """Polled by the PC (a meta refresh, no JavaScript needed): opens the session once the phone is done."""
        ctx = ctx_of(request)
        secret = request.cookies.get(_qr_cookie(ctx.settings.cookie_secure), "")
        refused: DomainError | None = None
        with ctx.uow() as db:
            try:
                done = qr.collect_qr_login(
                    db, ctx.clock, citizen_pages.session_policy(ctx.settings), qr_id, secret
                )
            except CardLoginRefused as exc:
                refused = exc
        if refused is not None:
            return render(
                request,
                "cardlogin/qr_wait.html",
                status_code=refused.status,
                qr_id=qr_id,
                error=refused.message(language(request)),
            )
        if done is None:
            return render(request, "cardlogin/qr_wait.html", qr_id=qr_id, error=None)
        raw, target = done
        response = RedirectResponse(target, status_code=303)
        citizen_pages.set_citizen_cookie(response, raw, ctx.settings)
        response.delete_cookie(_qr_cookie(ctx.settings.cookie_secure), path="/")
        return response

    # -- 2D-code login: the phone ---------------------------------------------------------------------------

    @r.get("/login/qr/{qr_id}/phone", dependencies=PUBLIC)
    async def qr_phone(request: Request, qr_id: str) -> Response:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            row = qr.qr_login(db, ctx.clock, qr_id)
            confirmation = row.confirmation
        return render(
            request,
            "cardlogin/qr_phone.html",
            qr_id=qr_id,
            confirmation=confirmation,
            error=None,
            done=False,
            **_reader_context(request),
        )

    @r.post("/login/qr/{qr_id}/phone", dependencies=PUBLIC)
    async def qr_phone_answer(request: Request, qr_id: str) -> Response:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            confirmation = qr.qr_login(db, ctx.clock, qr_id).confirmation
        if not _demo(ctx):
            raise InvalidInput(
                "Use the card reader app on the phone.", ja="スマートフォンのアプリをご利用ください。"
            )
        try:
            serial, pin = await reader_form(request)
            card_answer(request, serial, pin, qr_id)
        except FORM_REFUSALS as exc:
            return render(
                request,
                "cardlogin/qr_phone.html",
                status_code=exc.status,
                qr_id=qr_id,
                confirmation=confirmation,
                error=exc.message(language(request)),
                done=False,
                **_reader_context(request),
            )
        return render(
            request,
            "cardlogin/qr_phone.html",
            qr_id=qr_id,
            confirmation=confirmation,
            error=None,
            done=True,
            demo=True,
            cards=[],
        )

    # -- signature PIN re-authentication ---------------------------------------------------------------------

    @r.get("/my/reauth", dependencies=CITIZEN)
    async def reauth_page(request: Request, next: str = "/my") -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            serial = reader.active_card_of(db, me.person_id)
        return render(
            request, "cardlogin/reauth.html", next=safe_next(next), serial=serial, error=None, demo=_demo(ctx)
        )

    @r.post("/my/reauth", dependencies=CITIZEN)
    async def reauth(request: Request) -> Response:
        """The signature PIN, checked by the chip signing a fresh challenge with the 署名用 key; the signature and
        certificate are verified like any signature (chain, validity, revocation)."""
        me = citizen_principal(request)
        ctx = ctx_of(request)
        form = await request.form()
        target = safe_next(str(form.get("next", "/my")))
        pin = str(form.get("pin", ""))
        refused: DomainError | None = None
        with ctx.uow() as db:
            serial = reader.active_card_of(db, me.person_id)
        challenge = services.issue_challenge(key_of(request), ctx.clock, ctx.settings.public_url)
        with ctx.uow() as db:
            try:
                if serial is None or not _demo(ctx):
                    raise InvalidInput("No usable card.", ja="利用できるカードがありません。")
                cert, sig = reader.answer_with_card(
                    db,
                    ctx.settings.master_secret(),
                    ctx.clock,
                    serial,
                    PinSlot.SIGNATURE,
                    pin,
                    challenge.message,
                )
                services.verify_reauthentication(
                    db, trust_of(request), key_of(request), ctx.clock, me, challenge, cert, sig
                )
                citizen.mark_signature_verified(db, me.session_id_hash, ctx.clock)
                audit.record_citizen(
                    db, me, audit.AuditAction.CITIZEN_REAUTHENTICATED, f"person:{me.person_id}"
                )
            except FORM_REFUSALS as exc:
                refused = exc
        if refused is not None:
            return render(
                request,
                "cardlogin/reauth.html",
                status_code=refused.status,
                next=target,
                serial=serial,
                error=refused.message(language(request)),
                demo=_demo(ctx),
            )
        return RedirectResponse(target, status_code=303)

    return r
