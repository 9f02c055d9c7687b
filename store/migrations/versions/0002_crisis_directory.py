"""Crisis directory (annuaire de crise): organisations and their contacts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("insee_code", sa.String(5), nullable=True),
        sa.Column("epci_siren", sa.String(9), nullable=True),
        sa.Column("department_code", sa.String(3), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
    )
    for column in ("kind", "insee_code", "epci_siren", "department_code"):
        op.create_index(f"ix_organisations_{column}", "organisations", [column])
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("roster_rank", sa.Integer(), nullable=True),
    )
    op.create_index("ix_contacts_organisation_id", "contacts", ["organisation_id"])
    op.create_index("ix_contacts_role", "contacts", ["role"])


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("organisations")
