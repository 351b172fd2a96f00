"""registry name indexes: composite (kana, given kana) and (name, given name); drop the low-selectivity status index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:47:24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "registry_persons"


def upgrade() -> None:
    # Plain index operations (no batch mode): the table is not rebuilt, so its triggers stay in place.
    op.drop_index("ix_registry_persons_family_name", table_name=TABLE)
    op.drop_index("ix_registry_persons_family_name_kana", table_name=TABLE)
    op.drop_index("ix_registry_persons_status", table_name=TABLE)
    op.create_index("ix_registry_persons_kana", TABLE, ["family_name_kana", "given_name_kana"])
    op.create_index("ix_registry_persons_name", TABLE, ["family_name", "given_name"])


def downgrade() -> None:
    op.drop_index("ix_registry_persons_name", table_name=TABLE)
    op.drop_index("ix_registry_persons_kana", table_name=TABLE)
    op.create_index("ix_registry_persons_status", TABLE, ["status"])
    op.create_index("ix_registry_persons_family_name_kana", TABLE, ["family_name_kana"])
    op.create_index("ix_registry_persons_family_name", TABLE, ["family_name"])
