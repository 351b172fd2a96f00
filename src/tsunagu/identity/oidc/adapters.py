"""authlib's view of tsunagu: Starlette requests as ``OAuth2Request``, and the relying party, authorization
code and access token rows behind authlib's ``ClientMixin``, ``AuthorizationCodeMixin`` and ``TokenMixin``."""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
)
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from tsunagu.identity.core import oidc_claims as rules
from tsunagu.identity.oidc.keys import SigningKeys
from tsunagu.identity.oidc.models import OidcAccessToken, OidcAuthorizationCode, OidcClient
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash


@dataclass(frozen=True)
class Provider:
    """What the server needs besides the request: the issuer, keys and the clock (built once per app)."""

    issuer: str
    keys: SigningKeys
    pairwise_key: bytes
    clock: Clock


@dataclass(frozen=True)
class Env:
    provider: Provider
    db: Session

    @property
    def now(self) -> int:
        return int(self.provider.clock.now().timestamp())


@dataclass(frozen=True)
class Subject:
    """The resource owner of a code or token (a registry person, by id) and the client it is for."""

    person_id: int
    client_id: str


# Requests ------------------------------------------------------------------------------------------------


class Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)
        self._data = {k: v[0] for k, v in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request from an already-read Starlette request (query items and form items)."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Headers,
        args: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, url, headers=headers)
        self._args = dict(args)
        self._form = dict(form)
        self.payload = Payload(args + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# Models as authlib sees them -----------------------------------------------------------------------------


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: OidcClient) -> None:
        self.row = row
        self.client_id = row.client_id
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OIDC Core §3.1.2.1: redirect_uri is required and matched exactly

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(rules.allowed_scopes(rules.parse_scopes(scope), rules.parse_scopes(self.row.scopes)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.row.secret_hash is not None and hmac.compare_digest(
            self.row.secret_hash, token_hash(client_secret)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.secret_hash is None:
            return method == "none"
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: OidcAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.row.acr

    def get_amr(self) -> list[str] | None:
        return None


class AccessToken(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OidcAccessToken, env: Env) -> None:
        self.row = row
        self.env = env

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == self.row.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= self.env.provider.clock.now()

    def is_revoked(self) -> bool:
        client = self.env.db.get(OidcClient, self.row.client_id)
        return self.row.revoked or client is None or client.revoked_at is not None

    def get_user(self) -> Subject:
        return Subject(self.row.person_id, self.row.client_id)

    def get_client(self) -> Client | None:
        row = self.env.db.get(OidcClient, self.row.client_id)
        return Client(row) if row is not None else None


def pairwise_sub(env: Env, client: OidcClient, person_id: int) -> str:
    return rules.pairwise_subject(env.provider.pairwise_key, client.sector_identifier, person_id)
