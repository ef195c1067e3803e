"""hello: greetings

Revision ID: hello_0001
Revises:
Create Date: 2026-11-24 01:00:00
"""
from alembic import op
import sqlalchemy as sa

from core import UTCDateTime

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "hello_greeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_greeting")),
    )
    op.create_index(op.f("ix_hello_greeting_language"), "hello_greeting", ["language"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_hello_greeting_language"), table_name="hello_greeting")
    op.drop_table("hello_greeting")
