"""Every route declares who may call it with ``dependencies=[guard(Access...)]``; an architecture test fails any
route without one. The guard resolves the caller (session cookie or bearer token) and enforces the access."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from starlette.requests import Request

from tsunagu.kernel.access import Access, CitizenPrincipal, Principal
from tsunagu.kernel.errors import Forbidden, NotAuthenticated
from tsunagu.web.context import ctx_of


def current_principal(request: Request) -> Principal | None:
    """The caller, resolved once per request and cached on ``request.state``."""
    if not hasattr(request.state, "principal"):
        ctx = ctx_of(request)
        with ctx.uow() as db:
            request.state.principal = ctx.resolve_principal(db, request)
    principal: Principal | None = request.state.principal
    return principal


def current_citizen(request: Request) -> CitizenPrincipal | None:
    """The logged-in resident (portal session cookie), resolved once per request and cached."""
    if not hasattr(request.state, "citizen"):
        ctx = ctx_of(request)
        with ctx.uow() as db:
            request.state.citizen = ctx.resolve_citizen(db, request)
    citizen: CitizenPrincipal | None = request.state.citizen
    return citizen


def guard(access: Access) -> Any:
    def check(request: Request) -> Principal | CitizenPrincipal | None:
        request.state.access = access
        # these handlers authenticate the caller themselves
        if access.kind in {"public", "oauth_client", "signed_message"}:
            return None
        if access.kind == "citizen":
            citizen = current_citizen(request)
            if citizen is None:
                raise NotAuthenticated(
                    "Log in with your My Number card or a passkey.",
                    ja="マイナンバーカードまたはパスキーでログインしてください。",
                )
            return citizen
        principal = current_principal(request)
        if principal is None:
            raise NotAuthenticated("Log in as staff to use this page.")
        if access.permission is not None and not principal.can(access.permission):
            raise Forbidden(f"Your role does not include {access.permission}.")
        return principal

    check.access = access  # type: ignore[attr-defined]
    return Depends(check)


def staff_principal(request: Request) -> Principal:
    """For handlers behind a staff guard: the principal, which the guard has already checked."""
    principal = current_principal(request)
    if principal is None:
        raise NotAuthenticated("Log in as staff to use this page.")
    return principal


def citizen_principal(request: Request) -> CitizenPrincipal:
    """For handlers behind a citizen guard: the logged-in resident, already checked by the guard."""
    citizen = current_citizen(request)
    if citizen is None:
        raise NotAuthenticated("Log in with your My Number card or a passkey.")
    return citizen
