"""After-action reviews: invitations, answers, reports; crisis-log lines about one
subject (a centre, a department) with their figures, for the report to count.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "crisis_log", sa.Column("subject", sa.String(64), nullable=False, server_default="")
    )
    op.add_column("crisis_log", sa.Column("figures", sa.JSON(), nullable=True))
    op.create_index("ix_crisis_log_subject", "crisis_log", ["subject"])
    op.create_table(
        "review_invitations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), sa.ForeignKey("events.id"), nullable=False),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("respondent_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department_code", sa.String(3), nullable=False),
        sa.Column("person_name", sa.String(200), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", "round", "respondent_id"),
    )
    op.create_index("ix_review_invitations_event_id", "review_invitations", ["event_id"])
    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "invitation_id", sa.Integer(), sa.ForeignKey("review_invitations.id"), nullable=False
        ),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("invitation_id", "question_id"),
    )
    op.create_index("ix_review_answers_invitation_id", "review_answers", ["invitation_id"])
    op.create_table(
        "review_reports",
        sa.Column("event_id", sa.String(64), sa.ForeignKey("events.id"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("lessons", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
    )
    op.create_index("ix_review_reports_event_type", "review_reports", ["event_type"])
    op.create_index("ix_review_reports_compiled_at", "review_reports", ["compiled_at"])


def downgrade() -> None:
    op.drop_table("review_reports")
    op.drop_table("review_answers")
    op.drop_table("review_invitations")
    op.drop_index("ix_crisis_log_subject", "crisis_log")
    with op.batch_alter_table("crisis_log") as table:
        table.drop_column("figures")
        table.drop_column("subject")
