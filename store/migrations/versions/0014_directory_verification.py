"""Directory verification: the organisations asked in each campaign, their last
confirmation, the audit trail of corrections made through the self-service page, and
when the directory was last imported.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "verification_requests",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("organisation_id", sa.String(64), primary_key=True),
        sa.Column("department_code", sa.String(3), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_silent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_verification_requests_department_code", "verification_requests", ["department_code"]
    )
    op.create_table(
        "directory_confirmations",
        sa.Column("organisation_id", sa.String(64), primary_key=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_directory_confirmations_confirmed_at", "directory_confirmations", ["confirmed_at"]
    )
    op.create_table(
        "directory_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("before", sa.String(320), nullable=True),
        sa.Column("after", sa.String(320), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_directory_changes_organisation_id", "directory_changes", ["organisation_id"]
    )
    op.create_index("ix_directory_changes_changed_at", "directory_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_table("directory_changes")
    op.drop_table("directory_confirmations")
    op.drop_table("verification_requests")
    op.drop_table("directory_imports")
