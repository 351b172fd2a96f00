"""Staff login and logout pages."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity import services
from tsunagu.kernel.access import Access, Principal
from tsunagu.kernel.errors import NotAuthenticated
from tsunagu.web.access import current_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.pages import safe_next
from tsunagu.web.templating import render

SESSION_COOKIE = "tsunagu_session"


def session_cookie_name(secure: bool) -> str:
    return "__Host-" + SESSION_COOKIE if secure else SESSION_COOKIE


def router() -> APIRouter:
    r = APIRouter(prefix="/staff", include_in_schema=False)

    @r.get("/login", dependencies=[guard(Access.public())])
    async def login_form(request: Request, next: str = "/staff") -> Response:
        return render(request, "staff/login.html", next=safe_next(next), error=None, username="")

    @r.post("/login", dependencies=[guard(Access.public())])
    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/staff")))
        ctx = ctx_of(request)
        err: NotAuthenticated | None = None
        with ctx.uow() as db:  # commits on failure too, so the failed-login count and lockout are kept
            try:
                user = services.authenticate(db, username, password, ctx.clock)
            except NotAuthenticated as exc:
                err = exc
            else:
                raw = services.open_session(db, user, ctx.clock, ctx.settings.session_minutes)
        if err is not None:
            return render(
                request, "staff/login.html", status_code=401, next=target, error=err.detail, username=username
            )
        response = RedirectResponse(target, status_code=303)
        secure = ctx.settings.cookie_secure
        response.set_cookie(
            session_cookie_name(secure), raw, httponly=True, secure=secure, samesite="lax", path="/"
        )
        return response

    @r.post("/logout", dependencies=[guard(Access.staff())])
    async def logout(request: Request) -> Response:
        ctx = ctx_of(request)
        raw = request.cookies.get(session_cookie_name(ctx.settings.cookie_secure))
        if raw:
            with ctx.uow() as db:
                services.close_session(db, raw)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(session_cookie_name(ctx.settings.cookie_secure), path="/")
        return response

    @r.get("", dependencies=[guard(Access.staff())])
    async def staff_home(request: Request) -> Response:
        return render(request, "staff/home.html", me=current_principal(request))

    return r


def resolve(db: Session, request: Request) -> Principal | None:
    """Principal resolver: bearer token first, then the session cookie."""
    ctx = ctx_of(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return services.resolve_api_token(db, auth[7:].strip())
    raw = request.cookies.get(session_cookie_name(ctx.settings.cookie_secure))
    if not raw:
        return None
    return services.resolve_session(db, raw, ctx.clock, ctx.settings.session_minutes)
