"""The public repository page (like J-LIS's 認証局の運営に関する情報): the CA certificates with their
fingerprints, and links to the CRLs, for people who set up a verifier."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.kernel.access import Access
from tsunagu.pki.services import TrustServices
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import render


def router(trust_of: Callable[[Request], TrustServices]) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/pki", dependencies=[guard(Access.public())])
    def repository(request: Request) -> Response:
        with ctx_of(request).uow() as db:
            authorities = trust_of(request).authorities(db)
        return render(request, "pki/repository.html", authorities=authorities)

    return r
