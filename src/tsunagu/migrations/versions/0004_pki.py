"""pki: certificate authorities, issued certificates, revocations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pki_authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_authorities")),
        sa.UniqueConstraint("name", name=op.f("uq_pki_authorities_name")),
    )
    op.create_table(
        "pki_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["pki_authorities.id"],
            name=op.f("fk_pki_certificates_authority_id_pki_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_pki_certificates_serial")),
    )
    op.create_index(op.f("ix_pki_certificates_holder"), "pki_certificates", ["holder"])
    op.create_index(
        "ix_pki_certificates_authority_revoked", "pki_certificates", ["authority_id", "revoked_at"]
    )
    op.create_table(
        "pki_crl_states",
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["pki_authorities.id"],
            name=op.f("fk_pki_crl_states_authority_id_pki_authorities"),
        ),
        sa.PrimaryKeyConstraint("authority_id", name=op.f("pk_pki_crl_states")),
    )


def downgrade() -> None:
    op.drop_table("pki_crl_states")
    op.drop_index("ix_pki_certificates_authority_revoked", table_name="pki_certificates")
    op.drop_index(op.f("ix_pki_certificates_holder"), table_name="pki_certificates")
    op.drop_table("pki_certificates")
    op.drop_table("pki_authorities")
