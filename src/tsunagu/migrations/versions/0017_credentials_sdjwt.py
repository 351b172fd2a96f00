"""credentials: licences, qualifications, SD-JWT VC issuance, status lists, presentation requests

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cred_licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("authority", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_licences")),
        sa.UniqueConstraint("number", name=op.f("uq_cred_licences_number")),
        sa.UniqueConstraint("person_id", name=op.f("uq_cred_licences_person_id")),
    )
    op.create_table(
        "cred_qualifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("registration_number", sa.String(length=20), nullable=False),
        sa.Column("registration_date", sa.Date(), nullable=False),
        sa.Column("authority", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_qualifications")),
        sa.UniqueConstraint("code", "registration_number", name="uq_cred_qualifications_registration"),
    )
    with op.batch_alter_table("cred_qualifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cred_qualifications_person_id"), ["person_id"], unique=False)
    op.create_table(
        "cred_status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_status_lists")),
    )
    op.create_table(
        "cred_sdjwt_issued",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("vct", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("holder_thumbprint", sa.String(length=43), nullable=False),
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_sdjwt_issued")),
        sa.UniqueConstraint("status_list_id", "status_index", name="uq_cred_sdjwt_issued_status_entry"),
    )
    with op.batch_alter_table("cred_sdjwt_issued", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cred_sdjwt_issued_person_id"), ["person_id"], unique=False)
    op.create_table(
        "cred_presentation_requests",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("nonce", sa.String(length=43), nullable=False),
        sa.Column("vct", sa.String(length=80), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("disclosed", sa.JSON(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cred_presentation_requests")),
        sa.UniqueConstraint("nonce", name=op.f("uq_cred_presentation_requests_nonce")),
    )


def downgrade() -> None:
    op.drop_table("cred_presentation_requests")
    with op.batch_alter_table("cred_sdjwt_issued", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cred_sdjwt_issued_person_id"))
    op.drop_table("cred_sdjwt_issued")
    op.drop_table("cred_status_lists")
    with op.batch_alter_table("cred_qualifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cred_qualifications_person_id"))
    op.drop_table("cred_qualifications")
    op.drop_table("cred_licences")
