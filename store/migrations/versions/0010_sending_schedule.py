"""The deployment's sending schedule, shared by every worker process.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schedule = op.create_table(
        "sending_schedule",
        sa.Column("channel", sa.String(8), primary_key=True),
        sa.Column("next_slot", sa.Float, nullable=False),
    )
    op.bulk_insert(schedule, [{"channel": "sms", "next_slot": 0.0}])


def downgrade() -> None:
    op.drop_table("sending_schedule")
