"""payments: account registry (accounts, history, bank staff), entitlements, runs, instructions, files

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 15:38:59.705762
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


APPEND_ONLY = ("pay_account_events",)


def _append_only_triggers() -> None:
    """The account registry's history is append-only (the PostgreSQL function exists since 0010)."""
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
        "pay_account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("account", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_account_events")),
    )
    with op.batch_alter_table("pay_account_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_account_events_person_id"), ["person_id"], unique=False)

    op.create_table(
        "pay_accounts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("bank_name", sa.String(length=60), nullable=False),
        sa.Column("bank_kana", sa.String(length=60), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("branch_name", sa.String(length=60), nullable=False),
        sa.Column("branch_kana", sa.String(length=60), nullable=False),
        sa.Column("deposit_type", sa.String(length=1), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("holder_kana", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("master_version", sa.String(length=20), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_pay_accounts")),
        sa.UniqueConstraint(
            "bank_code", "branch_code", "deposit_type", "account_number", name="uq_pay_accounts_account"
        ),
    )
    op.create_table(
        "pay_bank_staff",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_pay_bank_staff")),
    )
    op.create_table(
        "pay_entitlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("payee_person_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("account", sa.JSON(), nullable=True),
        sa.Column("account_exchange", sa.String(length=36), nullable=True),
        sa.Column("account_stale", sa.Boolean(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_entitlements")),
        sa.UniqueConstraint("person_id", "programme_id", "period", name="uq_pay_entitlements_key"),
    )
    with op.batch_alter_table("pay_entitlements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_entitlements_payee_person_id"), ["payee_person_id"], unique=False
        )

    op.create_table(
        "pay_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=48), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("transfer_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("record_limit", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_runs")),
        sa.UniqueConstraint("programme_id", "period", "attempt", name="uq_pay_runs_attempt"),
    )
    op.create_table(
        "pay_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("remitter_bank", sa.String(length=4), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("first_instruction", sa.Integer(), nullable=False),
        sa.Column("last_instruction", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["pay_runs.id"], name=op.f("fk_pay_files_run_id_pay_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_files")),
        sa.UniqueConstraint("run_id", "remitter_bank", "seq", name="uq_pay_files_seq"),
    )
    with op.batch_alter_table("pay_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_files_run_id"), ["run_id"], unique=False)

    op.create_table(
        "pay_instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("live_key", sa.Integer(), nullable=True),
        sa.Column("remitter_bank", sa.String(length=4), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("deposit_type", sa.String(length=1), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("holder_kana", sa.String(length=30), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("result_code", sa.String(length=2), nullable=False),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["pay_entitlements.id"],
            name=op.f("fk_pay_instructions_entitlement_id_pay_entitlements"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pay_runs.id"], name=op.f("fk_pay_instructions_run_id_pay_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_instructions")),
        sa.UniqueConstraint("live_key", name=op.f("uq_pay_instructions_live_key")),
    )
    with op.batch_alter_table("pay_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_instructions_entitlement_id"), ["entitlement_id"], unique=False
        )
        batch_op.create_index("ix_pay_instructions_run_bank", ["run_id", "remitter_bank", "id"], unique=False)

    op.create_table(
        "pay_result_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pay_runs.id"], name=op.f("fk_pay_result_files_run_id_pay_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_result_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_pay_result_files_sha256")),
    )
    with op.batch_alter_table("pay_result_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_result_files_run_id"), ["run_id"], unique=False)

    _append_only_triggers()


def downgrade() -> None:

    with op.batch_alter_table("pay_result_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_result_files_run_id"))

    op.drop_table("pay_result_files")
    with op.batch_alter_table("pay_instructions", schema=None) as batch_op:
        batch_op.drop_index("ix_pay_instructions_run_bank")
        batch_op.drop_index(batch_op.f("ix_pay_instructions_entitlement_id"))

    op.drop_table("pay_instructions")
    with op.batch_alter_table("pay_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_files_run_id"))

    op.drop_table("pay_files")
    op.drop_table("pay_runs")
    with op.batch_alter_table("pay_entitlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_entitlements_payee_person_id"))

    op.drop_table("pay_entitlements")
    op.drop_table("pay_bank_staff")
    op.drop_table("pay_accounts")
    with op.batch_alter_table("pay_account_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_account_events_person_id"))

    op.drop_table("pay_account_events")
