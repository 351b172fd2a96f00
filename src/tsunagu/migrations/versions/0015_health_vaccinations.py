"""health: the vaccination registry (doses)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Filled in by the change that adds these tables."""
