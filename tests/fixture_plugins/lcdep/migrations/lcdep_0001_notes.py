"""lcdep: notes

Revision ID: lcdep_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "lcdep_0001"
down_revision = None
branch_labels = ("lcdep",)
depends_on = "lcbase_0001"


def upgrade() -> None:
    op.create_table(
        "lcdep_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["lcbase_item.id"], name=op.f("fk_lcdep_note_item_id_lcbase_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lcdep_note")),
    )


def downgrade() -> None:
    op.drop_table("lcdep_note")
