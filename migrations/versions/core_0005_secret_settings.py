"""Module settings may hold secrets (an SMTP password): kept out of pages and the audit log

Revision ID: core_0005
Revises: core_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_setting") as batch:
        batch.add_column(sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("core_setting") as batch:
        batch.drop_column("secret")
