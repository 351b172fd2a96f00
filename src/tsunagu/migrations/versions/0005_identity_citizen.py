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


def downgrade() -> None:
    op.drop_index("ix_identity_login_records_person_at", table_name="identity_login_records")
    op.drop_table("identity_login_records")
    op.drop_index(op.f("ix_identity_citizen_sessions_person_id"), table_name="identity_citizen_sessions")
    op.drop_table("identity_citizen_sessions")
