"""The resident's portal shell: the login choices, logout, "log out everywhere", and マイページ with the login
history. Other parts (card login, passkeys, OIDC consents, proxies) add their own pages and link from here."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity.citizen import services
from tsunagu.identity.oidc.targets import client_names
from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.settings import Settings
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.pages import safe_next
from tsunagu.web.templating import render

CITIZEN_COOKIE = "tsunagu_citizen"
PUBLIC = [guard(Access.public())]
CITIZEN = [guard(Access.citizen())]


def citizen_cookie_name(secure: bool) -> str:
    return "__Host-" + CITIZEN_COOKIE if secure else CITIZEN_COOKIE


def session_policy(settings: Settings) -> services.SessionPolicy:
    return services.SessionPolicy(settings.citizen_idle_minutes, settings.citizen_absolute_minutes)


def set_citizen_cookie(response: Response, raw: str, settings: Settings) -> None:
    """Attach a new portal session to a response (HttpOnly, SameSite=Lax, Secure unless configured off)."""
    secure = settings.cookie_secure
    response.set_cookie(
        citizen_cookie_name(secure),
        raw,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
        max_age=settings.citizen_absolute_minutes * 60,
    )


def clear_citizen_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(citizen_cookie_name(settings.cookie_secure), path="/")


def resolve_citizen(db: Session, request: Request) -> CitizenPrincipal | None:
    """Citizen resolver for the app context: the portal session cookie, if live."""
    ctx = ctx_of(request)
    raw = request.cookies.get(citizen_cookie_name(ctx.settings.cookie_secure))
    if not raw:
        return None
    return services.resolve_citizen_session(db, raw, ctx.clock, session_policy(ctx.settings))


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/login", dependencies=PUBLIC)
    async def login_choices(request: Request, next: str = "/my") -> Response:
        ctx = ctx_of(request)
        return render(
            request,
            "citizen/login.html",
            next=safe_next(next),
            demo=ctx.settings.environment in {"demo", "test"},
        )

    @r.post("/logout", dependencies=CITIZEN)
    async def logout(request: Request) -> Response:
        ctx = ctx_of(request)
        raw = request.cookies.get(citizen_cookie_name(ctx.settings.cookie_secure))
        if raw:
            with ctx.uow() as db:
                services.close_citizen_session(db, raw)
        response = RedirectResponse("/?logged_out=1", status_code=303)
        clear_citizen_cookie(response, ctx.settings)
        return response

    @r.get("/my", dependencies=CITIZEN)
    async def my_page(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            logins = services.login_history(db, me.person_id, limit=5)
            names = client_names(db, {x.relying_party for x in logins if x.relying_party})
        sections = ctx.extras.get("my_sections", [])
        return render(request, "citizen/my.html", me=me, logins=logins, sections=sections, rp_names=names)

    @r.get("/my/logins", dependencies=CITIZEN)
    async def my_logins(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            logins = services.login_history(db, me.person_id, limit=200)
            names = client_names(db, {x.relying_party for x in logins if x.relying_party})
        return render(request, "citizen/logins.html", me=me, logins=logins, rp_names=names)

    @r.post("/my/sessions/end-all", dependencies=CITIZEN)
    async def end_all(request: Request) -> Response:
        """ "Log out everywhere": ends every session of this person, this one included."""
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            services.close_all_sessions(db, me.person_id, f"person:{me.person_id}", "citizen_request")
        response = RedirectResponse("/login?ended=1", status_code=303)
        clear_citizen_cookie(response, ctx.settings)
        return response

    return r
