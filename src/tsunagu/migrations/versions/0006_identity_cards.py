"""identity: My Number cards and the software chip's sealed keys and PIN counters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
