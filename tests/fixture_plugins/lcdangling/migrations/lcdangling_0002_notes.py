"""lcdangling: notes, revising a revision that is missing

Revision ID: lcdangling_0002
Revises: lcdangling_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "lcdangling_0002"
down_revision = "lcdangling_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("lcdangling_note", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("lcdangling_note")
