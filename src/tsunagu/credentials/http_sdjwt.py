"""HTTP face of the SD-JWT VCs: the issuer's public documents and the verifier's protocol endpoints.

- ``GET /.well-known/jwt-vc-issuer/credentials/vc``: JWT VC Issuer Metadata (``issuer``, ``jwks``),
  draft-ietf-oauth-sd-jwt-vc §5 (the well-known segment inserted before the issuer's path).
- ``GET /credentials/vc/types/{kind}``: SD-JWT VC Type Metadata of our ``vct`` values.
- ``GET /credentials/vc/status/{list_id}``: the signed Token Status List (``application/statuslist+jwt``).
- ``POST /api/v1/presentations/requests`` and ``GET …/requests/{id}``: presentation requests (public: any shop
  may ask); ``POST /api/v1/presentations/{id}``: the wallet's answer, form field ``vp_token`` (OpenID4VP
  ``direct_post``) or JSON ``{"vp_token": …}``. It reads no cookie (CSRF-exempt in ``app.py``).

Every GET here is public with ``Access-Control-Allow-Origin: *``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tsunagu.credentials.core.sdjwt_claims import AGE_VCT
from tsunagu.credentials.services import presentations, status_lists
from tsunagu.credentials.services.sdjwt_issuance import VCTS
from tsunagu.credentials.services.sdjwt_keys import METADATA_PATH, issuer_key, issuer_metadata, type_metadata
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of

PUBLIC = [guard(Access.public())]
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
MAX_BODY = 96 * 1024


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claims: list[list[str | int]] = Field(
        min_length=1,
        max_length=presentations.MAX_PATHS,
        description='Claim paths asked, e.g. [["age_over_20"]] or [["driving_privileges"]]',
    )
    vct: str = Field(default=AGE_VCT, max_length=80, description="The credential type (vct) asked for")


class PresentationRequestOut(BaseModel):
    id: str
    nonce: str
    aud: str = Field(description="The audience the key-binding JWT must name")
    client_id: str
    vct: str
    claims: list[list[str | int]]
    response_uri: str = Field(description="POST the vp_token here (direct_post)")
    response_mode: Literal["direct_post"]
    expires_at: dt.datetime
    state: Literal["pending", "valid", "invalid"]


class PresentationResult(BaseModel):
    status: Literal["pending", "valid", "invalid"]
    reason: str | None = Field(description="Why the presentation was refused (a stable code)")
    message_ja: str | None
    message_en: str | None
    disclosed: dict[str, Any] = Field(description="Exactly the claims the holder disclosed")


def _request_out(view: presentations.RequestView) -> PresentationRequestOut:
    return PresentationRequestOut.model_validate(view.wallet_json())


async def _vp_token(request: Request) -> str:
    """``vp_token`` from a form (direct_post) or a JSON body."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise InvalidInput("The presentation is too large.", ja="提示が大きすぎます。", field="vp_token")
    content_type = request.headers.get("content-type", "")
    token: object = None
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        token = body.get("vp_token") if isinstance(body, dict) else None
    else:
        form = await request.form()
        token = form.get("vp_token")
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput(
            "Send the presentation as vp_token (form field or JSON).",
            ja="提示を vp_token（フォームまたは JSON）で送ってください。",
            field="vp_token",
        )
    return token.strip()


def router() -> APIRouter:
    r = APIRouter(tags=["credentials"])

    @r.get(METADATA_PATH, dependencies=PUBLIC, include_in_schema=False)
    def jwt_vc_issuer(request: Request) -> JSONResponse:
        """JWT VC Issuer Metadata of ``{public_url}/credentials/vc``."""
        return JSONResponse(issuer_metadata(ctx_of(request).settings), headers=CORS)

    @r.get("/credentials/vc/types/{kind}", dependencies=PUBLIC, include_in_schema=False)
    def vct_metadata(kind: str) -> JSONResponse:
        """Type Metadata of one of our credential types."""
        doc = type_metadata(VCTS.get(kind, ""))
        if doc is None:
            raise NotFound("No such credential type.", ja="該当する資格情報の種類はありません。")
        return JSONResponse(doc, headers=CORS)

    @r.get("/credentials/vc/status/{list_id}", dependencies=PUBLIC, include_in_schema=False)
    def status_list(request: Request, list_id: int) -> Response:
        """The Token Status List of the credentials issued with this list id (signed, ``ttl`` 300 s)."""
        ctx = ctx_of(request)
        with ctx.uow() as db:
            token = status_lists.status_token(db, issuer_key(ctx.settings), list_id, now=ctx.clock.now())
        return Response(token, media_type=STATUS_LIST_MEDIA_TYPE, headers=CORS)

    @r.post(
        "/api/v1/presentations/requests",
        dependencies=PUBLIC,
        status_code=201,
        response_model=PresentationRequestOut,
        responses={422: _problem("Unknown vct or malformed claim paths")},
    )
    def create_request(request: Request, body: RequestBody) -> PresentationRequestOut:
        """Create a presentation request (a random id and nonce, 5 minutes) for claims of one credential type."""
        ctx = ctx_of(request)
        with ctx.uow() as db:
            view = presentations.create_request(
                db, ctx.settings.public_url, claims=body.claims, vct=body.vct, now=ctx.clock.now()
            )
        return _request_out(view)

    @r.get(
        "/api/v1/presentations/requests/{request_id}",
        dependencies=PUBLIC,
        response_model=PresentationRequestOut,
        responses={404: _problem("No such request")},
    )
    def get_request(request: Request, request_id: str) -> JSONResponse:
        """The request as a wallet reads it (also its state once answered)."""
        ctx = ctx_of(request)
        with ctx.uow() as db:
            view = presentations.get_request(db, ctx.settings.public_url, request_id)
        out = _request_out(view).model_dump(mode="json")
        return JSONResponse(out, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})

    @r.get(
        "/api/v1/presentations/{request_id}",
        dependencies=PUBLIC,
        response_model=PresentationResult,
        responses={404: _problem("No such request")},
    )
    def get_result(request: Request, request_id: str) -> PresentationResult:
        """The outcome: ``pending`` until the wallet answers, then ``valid`` or ``invalid``."""
        ctx = ctx_of(request)
        with ctx.uow() as db:
            view = presentations.get_request(db, ctx.settings.public_url, request_id)
        return PresentationResult.model_validate(view.result_json())

    @r.post(
        "/api/v1/presentations/{request_id}",
        dependencies=PUBLIC,
        response_model=PresentationResult,
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"vp_token": {"type": "string"}}}
                    },
                    "application/json": {
                        "schema": {"type": "object", "properties": {"vp_token": {"type": "string"}}}
                    },
                }
            }
        },
        responses={
            404: _problem("No such request"),
            409: _problem("The request was answered already (a replay)"),
            422: _problem("No vp_token"),
        },
    )
    async def respond(request: Request, request_id: str) -> PresentationResult:
        """The wallet's answer (OpenID4VP direct_post): the SD-JWT with its key-binding JWT as ``vp_token``.
        Verified once; the result says valid or invalid with a reason and the claims disclosed."""
        token = await _vp_token(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            view = presentations.answer(
                db, issuer_key(ctx.settings), ctx.settings.public_url, request_id, token,
                now=ctx.clock.now(),
            )  # fmt: skip
        return PresentationResult.model_validate(view.result_json())

    return r
