"""Notifications: the inbox and each user's choices (core_notification, core_notification_choice)

Revision ID: core_0012
Revises: core_0011
"""
from alembic import op  # noqa: F401

revision = "core_0012"
down_revision = "core_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
