"""identity: OpenID Connect relying parties, consents, authorization codes, tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=16), nullable=False),
        sa.Column("sector_identifier", sa.String(length=255), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_identity_oidc_clients")),
    )
    op.create_table(
        "identity_oidc_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oidc_consents")),
    )
    op.create_index(
        "ix_identity_oidc_consents_person_client",
        "identity_oidc_consents",
        ["person_id", "client_id"],
        unique=False,
    )
    op.create_table(
        "identity_oidc_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("acr", sa.String(length=64), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_identity_oidc_authorization_codes")),
    )
    op.create_index(
        op.f("ix_identity_oidc_authorization_codes_client_id"),
        "identity_oidc_authorization_codes",
        ["client_id"],
        unique=False,
    )
    op.create_table(
        "identity_oidc_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_identity_oidc_access_tokens")),
    )
    op.create_index(
        op.f("ix_identity_oidc_access_tokens_code_hash"),
        "identity_oidc_access_tokens",
        ["code_hash"],
        unique=False,
    )
    op.create_index(
        op.f("ix_identity_oidc_access_tokens_person_id"),
        "identity_oidc_access_tokens",
        ["person_id"],
        unique=False,
    )
    op.create_table(
        "identity_oidc_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_identity_oidc_signing_keys")),
    )


def downgrade() -> None:
    op.drop_table("identity_oidc_signing_keys")
    op.drop_index(op.f("ix_identity_oidc_access_tokens_person_id"), table_name="identity_oidc_access_tokens")
    op.drop_index(op.f("ix_identity_oidc_access_tokens_code_hash"), table_name="identity_oidc_access_tokens")
    op.drop_table("identity_oidc_access_tokens")
    op.drop_index(
        op.f("ix_identity_oidc_authorization_codes_client_id"), table_name="identity_oidc_authorization_codes"
    )
    op.drop_table("identity_oidc_authorization_codes")
    op.drop_index("ix_identity_oidc_consents_person_client", table_name="identity_oidc_consents")
    op.drop_table("identity_oidc_consents")
    op.drop_table("identity_oidc_clients")
