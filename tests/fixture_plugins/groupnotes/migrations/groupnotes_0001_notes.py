"""groupnotes notes

Revision ID: groupnotes_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from core import Money

revision = "groupnotes_0001"
down_revision = None
branch_labels = ("groupnotes",)
depends_on = "core_0007"


def upgrade() -> None:
    op.create_table(
        "groupnotes_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], name=op.f("fk_groupnotes_note_company_id_core_company")),
        sa.ForeignKeyConstraint(["parent_id"], ["groupnotes_note.id"], name=op.f("fk_groupnotes_note_parent_id_groupnotes_note")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groupnotes_note")),
        sa.UniqueConstraint("company_id", "code", name=op.f("uq_groupnotes_note_company_id")),
    )
    op.create_index(op.f("ix_groupnotes_note_company_id"), "groupnotes_note", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_groupnotes_note_company_id"), table_name="groupnotes_note")
    op.drop_table("groupnotes_note")
