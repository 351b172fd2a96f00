"""The SMART Health Card issuer's public documents, as the spec names them under the issuer URL
``{public_url}/credentials/shc``:

- ``GET /credentials/shc/.well-known/jwks.json``: the signing key (``crlVersion`` once a card has been revoked);
- ``GET /credentials/shc/.well-known/crl/{kid}.json``: the key's revocation list ``{kid, method: "rid", ctr, rids}``.

Both are public, cacheable and sent with ``Access-Control-Allow-Origin: *`` (the spec requires CORS so browser-based
verifiers can fetch them). They are JSON documents defined by the spec, not part of the versioned ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tsunagu.credentials.context import SHC_PATH, CredentialsContext
from tsunagu.credentials.services import revocation
from tsunagu.kernel.access import Access
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of

WELL_KNOWN = f"{SHC_PATH}/.well-known"
CACHE = "public, max-age=300"  # a verifier may keep the keys and the CRL five minutes
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": CACHE}


def credentials_context_of(request: Request) -> CredentialsContext:
    found = ctx_of(request).extras["credentials"]
    assert isinstance(found, CredentialsContext)  # noqa: S101 - set by the app factory
    return found


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(f"{WELL_KNOWN}/jwks.json", dependencies=[guard(Access.public())])
    def jwks(request: Request) -> Response:
        with ctx_of(request).uow() as db:
            body = revocation.jwks(db, credentials_context_of(request))
        return JSONResponse(body, headers=CORS)

    @r.get(WELL_KNOWN + "/crl/{kid}.json", dependencies=[guard(Access.public())])
    def crl(request: Request, kid: str) -> Response:
        with ctx_of(request).uow() as db:
            body = revocation.crl(db, credentials_context_of(request), kid)
        return JSONResponse(body, headers=CORS)

    return r
