"""lcfaildata: things

Revision ID: lcfaildata_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "lcfaildata_0001"
down_revision = None
branch_labels = ("lcfaildata",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "lcfaildata_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcfaildata_thing")),
    )


def downgrade() -> None:
    op.drop_table("lcfaildata_thing")
