"""accounting: invoices, bills, credit notes and their lines

Revision ID: accounting_0002
Revises: accounting_0001
Create Date: 2026-11-24 03:30:00
"""
from alembic import op
import sqlalchemy as sa

from core import Money, UTCDateTime
from core.ddl import create_immutable_trigger, drop_immutable_trigger

revision = "accounting_0002"
down_revision = "accounting_0001"
branch_labels = None
depends_on = None

RATE = Money(scale=8, precision=20)
NUMBERED_LINE = "(SELECT number FROM accounting_invoice WHERE accounting_invoice.id = OLD.{column}) IS NOT NULL"
LINE_MESSAGE = "the lines of a posted invoice cannot be changed"
INVOICE_MESSAGE = "a numbered invoice cannot be deleted; issue a credit note"


def upgrade() -> None:
    op.create_table(
        "accounting_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("amount_untaxed", Money(), nullable=False),
        sa.Column("amount_tax", Money(), nullable=False),
        sa.Column("amount_total", Money(), nullable=False),
        sa.Column("amount_residual", Money(), nullable=False),
        sa.Column("refund_of_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("receivable_line_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_accounting_invoice_party_id_core_party")),
        sa.ForeignKeyConstraint(["refund_of_id"], ["accounting_invoice.id"],
                                name=op.f("fk_accounting_invoice_refund_of_id_accounting_invoice")),
        sa.ForeignKeyConstraint(["entry_id"], ["accounting_entry.id"], name=op.f("fk_accounting_invoice_entry_id_accounting_entry")),
        sa.ForeignKeyConstraint(["receivable_line_id"], ["accounting_line.id"],
                                name=op.f("fk_accounting_invoice_receivable_line_id_accounting_line")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_accounting_invoice_number")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_accounting_invoice_entry_id")),
    )
    op.create_index(op.f("ix_accounting_invoice_refund_of_id"), "accounting_invoice", ["refund_of_id"], unique=False)
    op.create_index("ix_accounting_invoice_kind_state_date", "accounting_invoice", ["kind", "state", "invoice_date", "id"])
    op.create_index("ix_accounting_invoice_party_state", "accounting_invoice", ["party_id", "state"])
    op.create_index("ix_accounting_invoice_due_date", "accounting_invoice", ["due_date", "id"])

    op.create_table(
        "accounting_invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", Money(scale=4), nullable=False),
        sa.Column("unit_price", Money(scale=4), nullable=False),
        sa.Column("discount_percent", Money(scale=2, precision=5), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_untaxed", Money(), nullable=False),
        sa.Column("amount_tax", Money(), nullable=False),
        sa.Column("amount_total", Money(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["accounting_invoice.id"], ondelete="CASCADE",
                                name=op.f("fk_accounting_invoice_line_invoice_id_accounting_invoice")),
        sa.ForeignKeyConstraint(["account_id"], ["accounting_account.id"],
                                name=op.f("fk_accounting_invoice_line_account_id_accounting_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_invoice_line")),
    )
    op.create_index(op.f("ix_accounting_invoice_line_invoice_id"), "accounting_invoice_line", ["invoice_id"], unique=False)

    op.create_table(
        "accounting_invoice_line_tax",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("tax_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["accounting_invoice_line.id"], ondelete="CASCADE",
                                name=op.f("fk_accounting_invoice_line_tax_line_id_accounting_invoice_line")),
        sa.ForeignKeyConstraint(["tax_id"], ["accounting_tax.id"], name=op.f("fk_accounting_invoice_line_tax_tax_id_accounting_tax")),
        sa.PrimaryKeyConstraint("line_id", "tax_id", name=op.f("pk_accounting_invoice_line_tax")),
    )
    op.create_index(op.f("ix_accounting_invoice_line_tax_tax_id"), "accounting_invoice_line_tax", ["tax_id"], unique=False)

    # Once numbered, an invoice's lines are as final as its entry, and the invoice itself stays.
    create_immutable_trigger("accounting_invoice_line", when=NUMBERED_LINE.format(column="invoice_id"),
                             message=LINE_MESSAGE)
    _create_delete_guard()


def _create_delete_guard() -> None:
    """Refuse DELETE of a numbered invoice (its payment state may still change, so not UPDATE)."""
    message = INVOICE_MESSAGE.replace("'", "''")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER accounting_invoice_numbered_delete BEFORE DELETE ON accounting_invoice FOR EACH ROW "
                   f"WHEN OLD.number IS NOT NULL BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    op.execute("CREATE FUNCTION accounting_invoice_numbered_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF OLD.number IS NOT NULL THEN RAISE EXCEPTION '{message}' "
               "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN OLD; END $$")
    op.execute("CREATE TRIGGER accounting_invoice_numbered_delete BEFORE DELETE ON accounting_invoice FOR EACH ROW "
               "EXECUTE FUNCTION accounting_invoice_numbered_delete()")


def _drop_delete_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS accounting_invoice_numbered_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS accounting_invoice_numbered_delete ON accounting_invoice")
    op.execute("DROP FUNCTION IF EXISTS accounting_invoice_numbered_delete()")


def downgrade() -> None:
    _drop_delete_guard()
    drop_immutable_trigger("accounting_invoice_line")
    op.drop_index(op.f("ix_accounting_invoice_line_tax_tax_id"), table_name="accounting_invoice_line_tax")
    op.drop_table("accounting_invoice_line_tax")
    op.drop_index(op.f("ix_accounting_invoice_line_invoice_id"), table_name="accounting_invoice_line")
    op.drop_table("accounting_invoice_line")
    op.drop_index("ix_accounting_invoice_due_date", table_name="accounting_invoice")
    op.drop_index("ix_accounting_invoice_party_state", table_name="accounting_invoice")
    op.drop_index("ix_accounting_invoice_kind_state_date", table_name="accounting_invoice")
    op.drop_index(op.f("ix_accounting_invoice_refund_of_id"), table_name="accounting_invoice")
    op.drop_table("accounting_invoice")
