"""Pages and browser-ceremony endpoints of passkeys: passkey login, and the resident's list of passkeys (register,
revoke, replace on a phone change).

The ceremonies need JavaScript (``/static/passkeys.js``; the CSP forbids inline scripts). Its JSON endpoints are
same-origin browser endpoints, not part of the public API: they carry the CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.passkeys import errors, services
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError, InvalidInput
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.errors import problem
from tsunagu.web.pages import safe_next
from tsunagu.web.templating import language, render

PUBLIC = [guard(Access.public())]
CITIZEN = [guard(Access.citizen())]
MY_SECTION = {
    "href": "/my/passkeys",
    "title": "パスキー（スマホ用の認証情報）",
    "description": "この端末でカードなしでログインするためのパスキーの登録と管理",
    "title_en": "Passkeys (smartphone credentials)",
    "description_en": "Register and manage passkeys to log in on this device without the card",
}


def relying_party(ctx: AppContext) -> services.RelyingParty:
    site = str(ctx.extras.get("site_name", ""))
    return services.RelyingParty.for_public_url(ctx.settings.public_url, f"tsunagu {site}".strip())


def _options(body: str) -> Response:
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _refused(request: Request, exc: DomainError) -> JSONResponse:
    """A ceremony refusal as problem+json, its detail in the reader's language (the script shows it)."""
    return problem(request, exc.status, exc.code, exc.title, exc.message(language(request)), **exc.extra)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object.", ja="JSON オブジェクトを送ってください。")
    return body


def _credential(body: dict[str, Any]) -> dict[str, Any]:
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise InvalidInput("The passkey response is missing.", ja="パスキーの応答がありません。")
    return credential


def _login_routes(r: APIRouter) -> None:
    @r.get("/login/passkey", dependencies=PUBLIC)
    async def login_page(request: Request, next: str = "/my") -> Response:
        return render(request, "passkeys/login.html", next=safe_next(next))

    @r.post("/login/passkey/options", dependencies=PUBLIC)
    async def login_options(request: Request) -> Response:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            body = services.begin_login(db, ctx.clock, relying_party(ctx))
        return _options(body)

    @r.post("/login/passkey/verify", dependencies=PUBLIC)
    async def login_verify(request: Request) -> Response:
        ctx = ctx_of(request)
        body = await _json_object(request)
        credential = _credential(body)
        next_path = safe_next(body.get("next") if isinstance(body.get("next"), str) else "/my")
        policy = citizen_pages.session_policy(ctx.settings)
        with ctx.uow() as db:  # commits a refusal's audit entry, login record and burnt challenge too
            outcome = services.finish_login(db, ctx.clock, relying_party(ctx), policy, credential)
        try:
            raw = outcome.raise_if_refused()
        except errors.PasskeyLoginRefused as exc:
            return _refused(request, exc)
        response = JSONResponse({"status": "ok", "next": next_path}, headers={"Cache-Control": "no-store"})
        citizen_pages.set_citizen_cookie(response, raw, ctx.settings)
        return response


def _my_routes(r: APIRouter) -> None:
    @r.get("/my/passkeys", dependencies=CITIZEN)
    async def my_passkeys(request: Request, replace: int | None = None) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            passkeys = services.passkeys_of(db, me.person_id)
        replacing = next((p for p in passkeys if p.id == replace and p.revoked_at is None), None)
        return render(
            request,
            "passkeys/my.html",
            me=me,
            passkeys=passkeys,
            replacing=replacing,
            can_register=services.may_register(me),
            notice=request.query_params.get("done", ""),
        )

    @r.post("/my/passkeys/options", dependencies=CITIZEN)
    async def registration_options(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        body = await _json_object(request)
        label = body.get("label")
        replaces = body.get("replaces")
        try:
            with ctx.uow() as db:
                options = services.begin_registration(
                    db,
                    ctx.clock,
                    relying_party(ctx),
                    me,
                    label if isinstance(label, str) else "",
                    replaces if isinstance(replaces, int) and not isinstance(replaces, bool) else None,
                )
        except DomainError as exc:
            return _refused(request, exc)
        return _options(options)

    @r.post("/my/passkeys/register", dependencies=CITIZEN)
    async def register(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        credential = _credential(await _json_object(request))
        with ctx.uow() as db:  # commits the burnt challenge of a refused registration too
            outcome = services.finish_registration(db, ctx.clock, relying_party(ctx), me, credential)
        try:
            outcome.raise_if_refused()
        except DomainError as exc:
            return _refused(request, exc)
        return JSONResponse({"status": "ok", "next": "/my/passkeys?done=registered"})

    @r.post("/my/passkeys/{passkey_id}/revoke", dependencies=CITIZEN)
    async def revoke(request: Request, passkey_id: int) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            services.revoke(db, ctx.clock, me, passkey_id)
        return RedirectResponse("/my/passkeys?done=revoked", status_code=303)


def router(ctx: AppContext) -> APIRouter:
    """The passkey routes; also lists the passkey page among the sections of マイページ."""
    ctx.extras.setdefault("my_sections", []).append(dict(MY_SECTION))
    r = APIRouter(include_in_schema=False)
    _login_routes(r)
    _my_routes(r)
    return r
