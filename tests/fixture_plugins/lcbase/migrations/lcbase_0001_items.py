"""lcbase: items

Revision ID: lcbase_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

from core import Money, UTCDateTime

revision = "lcbase_0001"
down_revision = None
branch_labels = ("lcbase",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "lcbase_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcbase_item")),
    )


def downgrade() -> None:
    op.drop_table("lcbase_item")
