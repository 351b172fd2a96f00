"""linkage: notices (お知らせ) and read state

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("person_index", sa.LargeBinary(), nullable=True),
        sa.Column("segment", sa.String(length=16), nullable=True),
        sa.Column("title_ja", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("link_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["linkage_agencies.id"],
            name=op.f("fk_linkage_notices_agency_id_linkage_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_notices")),
    )
    op.create_index("ix_linkage_notices_person_index", "linkage_notices", ["person_index"])
    op.create_index("ix_linkage_notices_audience_segment", "linkage_notices", ["audience", "segment"])
    op.create_table(
        "linkage_notice_reads",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("person_index", sa.LargeBinary(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["linkage_notices.id"],
            name=op.f("fk_linkage_notice_reads_notice_id_linkage_notices"),
        ),
        sa.PrimaryKeyConstraint("notice_id", "person_index", name=op.f("pk_linkage_notice_reads")),
    )


def downgrade() -> None:
    op.drop_table("linkage_notice_reads")
    op.drop_index("ix_linkage_notices_audience_segment", table_name="linkage_notices")
    op.drop_index("ix_linkage_notices_person_index", table_name="linkage_notices")
    op.drop_table("linkage_notices")
