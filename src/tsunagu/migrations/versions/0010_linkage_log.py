"""linkage: the hub's append-only Merkle log (RFC 9162) and signed tree heads

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APPEND_ONLY = ("linkage_log_entries", "linkage_log_nodes", "linkage_log_heads", "linkage_log_keys")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _append_only_triggers() -> None:
    """The log is append-only: the database itself refuses UPDATE and DELETE (as for registry_events)."""
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
                )
        elif bind.dialect.name == "postgresql":
            op.execute(
                "CREATE OR REPLACE FUNCTION tsunagu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tsunagu_append_only()",
            )


def upgrade() -> None:
    op.create_table(
        "linkage_log_entries",
        sa.Column("leaf_index", POSITION, autoincrement=False, nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_linkage_log_entries")),
    )
    op.create_table(
        "linkage_log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_linkage_log_nodes")),
    )
    op.create_table(
        "linkage_log_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_linkage_log_heads")),
    )
    op.create_table(
        "linkage_log_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_log_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_linkage_log_keys_key_id")),
    )
    _append_only_triggers()


def downgrade() -> None:
    for table in reversed(APPEND_ONLY):
        op.drop_table(table)
