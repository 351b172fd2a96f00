"""credentials: licences, qualifications, SD-JWT VC issuance, status lists, presentation requests

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 18:50:00
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Filled in by the change that adds these tables."""
