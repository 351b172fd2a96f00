"""Pages of the shell: the top page, the language switch and the health check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tsunagu.kernel.access import Access
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of
from tsunagu.web.i18n import LANG_COOKIE, LANGUAGES
from tsunagu.web.templating import render

PUBLIC = [guard(Access.public())]


def safe_next(target: str | None) -> str:
    """Only local paths: refuses ``//host`` and absolute URLs (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def router(top_context: Callable[[Request], dict[str, Any]]) -> APIRouter:
    r = APIRouter()

    @r.get("/", dependencies=PUBLIC, include_in_schema=False)
    async def top(request: Request) -> Response:
        return render(request, "index.html", **top_context(request))

    @r.get("/language/{lang}", dependencies=PUBLIC, include_in_schema=False)
    async def switch_language(request: Request, lang: str, next: str = "/") -> Response:
        response = RedirectResponse(safe_next(next), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 24 * 3600,
                samesite="lax",
                httponly=True,
                secure=ctx_of(request).settings.cookie_secure,
                path="/",
            )
        return response

    @r.get("/healthz", dependencies=PUBLIC, tags=["platform"])
    async def healthz(request: Request) -> JSONResponse:
        """Liveness and database check."""
        try:
            with ctx_of(request).engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {"status": "fail", "database": "unreachable"},
                status_code=503,
                media_type="application/health+json",
            )
        return JSONResponse({"status": "pass", "database": "ok"}, media_type="application/health+json")

    return r
