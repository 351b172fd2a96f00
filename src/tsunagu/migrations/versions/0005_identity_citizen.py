"""identity: citizen sessions, login records, card-login challenges, 2D-code logins, proxies

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_citizen_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("acr", sa.String(length=64), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("absolute_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acting_for", sa.Integer(), nullable=True),
        sa.Column("acting_for_name", sa.String(length=200), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_identity_citizen_sessions")),
    )
    op.create_index(
        op.f("ix_identity_citizen_sessions_person_id"),
        "identity_citizen_sessions",
        ["person_id"],
        unique=False,
    )
    op.create_table(
        "identity_login_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("relying_party", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_login_records")),
    )
    op.create_index(
        "ix_identity_login_records_person_at", "identity_login_records", ["person_id", "at"], unique=False
    )
    op.create_table(
        "identity_card_login_challenges",
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qr_login_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_card_login_challenges")),
    )
    op.create_index(
        op.f("ix_identity_card_login_challenges_expires_at"),
        "identity_card_login_challenges",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "identity_qr_logins",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pc_secret_hash", sa.String(length=64), nullable=False),
        sa.Column("confirmation", sa.String(length=8), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_qr_logins")),
    )
    op.create_table(
        "identity_proxy_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal_person_id", sa.Integer(), nullable=False),
        sa.Column("proxy_person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("invite_code_hash", sa.String(length=64), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_proxy_grants")),
        sa.UniqueConstraint("invite_code_hash", name=op.f("uq_identity_proxy_grants_invite_code_hash")),
    )
    op.create_index(
        "ix_identity_proxy_grants_principal",
        "identity_proxy_grants",
        ["principal_person_id", "state"],
        unique=False,
    )
    op.create_index(
        "ix_identity_proxy_grants_proxy", "identity_proxy_grants", ["proxy_person_id", "state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_identity_proxy_grants_proxy", table_name="identity_proxy_grants")
    op.drop_index("ix_identity_proxy_grants_principal", table_name="identity_proxy_grants")
    op.drop_table("identity_proxy_grants")
    op.drop_table("identity_qr_logins")
    op.drop_index(
        op.f("ix_identity_card_login_challenges_expires_at"), table_name="identity_card_login_challenges"
    )
    op.drop_table("identity_card_login_challenges")
    op.drop_index("ix_identity_login_records_person_at", table_name="identity_login_records")
    op.drop_table("identity_login_records")
    op.drop_index(op.f("ix_identity_citizen_sessions_person_id"), table_name="identity_citizen_sessions")
    op.drop_table("identity_citizen_sessions")
