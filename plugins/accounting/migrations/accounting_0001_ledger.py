"""accounting: the ledger (accounts, fiscal years, journals, entries, lines), currencies and taxes

Posted entries and lines are immutable, nothing is written on or before the lock date, and no
line joins a posted entry: database triggers enforce it on SQLite and PostgreSQL, whatever path
the write takes.

Revision ID: accounting_0001
Revises:
Create Date: 2026-11-24 03:20:00
"""
from alembic import op
import sqlalchemy as sa

from core import Money, UTCDateTime
from core.ddl import create_immutable_trigger, drop_immutable_trigger

revision = "accounting_0001"
down_revision = None
branch_labels = ("accounting",)
depends_on = "core_0001"

CLOSING_FK = "fk_accounting_fiscal_year_closing_entry_id_accounting_entry"
LOCKED = "accounting: on or before the lock date"
INTO_POSTED = "accounting: a posted entry takes no new lines"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # accounting_fiscal_year and accounting_entry refer to each other. SQLite accepts a foreign key to a table
    # created later (and cannot add one afterwards); PostgreSQL adds it once accounting_entry exists.
    closing_fk = [sa.ForeignKeyConstraint(["closing_entry_id"], ["accounting_entry.id"], name=op.f(CLOSING_FK))] \
        if _sqlite() else []
    op.create_table('accounting_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('postable', sa.Boolean(), nullable=False),
    sa.Column('reconcilable', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['accounting_account.id'], name=op.f('fk_accounting_account_parent_id_accounting_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_account')),
    sa.UniqueConstraint('code', name=op.f('uq_accounting_account_code'))
    )
    op.create_index(op.f('ix_accounting_account_parent_id'), 'accounting_account', ['parent_id'], unique=False)
    op.create_table('accounting_currency',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('digits', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_accounting_currency'))
    )
    op.create_table('accounting_fiscal_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('closing_entry_id', sa.Integer(), nullable=True),
    *closing_fk,
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_fiscal_year')),
    sa.UniqueConstraint('name', name=op.f('uq_accounting_fiscal_year_name')),
    sa.UniqueConstraint('start_date', name=op.f('uq_accounting_fiscal_year_start_date'))
    )
    op.create_table('accounting_exchange_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('rate', Money(scale=8, precision=20), nullable=False),
    sa.ForeignKeyConstraint(['currency'], ['accounting_currency.code'], name=op.f('fk_accounting_exchange_rate_currency_accounting_currency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_exchange_rate')),
    sa.UniqueConstraint('currency', 'date', name=op.f('uq_accounting_exchange_rate_currency_date'))
    )
    op.create_table('accounting_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('default_account_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['default_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_journal_default_account_id_accounting_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_journal')),
    sa.UniqueConstraint('code', name=op.f('uq_accounting_journal_code'))
    )
    op.create_table('accounting_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['fiscal_year_id'], ['accounting_fiscal_year.id'], name=op.f('fk_accounting_period_fiscal_year_id_accounting_fiscal_year')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_period')),
    sa.UniqueConstraint('fiscal_year_id', 'start_date', name=op.f('uq_accounting_period_fiscal_year_id_start_date'))
    )
    op.create_index(op.f('ix_accounting_period_fiscal_year_id'), 'accounting_period', ['fiscal_year_id'], unique=False)
    op.create_index(op.f('ix_accounting_period_start_date'), 'accounting_period', ['start_date'], unique=False)
    op.create_table('accounting_tax',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('rate', Money(scale=4, precision=9), nullable=False),
    sa.Column('price_included', sa.Boolean(), nullable=False),
    sa.Column('reverse_charge', sa.Boolean(), nullable=False),
    sa.Column('collected_account_id', sa.Integer(), nullable=True),
    sa.Column('paid_account_id', sa.Integer(), nullable=True),
    sa.Column('report_code', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collected_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_tax_collected_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['paid_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_tax_paid_account_id_accounting_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_tax')),
    sa.UniqueConstraint('code', name=op.f('uq_accounting_tax_code'))
    )
    op.create_table('accounting_config',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lock_date', sa.Date(), nullable=True),
    sa.Column('retained_earnings_account_id', sa.Integer(), nullable=True),
    sa.Column('receivable_account_id', sa.Integer(), nullable=True),
    sa.Column('payable_account_id', sa.Integer(), nullable=True),
    sa.Column('exchange_gain_account_id', sa.Integer(), nullable=True),
    sa.Column('exchange_loss_account_id', sa.Integer(), nullable=True),
    sa.Column('rounding_account_id', sa.Integer(), nullable=True),
    sa.Column('sales_journal_id', sa.Integer(), nullable=True),
    sa.Column('purchase_journal_id', sa.Integer(), nullable=True),
    sa.Column('general_journal_id', sa.Integer(), nullable=True),
    sa.Column('default_payment_terms_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exchange_gain_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_exchange_gain_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['exchange_loss_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_exchange_loss_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['general_journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_config_general_journal_id_accounting_journal')),
    sa.ForeignKeyConstraint(['payable_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_payable_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['purchase_journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_config_purchase_journal_id_accounting_journal')),
    sa.ForeignKeyConstraint(['receivable_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_receivable_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['retained_earnings_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_retained_earnings_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['rounding_account_id'], ['accounting_account.id'], name=op.f('fk_accounting_config_rounding_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['sales_journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_config_sales_journal_id_accounting_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_config'))
    )
    op.create_table('accounting_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('narration', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('fiscal_year_id', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('posted_at', UTCDateTime(), nullable=True),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('reversal_of_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fiscal_year_id'], ['accounting_fiscal_year.id'], name=op.f('fk_accounting_entry_fiscal_year_id_accounting_fiscal_year')),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_entry_journal_id_accounting_journal')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['core_user.id'], name=op.f('fk_accounting_entry_posted_by_id_core_user')),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['accounting_entry.id'], name=op.f('fk_accounting_entry_reversal_of_id_accounting_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_entry')),
    sa.UniqueConstraint('journal_id', 'fiscal_year_id', 'sequence', name=op.f('uq_accounting_entry_journal_id_fiscal_year_id_sequence')),
    sa.UniqueConstraint('number', name=op.f('uq_accounting_entry_number')),
    sa.UniqueConstraint('reversal_of_id', name=op.f('uq_accounting_entry_reversal_of_id'))
    )
    op.create_index('ix_accounting_entry_journal_state_date', 'accounting_entry', ['journal_id', 'state', 'date'], unique=False)
    op.create_table('accounting_journal_sequence',
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year_id', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fiscal_year_id'], ['accounting_fiscal_year.id'], name=op.f('fk_accounting_journal_sequence_fiscal_year_id_accounting_fiscal_year')),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_journal_sequence_journal_id_accounting_journal')),
    sa.PrimaryKeyConstraint('journal_id', 'fiscal_year_id', name=op.f('pk_accounting_journal_sequence'))
    )
    op.create_table('accounting_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('debit', Money(), nullable=False),
    sa.Column('credit', Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('amount_currency', Money(scale=3, precision=18), nullable=True),
    sa.Column('rate', Money(scale=8, precision=20), nullable=True),
    sa.Column('tax_id', sa.Integer(), nullable=True),
    sa.Column('tax_base_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounting_account.id'], name=op.f('fk_accounting_line_account_id_accounting_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entry.id'], name=op.f('fk_accounting_line_entry_id_accounting_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journal.id'], name=op.f('fk_accounting_line_journal_id_accounting_journal')),
    sa.ForeignKeyConstraint(['party_id'], ['core_party.id'], name=op.f('fk_accounting_line_party_id_core_party')),
    sa.ForeignKeyConstraint(['tax_base_id'], ['accounting_tax.id'], name=op.f('fk_accounting_line_tax_base_id_accounting_tax')),
    sa.ForeignKeyConstraint(['tax_id'], ['accounting_tax.id'], name=op.f('fk_accounting_line_tax_id_accounting_tax')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_line'))
    )
    op.create_index('ix_accounting_line_account_state_date', 'accounting_line', ['account_id', 'state', 'date', 'id'], unique=False)
    op.create_index(op.f('ix_accounting_line_entry_id'), 'accounting_line', ['entry_id'], unique=False)
    op.create_index('ix_accounting_line_party_account', 'accounting_line', ['party_id', 'account_id'], unique=False)
    op.create_index('ix_accounting_line_state_date', 'accounting_line', ['state', 'date'], unique=False)
    if not _sqlite():
        op.create_foreign_key(op.f(CLOSING_FK), "accounting_fiscal_year", "accounting_entry", ["closing_entry_id"], ["id"])
    create_immutable_trigger("accounting_entry", when="OLD.state = 'posted'", message="accounting: a posted entry is immutable")
    create_immutable_trigger("accounting_line", when="OLD.state = 'posted'", message="accounting: a posted line is immutable")
    _create_guards()


def _create_guards() -> None:
    """Refuse rows dated on or before the lock date, and lines joining a posted entry."""
    lock = "(SELECT lock_date FROM accounting_config WHERE id = 1)"
    posted = "(SELECT state FROM accounting_entry WHERE id = NEW.entry_id) = 'posted'"
    if _sqlite():
        for table in ("accounting_entry", "accounting_line"):
            for verb in ("INSERT", "UPDATE"):
                op.execute(f"CREATE TRIGGER {table}_lock_date_{verb.lower()} BEFORE {verb} ON {table} FOR EACH ROW "
                           f"WHEN NEW.date <= {lock} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END")
        op.execute(f"CREATE TRIGGER accounting_line_into_posted_insert BEFORE INSERT ON accounting_line FOR EACH ROW "
                   f"WHEN {posted} BEGIN SELECT RAISE(ABORT, '{INTO_POSTED}'); END")
        op.execute(f"CREATE TRIGGER accounting_line_into_posted_update BEFORE UPDATE OF entry_id ON accounting_line FOR EACH ROW "
                   f"WHEN {posted} BEGIN SELECT RAISE(ABORT, '{INTO_POSTED}'); END")
        return
    op.execute(
        "CREATE FUNCTION accounting_lock_date_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.date <= {lock} THEN RAISE EXCEPTION '{LOCKED}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; RETURN NEW; END $$"
    )
    for table in ("accounting_entry", "accounting_line"):
        op.execute(f"CREATE TRIGGER {table}_lock_date BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                   "EXECUTE FUNCTION accounting_lock_date_guard()")
    op.execute(
        "CREATE FUNCTION accounting_line_into_posted_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {posted} THEN RAISE EXCEPTION '{INTO_POSTED}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute("CREATE TRIGGER accounting_line_into_posted BEFORE INSERT OR UPDATE OF entry_id ON accounting_line FOR EACH ROW "
               "EXECUTE FUNCTION accounting_line_into_posted_guard()")


def _drop_guards() -> None:
    if _sqlite():
        for table in ("accounting_entry", "accounting_line"):
            for verb in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_lock_date_{verb}")
        op.execute("DROP TRIGGER IF EXISTS accounting_line_into_posted_insert")
        op.execute("DROP TRIGGER IF EXISTS accounting_line_into_posted_update")
        return
    for table in ("accounting_entry", "accounting_line"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lock_date ON {table}")
    op.execute("DROP TRIGGER IF EXISTS accounting_line_into_posted ON accounting_line")
    op.execute("DROP FUNCTION IF EXISTS accounting_lock_date_guard()")
    op.execute("DROP FUNCTION IF EXISTS accounting_line_into_posted_guard()")


def downgrade() -> None:
    _drop_guards()
    drop_immutable_trigger("accounting_line")
    drop_immutable_trigger("accounting_entry")
    # break the cycle between fiscal years and entries before dropping either
    op.execute("UPDATE accounting_fiscal_year SET closing_entry_id = NULL")
    if not _sqlite():
        op.drop_constraint(op.f(CLOSING_FK), "accounting_fiscal_year", type_="foreignkey")
    op.drop_index("ix_accounting_line_state_date", table_name="accounting_line")
    op.drop_index("ix_accounting_line_party_account", table_name="accounting_line")
    op.drop_index(op.f("ix_accounting_line_entry_id"), table_name="accounting_line")
    op.drop_index("ix_accounting_line_account_state_date", table_name="accounting_line")
    op.drop_table("accounting_line")
    op.drop_table("accounting_journal_sequence")
    op.drop_index("ix_accounting_entry_journal_state_date", table_name="accounting_entry")
    op.drop_table("accounting_entry")
    op.drop_table("accounting_config")
    op.drop_table("accounting_tax")
    op.drop_index(op.f("ix_accounting_period_start_date"), table_name="accounting_period")
    op.drop_index(op.f("ix_accounting_period_fiscal_year_id"), table_name="accounting_period")
    op.drop_table("accounting_period")
    op.drop_table("accounting_journal")
    op.drop_table("accounting_exchange_rate")
    op.drop_table("accounting_fiscal_year")
    op.drop_table("accounting_currency")
    op.drop_index(op.f("ix_accounting_account_parent_id"), table_name="accounting_account")
    op.drop_table("accounting_account")
