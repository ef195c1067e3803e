"""Notifications: the inbox and each user's choices (core_notification, core_notification_choice)

Revision ID: core_0012
Revises: core_0011
"""
import sqlalchemy as sa
from alembic import op

from core.orm import UTCDateTime

revision = "core_0012"
down_revision = "core_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("record", sa.String(length=120), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("emailed_at", UTCDateTime(), nullable=True),
        sa.Column("digested_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_notification_company_id_core_company")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_notification_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_notification")),
    )
    op.create_index("ix_core_notification_user_id_read_at", "core_notification", ["user_id", "read_at"])
    op.create_index("ix_core_notification_user_id_id", "core_notification", ["user_id", "id"])
    op.create_index("ix_core_notification_digest", "core_notification", ["channel", "digested_at"])
    op.create_table(
        "core_notification_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_notification_choice_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_notification_choice")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_core_notification_choice_user_id_kind")),
    )


def downgrade() -> None:
    op.drop_table("core_notification_choice")
    op.drop_table("core_notification")
