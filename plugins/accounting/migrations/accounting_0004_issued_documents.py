"""accounting: issued invoices, bills, credit notes and payments are immutable in the database

Once numbered, a document's header changes only as the services change it: an invoice's payment
state and the amount it still owes (never back to draft), a payment's state to cancelled. Nothing
else, and no numbered document or payment allocation is deleted, whatever path the write takes.

Revision ID: accounting_0004
Revises: accounting_0003
Create Date: 2026-12-01 09:00:00
"""
from alembic import op

from core.ddl import create_immutable_trigger, drop_immutable_trigger

revision = "accounting_0004"
down_revision = "accounting_0003"
branch_labels = None
depends_on = None

#: The columns of an issued invoice that never change (``state`` and ``amount_residual`` follow payments).
INVOICE_FROZEN = ("id", "kind", "number", "party_id", "invoice_date", "due_date", "payment_terms_days", "currency",
                  "rate", "amount_untaxed", "amount_tax", "amount_total", "refund_of_id", "entry_id",
                  "receivable_line_id", "reference", "notes", "created_at", "posted_at")
INVOICE_MESSAGE = "accounting: an issued invoice is immutable; issue a credit note"
INVOICE_STATE = "NEW.state = 'draft'"

#: The columns of an issued payment that never change (``state`` goes from posted to cancelled, once).
PAYMENT_FROZEN = ("id", "number", "party_id", "kind", "date", "amount", "currency", "rate", "amount_company",
                  "journal_id", "reference", "entry_id", "writeoff_account_id", "writeoff_amount", "created_at",
                  "created_by_id")
PAYMENT_MESSAGE = "accounting: an issued payment is immutable; cancel it"
PAYMENT_DELETE = "accounting: an issued payment cannot be deleted; cancel it"
PAYMENT_STATE = "NEW.state NOT IN ('posted', 'cancelled') OR (OLD.state = 'cancelled' AND NEW.state <> 'cancelled')"

ALLOCATION_WHEN = "(SELECT number FROM accounting_payment WHERE accounting_payment.id = OLD.payment_id) IS NOT NULL"
ALLOCATION_MESSAGE = "accounting: the allocations of an issued payment cannot be changed"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _changed(columns: tuple[str, ...], state_rule: str) -> str:
    """An SQL condition over OLD and NEW: a frozen column differs, or the state moves where it may not."""
    differs = "IS NOT" if _sqlite() else "IS DISTINCT FROM"
    return " OR ".join([f"NEW.{c} {differs} OLD.{c}" for c in columns] + [f"({state_rule})"])


def _create_update_guard(table: str, columns: tuple[str, ...], state_rule: str, message: str) -> None:
    """Refuse an UPDATE of a numbered row of ``table`` that changes more than the services may."""
    name = f"{table}_issued_update"
    if _sqlite():
        op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
                   f"WHEN OLD.number IS NOT NULL AND ({_changed(columns, state_rule)}) "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF OLD.number IS NOT NULL AND ({_changed(columns, state_rule)}) THEN "
               f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; END IF; "
               "RETURN NEW; END $$")
    op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")


def _create_delete_guard(table: str, message: str) -> None:
    """Refuse a DELETE of a numbered row of ``table``."""
    name = f"{table}_issued_delete"
    if _sqlite():
        op.execute(f"CREATE TRIGGER {name} BEFORE DELETE ON {table} FOR EACH ROW "
                   f"WHEN OLD.number IS NOT NULL BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF OLD.number IS NOT NULL THEN RAISE EXCEPTION '{message}' "
               "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN OLD; END $$")
    op.execute(f"CREATE TRIGGER {name} BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")


def _drop(name: str, table: str) -> None:
    if _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def upgrade() -> None:
    # A numbered invoice already refuses DELETE (accounting_0002): the number can no longer be cleared first.
    _create_update_guard("accounting_invoice", INVOICE_FROZEN, INVOICE_STATE, INVOICE_MESSAGE)
    _create_update_guard("accounting_payment", PAYMENT_FROZEN, PAYMENT_STATE, PAYMENT_MESSAGE)
    _create_delete_guard("accounting_payment", PAYMENT_DELETE)
    create_immutable_trigger("accounting_payment_allocation", when=ALLOCATION_WHEN, message=ALLOCATION_MESSAGE)


def downgrade() -> None:
    drop_immutable_trigger("accounting_payment_allocation")
    _drop("accounting_payment_issued_delete", "accounting_payment")
    _drop("accounting_payment_issued_update", "accounting_payment")
    _drop("accounting_invoice_issued_update", "accounting_invoice")
