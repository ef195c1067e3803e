"""expenses claims

Revision ID: expenses_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from core import Money, Percent

revision = "expenses_0001"
down_revision = None
branch_labels = ("expenses",)
depends_on = "core_0013"


def upgrade() -> None:
    op.create_table(
        "expenses_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("discount", Percent(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], name=op.f("fk_expenses_claim_company_id_core_company")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses_claim")),
    )
    op.create_index(op.f("ix_expenses_claim_company_id"), "expenses_claim", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_expenses_claim_company_id"), table_name="expenses_claim")
    op.drop_table("expenses_claim")
