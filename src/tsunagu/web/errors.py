"""One error shape: RFC 9457 problem+json for the API, a translated page for people."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tsunagu.kernel.errors import DomainError, NotAuthenticated
from tsunagu.web.templating import language, render

PROBLEM_BASE = "https://tsunagu.example/problems/"
PROBLEM_JSON = "application/problem+json"


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith(("/api/", "/linkage/v1/"))
        or request.url.path == "/healthz"
        or (
            "application/json" in request.headers.get("accept", "")
            and "text/html" not in request.headers.get("accept", "")
        )
    )


def problem(request: Request, status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if isinstance(v, str | int | float | bool | list | dict)})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, DomainError):  # pragma: no cover - registered for DomainError only
        raise exc
    if wants_json(request):
        return problem(request, exc.status, exc.code, exc.title, exc.detail, **exc.extra)
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        access = getattr(request.state, "access", None)
        if access is not None and access.kind == "citizen":  # keep the query (an OIDC request lives in it)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)
    return render(
        request,
        "error.html",
        status_code=exc.status,
        status=exc.status,
        code=exc.code,
        detail=exc.message(language(request)),
    )


async def on_http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    if wants_json(request):
        return problem(request, exc.status_code, code, str(exc.detail), str(exc.detail))
    return render(
        request, "error.html", status_code=exc.status_code, status=exc.status_code, code=code, detail=""
    )


async def on_validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "The request is not valid."
    if wants_json(request):
        return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)
    return render(request, "error.html", status_code=422, status=422, code="invalid-input", detail=detail)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return problem(request, 500, "internal", "Internal error", "Something went wrong on our side.")
    return render(request, "error.html", status_code=500, status=500, code="internal", detail="")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
