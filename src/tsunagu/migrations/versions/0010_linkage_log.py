"""linkage: the hub's append-only Merkle log (RFC 9162) and signed tree heads

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:25:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
