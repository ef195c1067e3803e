"""accounting: the ledger lines indexed by company first, for the reports of one company

A report reads the posted lines of a date range in the current company. With several companies in
one table, the index on (state, date) walks every company's lines of the range and filters out
the others; (company_id, state, date) reads only the company's own.

Revision ID: accounting_0008
Revises: accounting_0007
Create Date: 2026-12-07 13:00:00
"""
from alembic import op

revision = "accounting_0008"
down_revision = "accounting_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounting_line_company_state_date", "accounting_line", ["company_id", "state", "date"])
    op.drop_index("ix_accounting_line_state_date", table_name="accounting_line")


def downgrade() -> None:
    op.create_index("ix_accounting_line_state_date", "accounting_line", ["state", "date"])
    op.drop_index("ix_accounting_line_company_state_date", table_name="accounting_line")
