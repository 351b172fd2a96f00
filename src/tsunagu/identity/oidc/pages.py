"""HTTP face of the OpenID Connect provider: discovery, JWKS, the authorization endpoint with its consent screen,
the token and userinfo endpoints, and the resident's list of connections (/my/connections)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error, ResourceProtector
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.identity.core import oidc_claims as rules
from tsunagu.identity.oidc import authorize as authorization
from tsunagu.identity.oidc import services
from tsunagu.identity.oidc.adapters import Env, Provider, StarletteOAuth2Request, pairwise_sub
from tsunagu.identity.oidc.keys import ALGORITHM, SigningKeys
from tsunagu.identity.oidc.models import OidcClient
from tsunagu.identity.oidc.server import AUTH_METHODS, BearerValidator, Server, record_refusal
from tsunagu.kernel.access import Access
from tsunagu.kernel.crypto import derive_key
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.templating import render

PUBLIC = [guard(Access.public())]
CITIZEN = [guard(Access.citizen())]
OAUTH_CLIENT = [guard(Access.oauth_client())]
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/oidc/jwks"
AUTHORIZE_PATH = "/oidc/authorize"
TOKEN_PATH = "/oidc/token"  # noqa: S105 - a path
USERINFO_PATH = "/oidc/userinfo"
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
MY_SECTION = {
    "href": "/my/connections",
    "title": "連携しているサービス",
    "description": "ログインに使っているサービスと、提供に同意した情報",
    "title_en": "Connected services",
    "description_en": "Services you log in to with tsunagu, and the information you agreed to give them",
}


def discovery_document(issuer: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 provider metadata."""
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "userinfo_endpoint": issuer + USERINFO_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "scopes_supported": list(rules.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(rules.ACR_VALUES),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr"]
        + [c for c in rules.CLAIMS if c != "sub"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["ja", "en"],
    }


def make_provider(ctx: AppContext) -> Provider:
    master = ctx.settings.master_secret()
    return Provider(
        issuer=ctx.settings.public_url,
        keys=SigningKeys.from_master(master),
        pairwise_key=derive_key(master, "identity.oidc.pairwise"),
        clock=ctx.clock,
    )


def router(ctx: AppContext) -> APIRouter:
    provider = make_provider(ctx)
    ctx.extras.setdefault("my_sections", []).append(MY_SECTION)
    r = APIRouter(include_in_schema=False)

    @r.get(DISCOVERY_PATH, dependencies=PUBLIC)
    async def discovery() -> JSONResponse:
        return JSONResponse(discovery_document(provider.issuer), headers=CORS)

    @r.get(JWKS_PATH, dependencies=PUBLIC)
    async def jwks(request: Request) -> JSONResponse:
        with ctx_of(request).uow() as db:
            keys = provider.keys.jwks(db, provider.clock)
        return JSONResponse(keys, headers=CORS, media_type="application/jwk-set+json")

    @r.get(AUTHORIZE_PATH, dependencies=CITIZEN)
    async def authorize(request: Request) -> Response:
        """The authorization endpoint (OIDC Core §3.1.2): consent screen, or a code when consent is on file."""
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            server = Server(Env(provider, db), "authorize", audit.citizen_actor(me))
            return authorization.authorize(request, server, me, None)

    @r.post(AUTHORIZE_PATH, dependencies=CITIZEN)
    async def decide(request: Request) -> Response:
        """The consent screen's answer: 同意する (allow) or 同意しない (deny)."""
        form = await request.form()
        decision = form.get("decision")
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            server = Server(Env(provider, db), "authorize", audit.citizen_actor(me))
            return authorization.authorize(request, server, me, "allow" if decision == "allow" else "deny")

    @r.post(TOKEN_PATH, dependencies=OAUTH_CLIENT)
    async def token(request: Request) -> Response:
        """The token endpoint (RFC 6749 §4.1.3): the client authenticates with its secret, or as a public client
        by PKCE alone."""
        form = await request.form()
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        with ctx_of(request).uow() as db:
            server = Server(Env(provider, db), "token")
            try:
                oreq = StarletteOAuth2Request("POST", str(request.url), request.headers, [], items)
            except OAuth2Error as error:
                return server.handle_response(*error())
            response: Response = server.create_token_response(oreq)
        return response

    @r.api_route(USERINFO_PATH, methods=["GET", "POST"], dependencies=OAUTH_CLIENT)
    async def userinfo(request: Request) -> Response:
        """The userinfo endpoint (OIDC Core §5.3): the consented claims, for a bearer access token."""
        with ctx_of(request).uow() as db:
            env = Env(provider, db)
            protector = ResourceProtector()
            protector.register_token_validator(BearerValidator(env))
            oreq = StarletteOAuth2Request(request.method, str(request.url), request.headers, [], [])
            try:
                token = protector.validate_request(["openid"], oreq)
            except OAuth2Error as error:
                record_refusal(db, oreq, error, endpoint="userinfo")
                status, body, headers = error()
                return JSONResponse(body, status_code=status, headers=dict(headers))
            row = token.row
            client = db.get(OidcClient, row.client_id)
            assert client is not None  # noqa: S101 - is_revoked() has checked it exists
            person = services.person_of(db, row.person_id)
            scopes = rules.parse_scopes(row.scope)
            claims = {"sub": pairwise_sub(env, client, row.person_id), **rules.claims_for(person, scopes)}
            audit.record(
                db,
                f"client:{row.client_id}",
                audit.AuditAction.RESIDENT_VIEWED,
                f"person:{row.person_id}",
                via="oidc_userinfo",
                scopes=" ".join(rules.released_scopes(scopes, person)),
            )
        return JSONResponse(claims, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @r.get("/my/connections", dependencies=CITIZEN)
    async def my_connections(request: Request) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            found = services.connections(db, me.person_id)
        return render(request, "oidc/connections.html", connections=found)

    @r.post("/my/connections/{consent_id}/withdraw", dependencies=CITIZEN)
    async def withdraw(request: Request, consent_id: int) -> Response:
        me = citizen_principal(request)
        with ctx_of(request).uow() as db:
            services.withdraw_consent(db, provider.clock, me, consent_id)
        return RedirectResponse("/my/connections?withdrawn=1", status_code=303)

    return r
