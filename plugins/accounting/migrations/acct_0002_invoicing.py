"""accounting: invoices, bills, credit notes and their lines

Revision ID: acct_0002
Revises: acct_0001
Create Date: 2026-11-24 03:30:00
"""
from alembic import op
import sqlalchemy as sa

from core import Money, UTCDateTime
from core.ddl import create_immutable_trigger, drop_immutable_trigger

revision = "acct_0002"
down_revision = "acct_0001"
branch_labels = None
depends_on = None

RATE = Money(scale=8, precision=20)
NUMBERED_LINE = "(SELECT number FROM acct_invoice WHERE acct_invoice.id = OLD.{column}) IS NOT NULL"
LINE_MESSAGE = "the lines of a posted invoice cannot be changed"
INVOICE_MESSAGE = "a numbered invoice cannot be deleted; issue a credit note"


def upgrade() -> None:
    op.create_table(
        "acct_invoice",
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
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_acct_invoice_party_id_core_party")),
        sa.ForeignKeyConstraint(["refund_of_id"], ["acct_invoice.id"],
                                name=op.f("fk_acct_invoice_refund_of_id_acct_invoice")),
        sa.ForeignKeyConstraint(["entry_id"], ["acct_entry.id"], name=op.f("fk_acct_invoice_entry_id_acct_entry")),
        sa.ForeignKeyConstraint(["receivable_line_id"], ["acct_line.id"],
                                name=op.f("fk_acct_invoice_receivable_line_id_acct_line")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_acct_invoice_number")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_acct_invoice_entry_id")),
    )
    op.create_index(op.f("ix_acct_invoice_refund_of_id"), "acct_invoice", ["refund_of_id"], unique=False)
    op.create_index("ix_acct_invoice_kind_state_date", "acct_invoice", ["kind", "state", "invoice_date", "id"])
    op.create_index("ix_acct_invoice_party_state", "acct_invoice", ["party_id", "state"])
    op.create_index("ix_acct_invoice_due_date", "acct_invoice", ["due_date", "id"])

    op.create_table(
        "acct_invoice_line",
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
        sa.ForeignKeyConstraint(["invoice_id"], ["acct_invoice.id"], ondelete="CASCADE",
                                name=op.f("fk_acct_invoice_line_invoice_id_acct_invoice")),
        sa.ForeignKeyConstraint(["account_id"], ["acct_account.id"],
                                name=op.f("fk_acct_invoice_line_account_id_acct_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_invoice_line")),
    )
    op.create_index(op.f("ix_acct_invoice_line_invoice_id"), "acct_invoice_line", ["invoice_id"], unique=False)

    op.create_table(
        "acct_invoice_line_tax",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("tax_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["acct_invoice_line.id"], ondelete="CASCADE",
                                name=op.f("fk_acct_invoice_line_tax_line_id_acct_invoice_line")),
        sa.ForeignKeyConstraint(["tax_id"], ["acct_tax.id"], name=op.f("fk_acct_invoice_line_tax_tax_id_acct_tax")),
        sa.PrimaryKeyConstraint("line_id", "tax_id", name=op.f("pk_acct_invoice_line_tax")),
    )
    op.create_index(op.f("ix_acct_invoice_line_tax_tax_id"), "acct_invoice_line_tax", ["tax_id"], unique=False)

    # Once numbered, an invoice's lines are as final as its entry, and the invoice itself stays.
    create_immutable_trigger("acct_invoice_line", when=NUMBERED_LINE.format(column="invoice_id"),
                             message=LINE_MESSAGE)
    _create_delete_guard()


def _create_delete_guard() -> None:
    """Refuse DELETE of a numbered invoice (its payment state may still change, so not UPDATE)."""
    message = INVOICE_MESSAGE.replace("'", "''")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER acct_invoice_numbered_delete BEFORE DELETE ON acct_invoice FOR EACH ROW "
                   f"WHEN OLD.number IS NOT NULL BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    op.execute("CREATE FUNCTION acct_invoice_numbered_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF OLD.number IS NOT NULL THEN RAISE EXCEPTION '{message}' "
               "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN OLD; END $$")
    op.execute("CREATE TRIGGER acct_invoice_numbered_delete BEFORE DELETE ON acct_invoice FOR EACH ROW "
               "EXECUTE FUNCTION acct_invoice_numbered_delete()")


def _drop_delete_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS acct_invoice_numbered_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS acct_invoice_numbered_delete ON acct_invoice")
    op.execute("DROP FUNCTION IF EXISTS acct_invoice_numbered_delete()")


def downgrade() -> None:
    _drop_delete_guard()
    drop_immutable_trigger("acct_invoice_line")
    op.drop_index(op.f("ix_acct_invoice_line_tax_tax_id"), table_name="acct_invoice_line_tax")
    op.drop_table("acct_invoice_line_tax")
    op.drop_index(op.f("ix_acct_invoice_line_invoice_id"), table_name="acct_invoice_line")
    op.drop_table("acct_invoice_line")
    op.drop_index("ix_acct_invoice_due_date", table_name="acct_invoice")
    op.drop_index("ix_acct_invoice_party_state", table_name="acct_invoice")
    op.drop_index("ix_acct_invoice_kind_state_date", table_name="acct_invoice")
    op.drop_index(op.f("ix_acct_invoice_refund_of_id"), table_name="acct_invoice")
    op.drop_table("acct_invoice")
