"""authlib's OAuth 2.0 / OpenID Connect server, bound to tsunagu's tables and to Starlette requests.

The protocol is authlib's: ``AuthorizationServer``, ``AuthorizationCodeGrant`` with the ``OpenIDCode`` extension
and ``CodeChallenge`` (narrowed to S256 and made mandatory), ``BearerTokenGenerator``, ``ResourceProtector`` with a
``BearerTokenValidator``. ID tokens are signed by joserfc (through authlib) with the ES256 key of :mod:`keys`.
A server is built per request around that request's database session (it is cheap: a few objects)."""

from __future__ import annotations

import hmac
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import ECKey
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from tsunagu.audit import api as audit
from tsunagu.identity.core import oidc_claims as rules
from tsunagu.identity.oidc import services
from tsunagu.identity.oidc.adapters import AccessToken, Client, Code, Env, Subject, pairwise_sub
from tsunagu.identity.oidc.keys import ALGORITHM
from tsunagu.identity.oidc.models import OidcAuthorizationCode, OidcClient
from tsunagu.kernel.access import CitizenPrincipal

ID_TOKEN_SECONDS = 600
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


# Grant and extensions ------------------------------------------------------------------------------------


def _s256(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(create_s256_code_challenge(verifier), challenge)


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE (RFC 7636), mandatory for every client, S256 only."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute
    CODE_CHALLENGE_METHODS = {"S256": _s256}  # noqa: RUF012

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256 (RFC 7636)."
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is supported ('plain' and a missing method are refused)."
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: AuthorizationCodeGrant, result: Any) -> None:
        try:
            super().validate_code_verifier(grant, result)
        except InvalidGrantError as exc:
            raise InvalidGrantError("The code_verifier does not match the code_challenge (PKCE).") from exc


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @property
    def env(self) -> Env:
        env: Env = self.server.env
        return env

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Client) -> str:
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri': it is required and must match exactly.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("The redirect_uri is not registered for this client (exact match).")
        return str(uri)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        user: CitizenPrincipal = request.user
        data = request.payload.data
        services.save_code(
            self.env.db,
            self.env.provider.clock,
            code,
            services.NewCode(
                client_id=request.client.get_client_id(),
                person_id=user.person_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                acr=user.acr,
                auth_time=user.auth_time,
            ),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        """Burn the code on first presentation (atomically); a second use revokes its tokens."""
        db, now = self.env.db, self.env.provider.clock.now()
        row = services.find_code(db, code)
        if row is None or row.client_id != client.get_client_id():
            return None
        burnt = db.execute(
            update(OidcAuthorizationCode)
            .where(OidcAuthorizationCode.code_hash == row.code_hash, OidcAuthorizationCode.used_at.is_(None))
            .values(used_at=now)
        )
        if int(getattr(burnt, "rowcount", 0) or 0) != 1:
            revoked = services.revoke_tokens_of_code(db, row.code_hash)
            self.request.refused_subject = f"person:{row.person_id}"
            self.request.revoked_tokens = revoked
            raise InvalidGrantError("The code has already been used; the tokens issued from it are revoked.")
        db.refresh(row)
        if row.expires_at <= now:
            raise InvalidGrantError("The code has expired; start the login again.")
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing to do: the code was burnt when it was first presented."""

    def authenticate_user(self, authorization_code: Code) -> Subject:
        return Subject(authorization_code.row.person_id, authorization_code.row.client_id)


class OpenIDCodeES256(OpenIDCode):  # type: ignore[misc]
    """ID tokens: ES256, ``kid`` in the header, ``iss``/``aud``/``iat``/``exp`` from the injected clock, the
    pairwise ``sub`` only (claims come from the userinfo endpoint, OIDC Core §5.4), plus ``nonce``,
    ``auth_time``, ``acr`` and ``at_hash`` from authlib."""

    def __init__(self, env: Env) -> None:
        super().__init__(require_nonce=False)
        self.env = env

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return services.nonce_used(self.env.db, request.payload.client_id, nonce)

    def _key(self) -> tuple[str, ECKey]:
        return self.env.provider.keys.current(self.env.db, self.env.provider.clock)

    def resolve_client_private_key(self, client: Client) -> ECKey:
        return self._key()[1]

    def get_client_algorithm(self, client: Client) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self._key()[0], "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = self.env.now
        return {
            "iss": self.env.provider.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
        }

    def generate_user_info(self, user: Subject, scope: str) -> UserInfo:
        client = self.env.db.get(OidcClient, user.client_id)
        if client is None:  # pragma: no cover - the token request has just authenticated it
            raise InvalidGrantError("Unknown client.")
        return UserInfo(sub=pairwise_sub(self.env, client, user.person_id))


# The server ----------------------------------------------------------------------------------------------


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, env: Env, endpoint: str, actor: str = "") -> None:
        super().__init__(scopes_supported=list(rules.SCOPES))
        self.env = env
        self.endpoint = endpoint  # for the audit trail of refusals
        self.actor = actor
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_kw: generate_token(43), expires_generator=lambda _c, _g: services.TOKEN_SECONDS
            ),
        )
        self.register_grant(CodeGrant, [S256Challenge(required=True), OpenIDCodeES256(env)])

    def query_client(self, client_id: str) -> Client | None:
        row = self.env.db.get(OidcClient, client_id)
        if row is None or row.revoked_at is not None:
            return None
        return Client(row)

    def validate_requested_scope(self, scope: str | None) -> None:
        wanted = rules.parse_scopes(scope)
        unknown = [s for s in wanted if s not in rules.SCOPES]
        if unknown:
            raise InvalidScopeError(f"Unknown scope; this provider supports: {' '.join(rules.SCOPES)}.")
        if "openid" not in wanted:
            raise InvalidScopeError("The scope must include 'openid' (this is an OpenID Connect provider).")

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        code: Code = request.authorization_code
        services.save_access_token(
            self.env.db, self.env.provider.clock, token["access_token"], code.row, int(token["expires_in"])
        )
        audit.record(
            self.env.db,
            f"client:{code.row.client_id}",
            audit.AuditAction.OIDC_TOKEN_ISSUED,
            f"person:{code.row.person_id}",
            scope=code.row.scope,
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals: auditing happens in save_token and in the handlers."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the handler has already read the Starlette request into one

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body or b"", status_code=status, headers=dict(headers))

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> Response:
        record_refusal(self.env.db, request, error, endpoint=self.endpoint, actor=self.actor)
        response: Response = super().handle_error_response(request, error)
        return response


class BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, env: Env) -> None:
        super().__init__()
        self.env = env

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        row = services.find_access_token(self.env.db, token_string)
        return AccessToken(row, self.env) if row is not None else None


def claimed_client(request: OAuth2Request) -> str:
    """The client the request says it comes from (not yet authenticated), for the audit trail."""
    basic, _ = extract_basic_authorization(request.headers)
    return str(basic or request.payload.client_id or "")[:64]


def record_refusal(
    db: Session, request: OAuth2Request, error: OAuth2Error, *, endpoint: str, actor: str = ""
) -> None:
    """Every refusal is audited: the error code and its description, never anything about the resident."""
    client_id = claimed_client(request)
    detail: dict[str, Any] = {"endpoint": endpoint, "error": error.error}
    if error.description:
        detail["description"] = str(error.description)[:200]
    revoked = getattr(request, "revoked_tokens", None)
    if revoked is not None:
        detail["revoked_tokens"] = revoked
    subject = getattr(request, "refused_subject", None) or (f"client:{client_id}" if client_id else "")
    audit.record(
        db,
        actor or (f"client:{client_id}" if client_id else "-"),
        audit.AuditAction.OIDC_REQUEST_REFUSED,
        subject,
        client=client_id,
        **detail,
    )
