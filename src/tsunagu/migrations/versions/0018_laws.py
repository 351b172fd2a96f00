"""laws: imported law versions, their provisions, review items and the items' append-only history

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

EVENTS = "laws_review_events"


def _append_only_triggers() -> None:
    """Review history is append-only (the PostgreSQL function exists since 0010)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {EVENTS}_no_{action.lower()} BEFORE {action} ON {EVENTS} "
                f"BEGIN SELECT RAISE(ABORT, '{EVENTS} is append-only'); END",
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {EVENTS}_append_only BEFORE UPDATE OR DELETE ON {EVENTS} "
            "FOR EACH ROW EXECUTE FUNCTION tsunagu_append_only()",
        )


def upgrade() -> None:
    op.create_table(
        "laws_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("law_id", sa.String(length=20), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("law_num", sa.String(length=200), nullable=False),
        sa.Column("law_type", sa.String(length=40), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("provisions", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laws_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_laws_documents_sha256")),
    )
    with op.batch_alter_table("laws_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_laws_documents_law_id"), ["law_id"], unique=False)
        batch_op.create_index(
            "uq_laws_documents_latest",
            ["law_id"],
            unique=True,
            sqlite_where=sa.text("is_latest"),
            postgresql_where=sa.text("is_latest"),
        )
    op.create_table(
        "laws_provisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["laws_documents.id"], name=op.f("fk_laws_provisions_document_id_laws_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laws_provisions")),
        sa.UniqueConstraint("document_id", "address", name="uq_laws_provisions_document_address"),
    )
    op.create_table(
        "laws_review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("law_id", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("technology", sa.Text(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=True),
        sa.Column("ministry", sa.String(length=100), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["laws_documents.id"],
            name=op.f("fk_laws_review_items_document_id_laws_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laws_review_items")),
        sa.UniqueConstraint(
            "law_id", "address", "category", name="uq_laws_review_items_law_address_category"
        ),
    )
    with op.batch_alter_table("laws_review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_laws_review_items_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_laws_review_items_status"), ["status"], unique=False)
    op.create_table(
        EVENTS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=False),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["laws_review_items.id"],
            name=op.f("fk_laws_review_events_item_id_laws_review_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laws_review_events")),
    )
    with op.batch_alter_table(EVENTS, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_laws_review_events_item_id"), ["item_id"], unique=False)
    _append_only_triggers()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {EVENTS}_no_{action}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {EVENTS}_append_only ON {EVENTS}")
    op.drop_table(EVENTS)
    op.drop_table("laws_review_items")
    op.drop_table("laws_provisions")
    op.drop_table("laws_documents")
