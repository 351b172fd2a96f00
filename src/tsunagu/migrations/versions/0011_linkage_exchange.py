"""linkage: exchanges, agency logs, copies (副本), refusals, node endpoints

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APPEND_ONLY = ("linkage_exchanges", "linkage_agency_log", "linkage_refusals")
WHEN = sa.DateTime(timezone=True)


def _append_only_triggers() -> None:
    """The hub record, the agency logs and the refusals are append-only (the function exists since 0010)."""
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
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tsunagu_append_only()",
            )


def upgrade() -> None:
    op.create_table(
        "linkage_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("request_hash", sa.String(length=43), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("business", sa.String(length=32), nullable=False),
        sa.Column("items", sa.String(length=1200), nullable=False),
        sa.Column("withheld", sa.String(length=1200), nullable=False),
        sa.Column("by_proxy", sa.Boolean(), nullable=False),
        sa.Column("person_index", sa.LargeBinary(), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("provided_at", WHEN, nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_exchanges")),
        sa.UniqueConstraint("exchange_id", name=op.f("uq_linkage_exchanges_exchange_id")),
        sa.UniqueConstraint("leaf_index", name=op.f("uq_linkage_exchanges_leaf_index")),
        sa.UniqueConstraint("requester", "request_id", name="uq_linkage_exchanges_request"),
    )
    op.create_index("ix_linkage_exchanges_person", "linkage_exchanges", ["person_index", "id"])
    op.create_table(
        "linkage_agency_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("counterpart", sa.String(length=32), nullable=False),
        sa.Column("business", sa.String(length=32), nullable=False),
        sa.Column("items", sa.String(length=1200), nullable=False),
        sa.Column("withheld", sa.String(length=1200), nullable=False),
        sa.Column("subject_code", sa.String(length=40), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("provided_at", WHEN, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_agency_log")),
        sa.UniqueConstraint("agency", "role", "exchange_id", name="uq_linkage_agency_log_exchange"),
    )
    op.create_index(op.f("ix_linkage_agency_log_agency"), "linkage_agency_log", ["agency"])
    op.create_table(
        "linkage_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("request_hash", sa.String(length=43), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_refusals")),
    )
    op.create_index(op.f("ix_linkage_refusals_at"), "linkage_refusals", ["at"])
    op.create_table(
        "linkage_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("disclose", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_copies")),
        sa.UniqueConstraint("agency", "code", "item", name="uq_linkage_copies_item"),
    )
    op.create_table(
        "linkage_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("registered_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_endpoints")),
        sa.UniqueConstraint("agency", name=op.f("uq_linkage_endpoints_agency")),
    )
    _append_only_triggers()


def downgrade() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        elif bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    for table in ("linkage_endpoints", "linkage_copies", "linkage_refusals", "linkage_agency_log"):
        op.drop_table(table)
    op.drop_index("ix_linkage_exchanges_person", table_name="linkage_exchanges")
    op.drop_table("linkage_exchanges")
