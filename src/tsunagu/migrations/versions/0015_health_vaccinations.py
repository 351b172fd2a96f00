"""health: the vaccination registry (doses)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "health_doses"


def _append_only_triggers() -> None:
    """Dose entries are append-only: a correction is a new row (the PostgreSQL function exists since 0010)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END",
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION tsunagu_append_only()",
        )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Date(), nullable=False),
        sa.Column("cvx", sa.String(length=3), nullable=False),
        sa.Column("manufacturer", sa.String(length=3), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["health_doses.id"], name=op.f("fk_health_doses_supersedes_health_doses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_doses")),
        sa.UniqueConstraint("supersedes", name=op.f("uq_health_doses_supersedes")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_doses_person_id"), ["person_id"], unique=False)
    _append_only_triggers()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_doses_person_id"))
    op.drop_table(TABLE)
