"""マイページ › 代理人: register, accept, act for, stop acting, revoke."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.proxies import services
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
SECTION = {
    "href": "/my/proxies",
    "title": "代理人",
    "description": "家族などに手続きを任せる登録と、代理で手続きする方の切り替え",
    "title_en": "Proxies",
    "description_en": "Let family members act for you, and switch to acting for someone who asked you",
}


def router() -> APIRouter:
    r = APIRouter(prefix="/my/proxies", include_in_schema=False)

    def page(request: Request, status: int = 200, **extra: object) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            mine, theirs = services.overview(db, me.person_id)
            children = services.minor_children(db, ctx.clock, me.person_id)
        registered = {g.other_person_id for g in theirs}
        extra.setdefault("error", None)
        extra.setdefault("code", None)
        return render(
            request,
            "proxies/proxies.html",
            status_code=status,
            me=me,
            mine=mine,
            theirs=theirs,
            children=[c for c in children if c.person_id not in registered],
            **extra,
        )

    async def act(request: Request, action: str, grant_id: int = 0) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        form = await request.form()
        code: str | None = None
        try:
            with ctx.uow() as db:
                if action == "invite":
                    services.ensure_self(me)
                    citizen.require_recent_signature(db, me, ctx.clock)
                    _, code = services.invite_voluntary(db, ctx.clock, me)
                elif action == "accept":
                    services.accept_invite(db, ctx.clock, me, str(form.get("code", "")))
                elif action == "child":
                    services.register_as_parent(db, ctx.clock, me, int(str(form.get("child", "0")) or 0))
                elif action == "revoke":
                    services.revoke(db, ctx.clock, me, grant_id)
                elif action == "act":
                    services.start_acting(db, me, grant_id)
                elif action == "stop":
                    services.stop_acting(db, me)
        except citizen.ReauthenticationRequired:
            return RedirectResponse("/my/reauth?next=/my/proxies", status_code=303)
        except DomainError as exc:
            return page(request, exc.status, error=exc.message(language(request)))
        if code is not None:
            return page(request, code=code)
        return RedirectResponse("/my" if action in {"act", "stop"} else "/my/proxies", status_code=303)

    @r.get("", dependencies=CITIZEN)
    async def proxies_page(request: Request) -> Response:
        return page(request)

    @r.post("/invite", dependencies=CITIZEN)
    async def invite(request: Request) -> Response:
        """A voluntary proxy: needs the signature PIN (delegating is signature-level)."""
        return await act(request, "invite")

    @r.post("/accept", dependencies=CITIZEN)
    async def accept(request: Request) -> Response:
        return await act(request, "accept")

    @r.post("/children", dependencies=CITIZEN)
    async def child(request: Request) -> Response:
        return await act(request, "child")

    @r.post("/{grant_id}/revoke", dependencies=CITIZEN)
    async def revoke(request: Request, grant_id: int) -> Response:
        return await act(request, "revoke", grant_id)

    @r.post("/{grant_id}/act", dependencies=CITIZEN)
    async def start(request: Request, grant_id: int) -> Response:
        return await act(request, "act", grant_id)

    @r.post("/stop", dependencies=CITIZEN)
    async def stop(request: Request) -> Response:
        return await act(request, "stop")

    return r
