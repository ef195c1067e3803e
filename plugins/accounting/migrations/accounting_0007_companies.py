"""accounting: books per company

Every per-company table of accounting gains ``company_id`` (the company the row belongs to); the
rows of an existing instance belong to its one company, the default company (id 1 on an instance
that existed before companies; read from ``core_company``, whatever its id). A ledger
line repeats its entry's company, so that reports sum lines per company on one table. The child
tables (invoice lines, a line's tax bases, payment allocations, reconciliation lines, statement
lines, journal sequences) are reached through their parent and stay as they are; currencies stay
shared (ISO codes), exchange rates become per company (one unit in the company's base currency).

Codes and numbers that were unique in the instance become unique per company; ``accounting_config``
holds one row per company and an account role is mapped per company. The lock-date triggers read
the lock date of the row's company. Hashed fields do not change, so every journal's hash chain
verifies as before.

For intercompany documents: ``accounting_account.intercompany`` (an account eliminated in
consolidated reports) and ``accounting_invoice.intercompany_source_id`` (the invoice of another
group company that a bill mirrors).

SQLite rebuilds the tables (batch mode); every trigger that mentions an accounting table is set
aside for the rebuild and made again afterwards (the lock-date ones reading the row's company).

Revision ID: accounting_0007
Revises: accounting_0006
Create Date: 2026-12-07 08:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "accounting_0007"
down_revision = "accounting_0006"
branch_labels = None
depends_on = "core_0007"

#: table → its unique constraints that become per company (column lists, without company_id)
UNIQUES: dict[str, list[tuple[str, ...]]] = {
    "accounting_account": [("code",)],
    "accounting_fiscal_year": [("name",), ("start_date",)],
    "accounting_period": [],
    "accounting_journal": [("code",)],
    "accounting_entry": [("number",)],
    "accounting_line": [],
    "accounting_tax": [("code",)],
    "accounting_config": [],
    "accounting_account_role": [],
    "accounting_invoice": [("number",)],
    "accounting_payment": [("number",)],
    "accounting_reconciliation": [],
    "accounting_statement": [],
    "accounting_exchange_rate": [("currency", "date")],
}
TABLES = tuple(UNIQUES)

OLD_LOCK = "(SELECT lock_date FROM accounting_config WHERE id = 1)"
NEW_LOCK = "(SELECT lock_date FROM accounting_config WHERE company_id = NEW.company_id)"
LOCKED = "accounting: on or before the lock date"
LINE_INDEX = "ix_accounting_line_company_account"
SOURCE_FK = "fk_accounting_invoice_intercompany_source_id_accounting_invoice"
SOURCE_UQ = "uq_accounting_invoice_intercompany_source_id"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _default_company() -> int:
    """The id of the default company (the one company of an instance that existed before companies)."""
    found = op.get_bind().execute(sa.text(
        "SELECT id FROM core_company ORDER BY is_default DESC, id LIMIT 1")).scalar()
    return int(found) if found is not None else 1


def _uq(table: str, columns: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


# -- SQLite: triggers out of the way of the rebuilds --


def _set_triggers_aside() -> list[str]:
    """Drop (SQLite) every trigger that mentions an accounting table; returns their SQL to make them again.

    A rebuild drops a table with its triggers, and SQLite refuses to rename the rebuilt table while
    another table's trigger names a table that is momentarily missing.
    """
    rows = op.get_bind().execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%accounting_%' ORDER BY name"
    )).all()
    for name, _sql in rows:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    return [sql for _name, sql in rows]


def _put_triggers_back(statements: list[str], old: str, new: str) -> None:
    for sql in statements:
        op.execute(sql.replace(old, new))


# -- PostgreSQL: the lock-date function --


def _pg_lock_function(lock: str) -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION accounting_lock_date_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.date <= {lock} THEN RAISE EXCEPTION '{LOCKED}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; RETURN NEW; END $$"
    )


def _pg_user_triggers(enable: bool) -> None:
    verb = "ENABLE" if enable else "DISABLE"
    for table in TABLES + ("accounting_invoice_line", "accounting_payment_allocation", "accounting_line_tax_base",
                           "accounting_reconciliation_line", "accounting_statement_line"):
        op.execute(f"ALTER TABLE {table} {verb} TRIGGER USER")


def _defer_foreign_keys() -> None:
    """On SQLite, check foreign keys at commit: a batch rebuild drops and recreates a table that
    other tables reference (the pragma ends with the transaction)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    _defer_foreign_keys()
    default = _default_company()
    saved = _set_triggers_aside() if _sqlite() else []
    for table, uniques in UNIQUES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("company_id", sa.Integer(), nullable=False,
                                       server_default=str(default)))
            batch.create_foreign_key(op.f(f"fk_{table}_company_id_core_company"), "core_company",
                                     ["company_id"], ["id"])
            batch.create_index(op.f(f"ix_{table}_company_id"), ["company_id"])
            for columns in uniques:
                batch.drop_constraint(op.f(_uq(table, columns)), type_="unique")
                batch.create_unique_constraint(op.f(_uq(table, ("company_id", *columns))), ["company_id", *columns])
            if table == "accounting_line":
                batch.create_index(LINE_INDEX, ["company_id", "account_id"])
            elif table == "accounting_config":
                batch.create_unique_constraint(op.f("uq_accounting_config_company_id"), ["company_id"])
            elif table == "accounting_account_role":
                batch.drop_constraint(op.f("pk_accounting_account_role"), type_="primary")
                batch.create_primary_key(op.f("pk_accounting_account_role"), ["company_id", "role"])
            elif table == "accounting_account":
                batch.add_column(sa.Column("intercompany", sa.Boolean(), nullable=False, server_default=sa.false()))
            elif table == "accounting_invoice":
                batch.add_column(sa.Column("intercompany_source_id", sa.Integer(), nullable=True))
                batch.create_foreign_key(op.f(SOURCE_FK), "accounting_invoice", ["intercompany_source_id"], ["id"])
                batch.create_unique_constraint(op.f(SOURCE_UQ), ["intercompany_source_id"])
    # every existing row now belongs to the default company; a new row must name its company
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("company_id", existing_type=sa.Integer(), existing_nullable=False, server_default=None)
    if _sqlite():
        _put_triggers_back(saved, OLD_LOCK, NEW_LOCK)
    else:
        _pg_lock_function(NEW_LOCK)


