"""Every delivery callback the provider posted for a message of the outbox, and
how many times a message was sent again after an unknown outcome.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_callbacks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_key", sa.String(300), nullable=False),
        sa.Column("provider_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("applied", sa.Boolean, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outbox_callbacks_outbox_key", "outbox_callbacks", ["outbox_key"])
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(
            sa.Column("possible_duplicates", sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("possible_duplicates")
    op.drop_table("outbox_callbacks")
