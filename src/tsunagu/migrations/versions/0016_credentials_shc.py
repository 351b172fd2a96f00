"""credentials: SMART Health Card issuance log and revocation

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Filled in by the change that adds these tables."""
