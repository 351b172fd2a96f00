"""identity: My Number cards and the software chip's sealed keys and PIN counters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_cards",
        sa.Column("serial", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auth_cert_serial", sa.String(length=64), nullable=False),
        sa.Column("signature_cert_serial", sa.String(length=64), nullable=True),
        sa.Column("signature_revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(length=32), nullable=True),
        sa.Column("replaces", sa.String(length=12), nullable=True),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_identity_cards")),
        sa.UniqueConstraint("auth_cert_serial", name=op.f("uq_identity_cards_auth_cert_serial")),
        sa.UniqueConstraint("signature_cert_serial", name=op.f("uq_identity_cards_signature_cert_serial")),
    )
    op.create_index(op.f("ix_identity_cards_person_id"), "identity_cards", ["person_id"], unique=False)
    op.create_table(
        "identity_card_chips",
        sa.Column("serial", sa.String(length=12), nullable=False),
        sa.Column("surface_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("surface_written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["serial"], ["identity_cards.serial"], name=op.f("fk_identity_card_chips_serial_identity_cards")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_identity_card_chips")),
    )
    op.create_table(
        "identity_card_chip_slots",
        sa.Column("serial", sa.String(length=12), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("pin_hash", sa.LargeBinary(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=True),
        sa.Column("certificate", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["serial"],
            ["identity_card_chips.serial"],
            name=op.f("fk_identity_card_chip_slots_serial_identity_card_chips"),
        ),
        sa.PrimaryKeyConstraint("serial", "slot", name=op.f("pk_identity_card_chip_slots")),
    )


def downgrade() -> None:
    op.drop_table("identity_card_chip_slots")
    op.drop_table("identity_card_chips")
    op.drop_index(op.f("ix_identity_cards_person_id"), table_name="identity_cards")
    op.drop_table("identity_cards")
