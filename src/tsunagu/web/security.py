"""Security headers on every response and CSRF protection on every unsafe request.

CSRF: a random token in a cookie (``SameSite=Strict``, ``HttpOnly``); every form carries the same value in
``csrf_token`` and every cookie-authenticated JSON write sends it as ``X-CSRF-Token``. Requests that carry a
bearer token (no ambient credentials) are exempt. A mismatch is refused with 403 before any handler runs.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qs

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

CSRF_COOKIE = "tsunagu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Handler = Callable[[Request], Awaitable[Response]]


def allow_form_targets(response: Response, origins: Iterable[str]) -> None:
    """Widen ``form-action`` on one response to registered origins. Browsers apply ``form-action`` to every
    redirect after a form submission, so a page whose form ends in a redirect to a relying party (the OIDC consent
    screen; a login page on the way to ``/oidc/authorize``) must name that party's origin."""
    extra = sorted(
        {o for o in origins if o.startswith(("https://", "http://")) and " " not in o and ";" not in o}
    )
    if extra:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", "form-action 'self' " + " ".join(extra)
        )


def csrf_token(request: Request) -> str:
    token: str = request.state.csrf_token
    return token


async def _submitted_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", "replace")
        return (parse_qs(body).get(CSRF_FIELD) or [""])[0]
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


class SecurityMiddleware(BaseHTTPMiddleware):
    def __init__(
        self, app: ASGIApp, *, secure_cookies: bool, csrf_exempt_prefixes: tuple[str, ...] = ()
    ) -> None:
        """``csrf_exempt_prefixes``: protocol endpoints called by programs, not by a browser with cookies
        (the OAuth token endpoint, the JSON card-login protocol). They must not act on cookies."""
        super().__init__(app)
        self.secure = secure_cookies
        self.exempt = csrf_exempt_prefixes

    async def dispatch(self, request: Request, call_next: Handler) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        fresh = len(cookie) < 32
        request.state.csrf_token = secrets.token_urlsafe(32) if fresh else cookie
        if (
            request.method in UNSAFE
            and not request.headers.get("authorization", "").lower().startswith("bearer ")
            and not request.url.path.startswith(self.exempt or ("\0",))
        ):
            submitted = await _submitted_token(request)
            if fresh or not submitted or not hmac.compare_digest(submitted, cookie):
                return _csrf_refused(request)
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                request.state.csrf_token,
                httponly=True,
                samesite="strict",
                secure=self.secure,
                path="/",
            )
        _headers(request, response)
        return response


def _csrf_refused(request: Request) -> Response:
    body = {
        "type": "https://tsunagu.example/problems/csrf",
        "title": "CSRF check failed",
        "status": 403,
        "detail": "The form has expired or did not come from this site. Reload the page and try again.",
        "instance": request.url.path,
    }
    response = JSONResponse(body, status_code=403, media_type="application/problem+json")
    _headers(request, response)
    return response


def _headers(request: Request, response: Response) -> None:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.url.scheme == "https":
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if "text/html" in h.get("content-type", ""):
        h.setdefault("Cache-Control", "no-store")
