"""Security headers on every response and CSRF protection on every unsafe request.

CSRF: a random token in a cookie (``SameSite=Strict``, ``HttpOnly``); every form carries the same value in
``csrf_token`` and every cookie-authenticated JSON write sends it as ``X-CSRF-Token``. Requests that carry a
bearer token (no ambient credentials) are exempt. A mismatch is refused with 403 before any handler runs.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "tsunagu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already-read body once, then defers to the server (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _submitted_token(scope: Scope, headers: Headers, body: bytes, receive: Receive) -> str:
    header = headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        return (parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [""])[0]
    if ctype.startswith("multipart/form-data"):
        form = await Request(scope, _replay(body, receive)).form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def _csrf_cookie_header(token: str, secure: bool) -> bytes:
    cookie = Response()
    cookie.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    return dict(cookie.raw_headers)[b"set-cookie"]


class SecurityMiddleware:
    """A pure ASGI middleware (no per-request task group, unlike ``BaseHTTPMiddleware``): it reads the body only
    for unsafe, cookie-authenticated requests that carry the token in a form, and replays it to the app."""

    def __init__(
        self, app: ASGIApp, *, secure_cookies: bool, csrf_exempt_prefixes: tuple[str, ...] = ()
    ) -> None:
        """``csrf_exempt_prefixes``: protocol endpoints called by programs, not by a browser with cookies
        (the OAuth token endpoint, the JSON card-login protocol). They must not act on cookies."""
        self.app = app
        self.secure = secure_cookies
        self.exempt = csrf_exempt_prefixes or ("\0",)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        fresh = len(cookie) < 32
        token = secrets.token_urlsafe(32) if fresh else cookie
        scope.setdefault("state", {})["csrf_token"] = token
        https = scope.get("scheme") == "https"
        if (
            scope["method"] in UNSAFE
            and not request.headers.get("authorization", "").lower().startswith("bearer ")
            and not scope["path"].startswith(self.exempt)
        ):
            body = await _read_body(receive)
            receive = _replay(body, receive)
            submitted = await _submitted_token(scope, request.headers, body, receive)
            if fresh or not submitted or not hmac.compare_digest(submitted, cookie):
                await _csrf_refused(scope["path"])(scope, receive, _with_headers(send, https, None))
                return
        set_cookie = _csrf_cookie_header(token, self.secure) if fresh else None
        await self.app(scope, receive, _with_headers(send, https, set_cookie))


def _csrf_refused(path: str) -> Response:
    body = {
        "type": "https://tsunagu.example/problems/csrf",
        "title": "CSRF check failed",
        "status": 403,
        "detail": "The form has expired or did not come from this site. Reload the page and try again.",
        "instance": path,
    }
    return JSONResponse(body, status_code=403, media_type="application/problem+json")


def _with_headers(send: Send, https: bool, set_cookie: bytes | None) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            h = MutableHeaders(scope=message)
            if "content-security-policy" not in h:
                h["Content-Security-Policy"] = CSP
            h["X-Content-Type-Options"] = "nosniff"
            h["X-Frame-Options"] = "DENY"
            h["Referrer-Policy"] = "same-origin"
            h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
            h["Cross-Origin-Opener-Policy"] = "same-origin"
            if https:
                h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
            if "text/html" in h.get("content-type", "") and "cache-control" not in h:
                h["Cache-Control"] = "no-store"
            if set_cookie is not None:
                h.append("set-cookie", set_cookie.decode("latin-1"))
        await send(message)

    return wrapped
