"""Reply codes awaited by workflows, and each event's representative.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(4), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("task_key", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("keywords", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_reply_codes_phone", "reply_codes", ["phone"])
    op.create_index("ix_reply_codes_workflow_id", "reply_codes", ["workflow_id"])
    op.create_table(
        "representatives",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("designated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_representatives_contact_id", "representatives", ["contact_id"])


def downgrade() -> None:
    op.drop_table("representatives")
    op.drop_table("reply_codes")
