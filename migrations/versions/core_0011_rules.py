"""Rules: lookup tables that rules read (core_lookup_table, core_lookup_row)

Revision ID: core_0011
Revises: core_0010
"""
from alembic import op  # noqa: F401

revision = "core_0011"
down_revision = "core_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
