"""lcfailmig: a table, then a failure

Revision ID: lcfailmig_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "lcfailmig_0001"
down_revision = None
branch_labels = ("lcfailmig",)
depends_on = "core_0001"


def upgrade() -> None:
    table = op.create_table(
        "lcfailmig_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcfailmig_thing")),
    )
    op.bulk_insert(table, [{"id": 1}])
    raise RuntimeError("the migration of lcfailmig fails half-way")


def downgrade() -> None:
    op.drop_table("lcfailmig_thing")
