"""lcfailpurge: things, and a downgrade that fails half-way

Revision ID: lcfailpurge_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "lcfailpurge_0001"
down_revision = None
branch_labels = ("lcfailpurge",)
depends_on = "core_0001"


def upgrade() -> None:
    table = op.create_table(
        "lcfailpurge_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcfailpurge_thing")),
    )
    op.bulk_insert(table, [{"id": 1}, {"id": 2}])


def downgrade() -> None:
    op.drop_table("lcfailpurge_thing")
    raise RuntimeError("the downgrade of lcfailpurge fails half-way")