def _delete_other_companies(default: int) -> None:
    """Remove the rows of every company but the default one (a purge archived them first)."""
    other = f"company_id <> {default}"
    statements = [
        f"DELETE FROM accounting_statement_line WHERE statement_id IN (SELECT id FROM accounting_statement WHERE {other})",
        f"DELETE FROM accounting_statement WHERE {other}",
        "DELETE FROM accounting_reconciliation_line WHERE reconciliation_id IN "
        f"(SELECT id FROM accounting_reconciliation WHERE {other}) "
        f"OR line_id IN (SELECT id FROM accounting_line WHERE {other})",
        f"DELETE FROM accounting_reconciliation WHERE {other}",
        f"DELETE FROM accounting_payment_allocation WHERE payment_id IN (SELECT id FROM accounting_payment WHERE {other}) "
        f"OR invoice_id IN (SELECT id FROM accounting_invoice WHERE {other})",
        f"DELETE FROM accounting_payment WHERE {other}",
        "DELETE FROM accounting_invoice_line_tax WHERE line_id IN (SELECT l.id FROM accounting_invoice_line l "
        f"JOIN accounting_invoice i ON i.id = l.invoice_id WHERE i.{other})",
        f"DELETE FROM accounting_invoice_line WHERE invoice_id IN (SELECT id FROM accounting_invoice WHERE {other})",
        f"UPDATE accounting_invoice SET refund_of_id = NULL WHERE {other}",
        f"DELETE FROM accounting_invoice WHERE {other}",
        f"UPDATE accounting_fiscal_year SET closing_entry_id = NULL WHERE {other}",
        f"DELETE FROM accounting_line_tax_base WHERE line_id IN (SELECT id FROM accounting_line WHERE {other})",
        f"DELETE FROM accounting_line WHERE {other}",
        f"DELETE FROM accounting_journal_sequence WHERE journal_id IN (SELECT id FROM accounting_journal WHERE {other})",
        f"UPDATE accounting_entry SET reversal_of_id = NULL WHERE {other}",
        f"DELETE FROM accounting_entry WHERE {other}",
        f"DELETE FROM accounting_config WHERE {other}",
        f"DELETE FROM accounting_account_role WHERE {other}",
        f"DELETE FROM accounting_exchange_rate WHERE {other}",
        f"DELETE FROM accounting_tax WHERE {other}",
        f"DELETE FROM accounting_period WHERE {other}",
        f"DELETE FROM accounting_fiscal_year WHERE {other}",
        f"DELETE FROM accounting_journal WHERE {other}",
        f"UPDATE accounting_account SET parent_id = NULL WHERE {other}",
        f"DELETE FROM accounting_account WHERE {other}",
        # the one company's settings are the row id 1 again, as accounting_0006's downgrade expects
        f"UPDATE accounting_config SET id = 1 WHERE id <> 1",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    _defer_foreign_keys()
    sqlite = _sqlite()
    bind = op.get_bind()
    default = _default_company()
    others = any(bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE company_id <> {default} LIMIT 1")).first()
                 for table in TABLES)
    saved = _set_triggers_aside() if sqlite else []
    if not sqlite:
        _pg_lock_function(OLD_LOCK)
    with op.batch_alter_table("accounting_invoice") as batch:
        batch.drop_constraint(op.f(SOURCE_UQ), type_="unique")
        batch.drop_constraint(op.f(SOURCE_FK), type_="foreignkey")
        batch.drop_column("intercompany_source_id")
    if others:
        if not sqlite:
            _pg_user_triggers(enable=False)
        _delete_other_companies(default)
        if not sqlite:
            _pg_user_triggers(enable=True)
    for table, uniques in reversed(list(UNIQUES.items())):
        with op.batch_alter_table(table) as batch:
            if table == "accounting_line":
                batch.drop_index(LINE_INDEX)
            elif table == "accounting_config":
                batch.drop_constraint(op.f("uq_accounting_config_company_id"), type_="unique")
            elif table == "accounting_account_role":
                batch.drop_constraint(op.f("pk_accounting_account_role"), type_="primary")
                batch.create_primary_key(op.f("pk_accounting_account_role"), ["role"])
            elif table == "accounting_account":
                batch.drop_column("intercompany")
            for columns in uniques:
                batch.drop_constraint(op.f(_uq(table, ("company_id", *columns))), type_="unique")
                batch.create_unique_constraint(op.f(_uq(table, columns)), list(columns))
            batch.drop_index(op.f(f"ix_{table}_company_id"))
            batch.drop_constraint(op.f(f"fk_{table}_company_id_core_company"), type_="foreignkey")
            batch.drop_column("company_id")
    if sqlite:
        _put_triggers_back(saved, NEW_LOCK, OLD_LOCK)
