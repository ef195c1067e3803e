"""accounting: payments, reconciliations and bank statements

Revision ID: accounting_0003
Revises: accounting_0002
Create Date: 2026-11-24 03:30:00
"""
import sqlalchemy as sa
from alembic import op

from core import Money, UTCDateTime

revision = "accounting_0003"
down_revision = "accounting_0002"
branch_labels = None
depends_on = None

RATE = Money(scale=8, precision=20)
CURRENCY_AMOUNT = Money(scale=3, precision=18)
OVER_RECONCILED = "a ledger line cannot be reconciled beyond its amount"


def upgrade() -> None:
    op.create_table(
        "accounting_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("amount_company", Money(), nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("writeoff_account_id", sa.Integer(), nullable=True),
        sa.Column("writeoff_amount", Money(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_accounting_payment_amount_positive")),
        sa.CheckConstraint("kind IN ('inbound', 'outbound')", name=op.f("ck_accounting_payment_kind")),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_accounting_payment_party_id_core_party")),
        sa.ForeignKeyConstraint(["journal_id"], ["accounting_journal.id"],
                                name=op.f("fk_accounting_payment_journal_id_accounting_journal")),
        sa.ForeignKeyConstraint(["entry_id"], ["accounting_entry.id"], name=op.f("fk_accounting_payment_entry_id_accounting_entry")),
        sa.ForeignKeyConstraint(["writeoff_account_id"], ["accounting_account.id"],
                                name=op.f("fk_accounting_payment_writeoff_account_id_accounting_account")),
        sa.ForeignKeyConstraint(["created_by_id"], ["core_user.id"],
                                name=op.f("fk_accounting_payment_created_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_payment")),
        sa.UniqueConstraint("number", name=op.f("uq_accounting_payment_number")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_accounting_payment_entry_id")),
    )
    op.create_index(op.f("ix_accounting_payment_party_id"), "accounting_payment", ["party_id"], unique=False)
    op.create_index("ix_accounting_payment_date_id", "accounting_payment", ["date", "id"], unique=False)

    op.create_table(
        "accounting_payment_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("writeoff", Money(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_accounting_payment_allocation_amount_positive")),
        sa.ForeignKeyConstraint(["payment_id"], ["accounting_payment.id"], ondelete="CASCADE",
                                name=op.f("fk_accounting_payment_allocation_payment_id_accounting_payment")),
        sa.ForeignKeyConstraint(["invoice_id"], ["accounting_invoice.id"],
                                name=op.f("fk_accounting_payment_allocation_invoice_id_accounting_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_payment_allocation")),
    )
    op.create_index(op.f("ix_accounting_payment_allocation_payment_id"), "accounting_payment_allocation", ["payment_id"])
    op.create_index(op.f("ix_accounting_payment_allocation_invoice_id"), "accounting_payment_allocation", ["invoice_id"])

    op.create_table(
        "accounting_reconciliation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"],
                                name=op.f("fk_accounting_reconciliation_party_id_core_party")),
        sa.ForeignKeyConstraint(["payment_id"], ["accounting_payment.id"],
                                name=op.f("fk_accounting_reconciliation_payment_id_accounting_payment")),
        sa.ForeignKeyConstraint(["created_by_id"], ["core_user.id"],
                                name=op.f("fk_accounting_reconciliation_created_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_reconciliation")),
    )
    op.create_index(op.f("ix_accounting_reconciliation_party_id"), "accounting_reconciliation", ["party_id"])
    op.create_index(op.f("ix_accounting_reconciliation_payment_id"), "accounting_reconciliation", ["payment_id"])

    op.create_table(
        "accounting_reconciliation_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reconciliation_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("amount_currency", CURRENCY_AMOUNT, nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_accounting_reconciliation_line_amount_not_negative")),
        sa.CheckConstraint("amount_currency IS NULL OR amount_currency >= 0",
                           name=op.f("ck_accounting_reconciliation_line_amount_currency_not_negative")),
        sa.ForeignKeyConstraint(["reconciliation_id"], ["accounting_reconciliation.id"], ondelete="CASCADE",
                                name=op.f("fk_accounting_reconciliation_line_reconciliation_id_accounting_reconciliation")),
        sa.ForeignKeyConstraint(["line_id"], ["accounting_line.id"],
                                name=op.f("fk_accounting_reconciliation_line_line_id_accounting_line")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_reconciliation_line")),
    )
    op.create_index(op.f("ix_accounting_reconciliation_line_reconciliation_id"), "accounting_reconciliation_line",
                    ["reconciliation_id"])
    op.create_index(op.f("ix_accounting_reconciliation_line_line_id"), "accounting_reconciliation_line", ["line_id"])
    _create_over_reconciliation_guard()

    op.create_table(
        "accounting_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("account_number", sa.String(length=60), nullable=False),
        sa.Column("opening_balance", Money(), nullable=True),
        sa.Column("closing_balance", Money(), nullable=True),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["journal_id"], ["accounting_journal.id"],
                                name=op.f("fk_accounting_statement_journal_id_accounting_journal")),
        sa.ForeignKeyConstraint(["imported_by_id"], ["core_user.id"],
                                name=op.f("fk_accounting_statement_imported_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_statement")),
    )

    op.create_table(
        "accounting_statement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column("counterparty_account", sa.String(length=60), nullable=False),
        sa.Column("balance", Money(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_accounting_statement_line_amount_not_zero")),
        sa.CheckConstraint("state IN ('unmatched', 'matched')", name=op.f("ck_accounting_statement_line_state")),
        sa.ForeignKeyConstraint(["statement_id"], ["accounting_statement.id"], ondelete="CASCADE",
                                name=op.f("fk_accounting_statement_line_statement_id_accounting_statement")),
        sa.ForeignKeyConstraint(["payment_id"], ["accounting_payment.id"],
                                name=op.f("fk_accounting_statement_line_payment_id_accounting_payment")),
        sa.ForeignKeyConstraint(["entry_id"], ["accounting_entry.id"],
                                name=op.f("fk_accounting_statement_line_entry_id_accounting_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_statement_line")),
    )
    op.create_index(op.f("ix_accounting_statement_line_statement_id"), "accounting_statement_line", ["statement_id"])
    op.create_index("ix_accounting_statement_line_state_date", "accounting_statement_line", ["state", "date"])


def _create_over_reconciliation_guard() -> None:
    """Refuse, in the database, a reconciliation line that takes more than its ledger line holds.

    Money is stored the same way in both tables (scaled integers on SQLite, NUMERIC on
    PostgreSQL), so the amounts compare directly.
    """
    taken = ("(SELECT COALESCE(SUM(r.amount), 0) FROM accounting_reconciliation_line r "
             "WHERE r.line_id = NEW.line_id{other})")
    line_amount = "(SELECT ABS(l.debit - l.credit) FROM accounting_line l WHERE l.id = NEW.line_id)"
    if op.get_bind().dialect.name == "sqlite":
        for verb, other in (("INSERT", ""), ("UPDATE", " AND r.id <> NEW.id")):
            op.execute(
                f"CREATE TRIGGER accounting_reconciliation_line_limit_{verb.lower()} BEFORE {verb} "
                f"ON accounting_reconciliation_line FOR EACH ROW "
                f"WHEN {taken.format(other=other)} + NEW.amount > {line_amount} "
                f"BEGIN SELECT RAISE(ABORT, '{OVER_RECONCILED}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION accounting_reconciliation_line_limit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {taken.format(other=' AND r.id <> NEW.id')} + NEW.amount > {line_amount} THEN "
        f"RAISE EXCEPTION '{OVER_RECONCILED}' USING ERRCODE = 'check_violation'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute("CREATE TRIGGER accounting_reconciliation_line_limit BEFORE INSERT OR UPDATE ON accounting_reconciliation_line "
               "FOR EACH ROW EXECUTE FUNCTION accounting_reconciliation_line_limit()")


def _drop_over_reconciliation_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS accounting_reconciliation_line_limit_insert")
        op.execute("DROP TRIGGER IF EXISTS accounting_reconciliation_line_limit_update")
        return
    op.execute("DROP TRIGGER IF EXISTS accounting_reconciliation_line_limit ON accounting_reconciliation_line")
    op.execute("DROP FUNCTION IF EXISTS accounting_reconciliation_line_limit()")


def downgrade() -> None:
    op.drop_index("ix_accounting_statement_line_state_date", table_name="accounting_statement_line")
    op.drop_index(op.f("ix_accounting_statement_line_statement_id"), table_name="accounting_statement_line")
    op.drop_table("accounting_statement_line")
    op.drop_table("accounting_statement")
    _drop_over_reconciliation_guard()
    op.drop_index(op.f("ix_accounting_reconciliation_line_line_id"), table_name="accounting_reconciliation_line")
    op.drop_index(op.f("ix_accounting_reconciliation_line_reconciliation_id"), table_name="accounting_reconciliation_line")
    op.drop_table("accounting_reconciliation_line")
    op.drop_index(op.f("ix_accounting_reconciliation_payment_id"), table_name="accounting_reconciliation")
    op.drop_index(op.f("ix_accounting_reconciliation_party_id"), table_name="accounting_reconciliation")
    op.drop_table("accounting_reconciliation")
    op.drop_index(op.f("ix_accounting_payment_allocation_invoice_id"), table_name="accounting_payment_allocation")
    op.drop_index(op.f("ix_accounting_payment_allocation_payment_id"), table_name="accounting_payment_allocation")
    op.drop_table("accounting_payment_allocation")
    op.drop_index("ix_accounting_payment_date_id", table_name="accounting_payment")
    op.drop_index(op.f("ix_accounting_payment_party_id"), table_name="accounting_payment")
    op.drop_table("accounting_payment")
