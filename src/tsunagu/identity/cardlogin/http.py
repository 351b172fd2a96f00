"""JSON API of the card-login protocol (``tsunagu-card-login-v1``, see ``docs/card-login.md``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from tsunagu.identity.cardlogin import services
from tsunagu.identity.cardlogin.edge import challenge_key_cache
from tsunagu.identity.cardlogin.errors import CardLoginRefused
from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.core.cardlogin import PROTOCOL, b64encode
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError
from tsunagu.pki import api as pki
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of

TrustOf = Callable[[Request], pki.TrustServices]


class ChallengeOut(BaseModel):
    protocol: str = Field(description=f"Always `{PROTOCOL}`.")
    challenge_id: str
    nonce: str = Field(description="base64url, 256 bits")
    audience: str = Field(description="This server's public URL; part of the signed bytes")
    expires_at: dt.datetime
    to_be_signed: str = Field(
        description="base64 of the exact bytes the card signs: protocol, audience, challenge_id and nonce, "
        "joined by LF (shown for convenience; clients should build them and compare)"
    )


class Answer(BaseModel):
    challenge_id: str = Field(max_length=64)
    certificate: str = Field(max_length=8192, description="利用者証明用電子証明書, DER, base64")
    signature: str = Field(max_length=200, description="ECDSA P-256 / SHA-256 signature (DER), base64")


class SessionOut(BaseModel):
    session: str = Field(description="The session id; also set as the portal session cookie")
    display_name: str
    method: str
    idle_minutes: int
    absolute_minutes: int


def router(trust_of: TrustOf) -> APIRouter:
    r = APIRouter(prefix="/api/v1/card-login", tags=["card login"])
    key_of = challenge_key_cache()
    # async def, with the short database and crypto work inline (as the registry API does): no threadpool
    # hand-off, about 15–30 % less server CPU per login in bench/card_login.py.

    @r.post("/challenges", dependencies=[guard(Access.public())], status_code=201)
    async def new_challenge(request: Request) -> ChallengeOut:
        """Step 1: a single-use, short-lived server nonce."""
        ctx = ctx_of(request)
        c = services.issue_challenge(key_of(request), ctx.clock, ctx.settings.public_url)  # nothing stored
        return ChallengeOut(
            protocol=PROTOCOL,
            challenge_id=c.challenge_id,
            nonce=c.nonce,
            audience=c.audience,
            expires_at=c.expires_at,
            to_be_signed=b64encode(c.message),
        )

    @r.post(
        "/sessions",
        dependencies=[guard(Access.public())],
        status_code=201,
        responses={401: {"description": "Refused: challenge, certificate, signature or card (problem+json)"}},
    )
    async def answer(request: Request, body: Answer) -> JSONResponse:
        """Step 3: the card's certificate and signature; opens a portal session."""
        ctx = ctx_of(request)
        policy = citizen_pages.session_policy(ctx.settings)
        refused: DomainError | None = None
        with ctx.uow() as db:  # commits refusals too: the challenge is burnt and the refusal recorded
            try:
                result = services.login_with_card(
                    db,
                    trust_of(request),
                    key_of(request),
                    ctx.clock,
                    policy,
                    ctx.settings.public_url,
                    body.challenge_id,
                    body.certificate,
                    body.signature,
                )
            except (CardLoginRefused, pki.CertificateRefused) as exc:
                refused = exc
        if refused is not None:
            raise refused
        out = SessionOut(
            session=result.session,
            display_name=result.display_name,
            method=result.method,
            idle_minutes=policy.idle_minutes,
            absolute_minutes=policy.absolute_minutes,
        )
        response = JSONResponse(out.model_dump(), status_code=201)
        if result.session:
            citizen_pages.set_citizen_cookie(response, result.session, ctx.settings)
        return response

    return r
