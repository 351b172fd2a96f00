"""linkage: agencies, per-agency codes (符号) and the legal-basis table versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 08:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("certificate_serial", sa.String(length=40), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=True),
        sa.Column("key_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_linkage_agencies_code")),
    )
    op.create_table(
        "linkage_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("person_index", sa.LargeBinary(), nullable=False),
        sa.Column("person_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["linkage_agencies.id"],
            name=op.f("fk_linkage_codes_agency_id_linkage_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_codes")),
        sa.UniqueConstraint("agency_id", "code", name=op.f("uq_linkage_codes_agency_code")),
        sa.UniqueConstraint("agency_id", "person_index", name=op.f("uq_linkage_codes_agency_person")),
    )
    op.create_table(
        "linkage_legal_basis_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_legal_basis_versions")),
        sa.UniqueConstraint("digest", name=op.f("uq_linkage_legal_basis_versions_digest")),
        sa.UniqueConstraint("version", name=op.f("uq_linkage_legal_basis_versions_version")),
    )


def downgrade() -> None:
    op.drop_table("linkage_legal_basis_versions")
    op.drop_table("linkage_codes")
    op.drop_table("linkage_agencies")
