"""lcbase: a note on items

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


def downgrade() -> None:
    with op.batch_alter_table("lcbase_item") as batch:
        batch.drop_column("note")
