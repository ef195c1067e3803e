"""lcbase: a note on items, and a log no model maps

Revision ID: lcbase_0002
Revises: lcbase_0001
"""
from alembic import op
import sqlalchemy as sa

revision = "lcbase_0002"
down_revision = "lcbase_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lcbase_item") as batch:
        batch.add_column(sa.Column("note", sa.String(length=80), nullable=True))
    op.create_table(
        "lcbase_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcbase_log")),
    )


def downgrade() -> None:
    op.drop_table("lcbase_log")
    with op.batch_alter_table("lcbase_item") as batch:
        batch.drop_column("note")
