"""The authorization endpoint (OIDC Core §3.1.2): validate with authlib, then log in again if the request needs
it (``acr_values``, ``max_age``, ``prompt=login``), then the consent screen, or a code when consent is on file.

Errors before the client and its redirect URI are verified are shown to the resident on a page and never
redirected (RFC 6749 §4.1.2.1); later ones go back to the client with ``error`` and ``state``. Each is audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.core import oidc_claims as rules
from tsunagu.identity.oidc import services
from tsunagu.identity.oidc.adapters import StarletteOAuth2Request
from tsunagu.identity.oidc.models import OidcClient
from tsunagu.identity.oidc.server import Server, record_refusal
from tsunagu.identity.oidc.targets import origin_of
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.web.security import allow_form_targets
from tsunagu.web.templating import render

# Added to the request when prompt=login sends the resident to log in again: a login at or after it meets it.
LOGIN_AFTER = "tsunagu_login_after"


def _query_request(request: Request) -> StarletteOAuth2Request:
    return StarletteOAuth2Request(
        request.method, str(request.url), request.headers, list(request.query_params.multi_items()), []
    )


def _error_page(request: Request, error: OAuth2Error) -> Response:
    """RFC 6749 §4.1.2.1: without a verified redirect URI, tell the resident, never redirect."""
    return render(
        request,
        "oidc/error.html",
        status_code=400,
        error=error.error,
        description=str(error.description or ""),
    )


def _redirect_error(server: Server, error: OAuth2Error, status: int = 302) -> Response:
    response: Response = server.handle_response(*error(None))
    response.status_code = status
    return response


def _login_redirect(request: Request, now: int, *, mark: bool) -> Response:
    target = request.url.path + "?" + request.url.query
    if mark:
        target += f"&{LOGIN_AFTER}={now}"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _login_needed(
    oreq: StarletteOAuth2Request, me: CitizenPrincipal, now: int, redirect_uri: str
) -> str | None:
    """Why the resident must log in again before this request: ``acr``, ``max_age`` or ``prompt`` (else None).

    ``prompt=login`` is met by a login after the request first arrived (the marker ``tsunagu_login_after``)."""
    data = oreq.payload.data
    if not rules.acr_satisfies(me.acr, (data.get("acr_values") or "").split()):
        return "acr"
    raw_age = data.get("max_age")
    if raw_age is not None:
        if not raw_age.isdigit():
            raise InvalidRequestError(
                "max_age must be a non-negative integer (seconds).",
                redirect_uri=redirect_uri,
                state=oreq.payload.state,
            )
        if rules.login_too_old(me.auth_time, now, int(raw_age)):
            return "max_age"
    if "login" in (data.get("prompt") or "").split():
        after = data.get(LOGIN_AFTER, "")
        if not (after.isdigit() and me.auth_time >= int(after)):
            return "prompt"
    return None


def _prompts(oreq: StarletteOAuth2Request) -> list[str]:
    return (oreq.payload.data.get("prompt") or "").split()


def _issue(
    server: Server, oreq: StarletteOAuth2Request, grant: Any, me: CitizenPrincipal, status: int
) -> Response:
    response: Response = server.create_authorization_response(oreq, grant_user=me, grant=grant)
    if "code=" in response.headers.get("location", ""):
        client_id = grant.client.get_client_id()
        citizen.record_login(
            server.env.db, server.env.provider.clock, me.person_id, me.method, relying_party=client_id
        )
    response.status_code = status if response.status_code == 302 else response.status_code
    return response


def _consent_page(
    request: Request, db: Session, grant: Any, scopes: list[str], me: CitizenPrincipal
) -> Response:
    client: OidcClient = grant.client.row
    person = services.person_of(db, me.person_id)
    response = render(
        request,
        "oidc/consent.html",
        client=client,
        scopes=scopes,
        address_suppressed=person.address_suppressed and "address" in scopes,
        action=request.url.path + "?" + request.url.query,
    )
    allow_form_targets(response, [origin_of(grant.redirect_uri)])  # the answer redirects to the RP
    return response


def _refuse(server: Server, oreq: StarletteOAuth2Request, error: OAuth2Error, status: int) -> Response:
    error.state = oreq.payload.state
    record_refusal(server.env.db, oreq, error, endpoint="authorize", actor=server.actor)
    return _redirect_error(server, error, status)


def authorize(request: Request, server: Server, me: CitizenPrincipal, decision: str | None) -> Response:
    """Answer an authorization request (GET: ``decision`` None; POST from the consent screen: allow/deny)."""
    try:
        oreq = _query_request(request)
    except OAuth2Error as error:  # plain http to a host that is not a loopback address
        return _error_page(request, error)
    try:
        grant = server.get_consent_grant(oreq, end_user=me)
        why = _login_needed(oreq, me, server.env.now, grant.redirect_uri)
    except OAuth2Error as error:
        record_refusal(server.env.db, oreq, error, endpoint="authorize", actor=server.actor)
        if getattr(error, "redirect_uri", None):
            return _redirect_error(server, error)
        return _error_page(request, error)
    status = 303 if request.method == "POST" else 302
    if why is not None:
        if "none" in _prompts(oreq):
            return _refuse(server, oreq, LoginRequiredError(redirect_uri=grant.redirect_uri), status)
        return _login_redirect(request, server.env.now, mark=why == "prompt")
    return _consent_step(request, server, oreq, grant, me, decision, status)


def _consent_step(
    request: Request,
    server: Server,
    oreq: StarletteOAuth2Request,
    grant: Any,
    me: CitizenPrincipal,
    decision: str | None,
    status: int,
) -> Response:
    db, clock = server.env.db, server.env.provider.clock
    scopes = rules.parse_scopes(oreq.scope)
    client_id = grant.client.get_client_id()
    known = services.has_consent(db, me.person_id, client_id, scopes)
    if decision == "allow":
        if not known:
            services.give_consent(db, clock, me, client_id, scopes)
        return _issue(server, oreq, grant, me, status)
    if decision is not None:
        return _refuse(server, oreq, AccessDeniedError(redirect_uri=grant.redirect_uri), status)
    if known and "consent" not in _prompts(oreq):
        return _issue(server, oreq, grant, me, status)
    if "none" in _prompts(oreq):
        return _refuse(server, oreq, ConsentRequiredError(redirect_uri=grant.redirect_uri), status)
    return _consent_page(request, db, grant, scopes, me)
