"""Delivery callbacks kept until the sid they name is recorded.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_receipts",
        sa.Column("message_sid", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(32), primary_key=True),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_parked_receipts_received_at", "parked_receipts", ["received_at"])


def downgrade() -> None:
    op.drop_table("parked_receipts")
