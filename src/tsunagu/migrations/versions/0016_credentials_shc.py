"""credentials: SMART Health Card issuance log and revocation

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cred_shc_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("rid", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=10), nullable=False),
        sa.Column("nbf", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dose_ids", sa.JSON(), nullable=False),
        sa.Column("jws_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("passport_hint", sa.String(length=4), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_shc_cards")),
        sa.UniqueConstraint("public_id", name=op.f("uq_cred_shc_cards_public_id")),
    )
    with op.batch_alter_table("cred_shc_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cred_shc_cards_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cred_shc_cards_rid"), ["rid"], unique=False)

    op.create_table(
        "cred_shc_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("rid", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_shc_revocations")),
        sa.UniqueConstraint("kid", "rid", name="uq_cred_shc_revocations_kid_rid"),
    )
    with op.batch_alter_table("cred_shc_revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cred_shc_revocations_kid"), ["kid"], unique=False)

    op.create_table(
        "cred_shc_crl_versions",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("ctr", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_cred_shc_crl_versions")),
    )


def downgrade() -> None:
    op.drop_table("cred_shc_crl_versions")
    with op.batch_alter_table("cred_shc_revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cred_shc_revocations_kid"))
    op.drop_table("cred_shc_revocations")
    with op.batch_alter_table("cred_shc_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cred_shc_cards_rid"))
        batch_op.drop_index(batch_op.f("ix_cred_shc_cards_person_id"))
    op.drop_table("cred_shc_cards")
