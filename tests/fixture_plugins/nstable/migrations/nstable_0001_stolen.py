"""nstable: a table in lcbase's prefix

Revision ID: nstable_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "nstable_0001"
down_revision = None
branch_labels = ("nstable",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "lcbase_stolen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcbase_stolen")),
    )


def downgrade() -> None:
    op.drop_table("lcbase_stolen")
