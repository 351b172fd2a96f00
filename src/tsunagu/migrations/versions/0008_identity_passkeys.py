"""identity: passkeys (WebAuthn credentials) and registration/login ceremonies

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_passkey_users",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_handle", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_identity_passkey_users")),
        sa.UniqueConstraint("user_handle", name=op.f("uq_identity_passkey_users_user_handle")),
    )
    op.create_table(
        "identity_passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(length=1023), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_identity_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_identity_passkeys_person_id"), "identity_passkeys", ["person_id"], unique=False)
    op.create_table(
        "identity_passkey_ceremonies",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_identity_passkey_ceremonies")),
    )
    op.create_index(
        op.f("ix_identity_passkey_ceremonies_expires_at"),
        "identity_passkey_ceremonies",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_passkey_ceremonies_expires_at"), table_name="identity_passkey_ceremonies")
    op.drop_table("identity_passkey_ceremonies")
    op.drop_index(op.f("ix_identity_passkeys_person_id"), table_name="identity_passkeys")
    op.drop_table("identity_passkeys")
    op.drop_table("identity_passkey_users")
