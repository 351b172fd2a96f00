"""procedures: applications, events, bundles, outbox, staff offices

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 12:55:41.324106
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APPEND_ONLY = ("proc_application_events",)


def _append_only_triggers() -> None:
    """The state history of applications is append-only (the PostgreSQL function exists since 0010)."""
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
        "proc_bundles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("applicant_person_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_person_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("origin_lg", sa.String(length=6), nullable=False),
        sa.Column("destination_lg", sa.String(length=6), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proc_bundles")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_proc_bundles_idempotency_key")),
    )
    with op.batch_alter_table("proc_bundles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proc_bundles_applicant_person_id"), ["applicant_person_id"], unique=False
        )

    op.create_table(
        "proc_staff_offices",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("username", "agency", name=op.f("pk_proc_staff_offices")),
    )
    op.create_table(
        "proc_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=32), nullable=True),
        sa.Column("procedure_id", sa.String(length=48), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("subject_person_id", sa.Integer(), nullable=False),
        sa.Column("applicant_person_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_person_id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=True),
        sa.Column("bundle_key", sa.String(length=120), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("prefilled", sa.JSON(), nullable=False),
        sa.Column("exchanges", sa.JSON(), nullable=False),
        sa.Column("signed_digest", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["proc_bundles.id"], name=op.f("fk_proc_applications_bundle_id_proc_bundles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proc_applications")),
        sa.UniqueConstraint("bundle_id", "bundle_key", name="uq_proc_applications_bundle_key"),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_proc_applications_idempotency_key")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_proc_applications_receipt_number")),
    )
    with op.batch_alter_table("proc_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proc_applications_applicant_person_id"), ["applicant_person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_proc_applications_bundle_id"), ["bundle_id"], unique=False)
        batch_op.create_index("ix_proc_applications_queue", ["agency", "state", "submitted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proc_applications_subject_person_id"), ["subject_person_id"], unique=False
        )

    op.create_table(
        "proc_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["proc_bundles.id"], name=op.f("fk_proc_outbox_bundle_id_proc_bundles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proc_outbox")),
        sa.UniqueConstraint("bundle_id", "key", name="uq_proc_outbox_bundle_key"),
    )
    with op.batch_alter_table("proc_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_proc_outbox_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "proc_application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["proc_applications.id"],
            name=op.f("fk_proc_application_events_application_id_proc_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proc_application_events")),
    )
    with op.batch_alter_table("proc_application_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proc_application_events_application_id"), ["application_id"], unique=False
        )

    _append_only_triggers()


def downgrade() -> None:
    with op.batch_alter_table("proc_application_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proc_application_events_application_id"))

    op.drop_table("proc_application_events")
    with op.batch_alter_table("proc_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_proc_outbox_due")

    op.drop_table("proc_outbox")
    with op.batch_alter_table("proc_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proc_applications_subject_person_id"))
        batch_op.drop_index("ix_proc_applications_queue")
        batch_op.drop_index(batch_op.f("ix_proc_applications_bundle_id"))
        batch_op.drop_index(batch_op.f("ix_proc_applications_applicant_person_id"))

    op.drop_table("proc_applications")
    op.drop_table("proc_staff_offices")
    with op.batch_alter_table("proc_bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proc_bundles_applicant_person_id"))

    op.drop_table("proc_bundles")
