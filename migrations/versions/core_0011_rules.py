"""Rules: lookup tables that rules read (core_lookup_table, core_lookup_row)

Revision ID: core_0011
Revises: core_0010
"""
import sqlalchemy as sa
from alembic import op

from core.db import Quantity

revision = "core_0011"
down_revision = "core_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_lookup_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("key_type", sa.String(length=10), nullable=False),
        sa.Column("match", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_lookup_table_company_id_core_company")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_lookup_table")),
        sa.UniqueConstraint("company_id", "name", name="uq_core_lookup_table_company_id_name"),
    )
    op.create_index(op.f("ix_core_lookup_table_company_id"), "core_lookup_table", ["company_id"])
    op.create_table(
        "core_lookup_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("key_text", sa.String(length=200), nullable=True),
        sa.Column("key_number", Quantity(scale=6), nullable=True),
        sa.Column("value", Quantity(scale=6), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_lookup_row_company_id_core_company")),
        sa.ForeignKeyConstraint(["table_id"], ["core_lookup_table.id"], ondelete="CASCADE",
                                name=op.f("fk_core_lookup_row_table_id_core_lookup_table")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_lookup_row")),
    )
    op.create_index(op.f("ix_core_lookup_row_company_id"), "core_lookup_row", ["company_id"])
    op.create_index(op.f("ix_core_lookup_row_table_id"), "core_lookup_row", ["table_id"])
    op.create_index("ix_core_lookup_row_table_key", "core_lookup_row", ["table_id", "key_number", "key_text"])


def downgrade() -> None:
    op.drop_table("core_lookup_row")
    op.drop_table("core_lookup_table")
