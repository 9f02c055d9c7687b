"""Each mobilised centre's support state, as its department's workflow recorded it.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centre_supports",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("organisation_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), sa.ForeignKey("events.id"), nullable=False),
        sa.Column("department_code", sa.String(3), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("support", sa.JSON(), nullable=False),
    )
    op.create_index("ix_centre_supports_event_id", "centre_supports", ["event_id"])


def downgrade() -> None:
    op.drop_table("centre_supports")
