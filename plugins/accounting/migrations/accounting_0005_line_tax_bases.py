"""accounting: every tax a ledger line is the base of (a line taxed twice is the base of both)

``accounting_line.tax_base_id`` holds one tax, so a line with two taxes recorded only the first
one's base and the VAT report missed the second's. ``accounting_line_tax_base`` holds them all.
The existing bases are copied in, and for a posted invoice's lines the other taxes of the invoice
lines they were booked from. A row is immutable once its line is posted, and none joins a posted
entry (database triggers, like the lines').

Revision ID: accounting_0005
Revises: accounting_0004
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from core.ddl import create_immutable_trigger, drop_immutable_trigger

revision = "accounting_0005"
down_revision = "accounting_0004"
branch_labels = None
depends_on = None

TABLE = "accounting_line_tax_base"
POSTED_LINE = "(SELECT state FROM accounting_line WHERE accounting_line.id = OLD.line_id) = 'posted'"
INTO_POSTED = ("(SELECT accounting_entry.state FROM accounting_entry JOIN accounting_line "
               "ON accounting_line.entry_id = accounting_entry.id WHERE accounting_line.id = NEW.line_id) = 'posted'")
IMMUTABLE = "accounting: the tax bases of a posted line are immutable"
INTO_POSTED_MESSAGE = "accounting: a posted entry takes no new tax base"
INSERT_GUARD = f"{TABLE}_into_posted"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("tax_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["accounting_line.id"],
                                name=op.f("fk_accounting_line_tax_base_line_id_accounting_line"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tax_id"], ["accounting_tax.id"],
                                name=op.f("fk_accounting_line_tax_base_tax_id_accounting_tax")),
        sa.PrimaryKeyConstraint("line_id", "tax_id", name=op.f("pk_accounting_line_tax_base")),
    )
    op.create_index(op.f("ix_accounting_line_tax_base_tax_id"), TABLE, ["tax_id"], unique=False)
    op.execute(f"INSERT INTO {TABLE} (line_id, tax_id) "
               "SELECT id, tax_base_id FROM accounting_line WHERE tax_base_id IS NOT NULL")
    # An invoice's entry grouped its lines by account and taxes and marked the first tax only:
    # the other taxes of the invoice lines booked on that account with that first tax.
    op.execute(
        f"INSERT INTO {TABLE} (line_id, tax_id) "
        "SELECT DISTINCT l.id, t.tax_id FROM accounting_line l "
        "JOIN accounting_invoice i ON i.entry_id = l.entry_id "
        "JOIN accounting_invoice_line il ON il.invoice_id = i.id AND il.account_id = l.account_id "
        "JOIN accounting_invoice_line_tax f ON f.line_id = il.id AND f.tax_id = l.tax_base_id "
        "JOIN accounting_invoice_line_tax t ON t.line_id = il.id AND t.tax_id <> l.tax_base_id "
        f"WHERE l.tax_base_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} b "
        "WHERE b.line_id = l.id AND b.tax_id = t.tax_id)"
    )
    create_immutable_trigger(TABLE, when=POSTED_LINE, message=IMMUTABLE)
    if _sqlite():
        op.execute(f"CREATE TRIGGER {INSERT_GUARD} BEFORE INSERT ON {TABLE} FOR EACH ROW "
                   f"WHEN {INTO_POSTED} BEGIN SELECT RAISE(ABORT, '{INTO_POSTED_MESSAGE}'); END")
        return
    op.execute(f"CREATE FUNCTION {INSERT_GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF {INTO_POSTED} THEN RAISE EXCEPTION '{INTO_POSTED_MESSAGE}' "
               "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$")
    op.execute(f"CREATE TRIGGER {INSERT_GUARD} BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {INSERT_GUARD}()")


def downgrade() -> None:
    if _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {INSERT_GUARD}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {INSERT_GUARD} ON {TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {INSERT_GUARD}()")
    drop_immutable_trigger(TABLE)
    op.drop_index(op.f("ix_accounting_line_tax_base_tax_id"), table_name=TABLE)
    op.drop_table(TABLE)
