"""Tables of the OpenID Connect provider: relying parties, consents, authorization codes, access tokens and the
ID-token signing key. Secrets, codes and tokens are stored as SHA-256 hashes only; the signing key is sealed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tsunagu.db.base import Base
from tsunagu.db.types import UTCDateTime


class OidcClient(Base):
    """A relying party (連携先サービス), registered by an operator with ``tsunagu oidc register``."""

    __tablename__ = "identity_oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # shown on the consent screen (Japanese)
    name_en: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(16))  # public (行政機関等) | private (民間事業者)
    sector_identifier: Mapped[str] = mapped_column(String(255))  # pairwise sub: one value per sector
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)  # matched exactly
    scopes: Mapped[str] = mapped_column(String(200))  # the scopes it may ask for, space-separated
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256; None for a public client (PKCE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OidcConsent(Base):
    """A resident's consent to give a relying party the claims of some scopes; withdrawn, never deleted."""

    __tablename__ = "identity_oidc_consents"
    __table_args__ = (Index("ix_identity_oidc_consents_person_client", "person_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer)  # registry person (by id, not by relationship)
    client_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OidcAuthorizationCode(Base):
    """A single-use, short-lived authorization code (only its hash is stored)."""

    __tablename__ = "identity_oidc_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(Integer)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    acr: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OidcAccessToken(Base):
    """A bearer token for the userinfo endpoint (only its hash is stored)."""

    __tablename__ = "identity_oidc_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str] = mapped_column(String(64), index=True)  # revoked with the code if it is replayed
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class OidcSigningKey(Base):
    """The ES256 (P-256) key that signs ID tokens: generated once, the private part sealed with AES-GCM under a
    key derived from the master secret. ``kid`` is the RFC 7638 thumbprint."""

    __tablename__ = "identity_oidc_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
