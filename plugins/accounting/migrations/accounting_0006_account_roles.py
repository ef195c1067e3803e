"""accounting: the accounts postings need, mapped by role in one table

``accounting_config`` held one column per account accounting posts to by default (receivable,
payable, retained earnings, exchange gain and loss, rounding). Other modules need accounts too
(stock, payroll …), so the mapping becomes rows: ``accounting_account_role (role, account_id)``,
a role being a key such as ``accounting.receivable`` that a module declares. The columns' values
move into it and the columns go (SQLite rebuilds the table in batch mode, keeping its rows; the
lock-date triggers that read the table are dropped for the rebuild and made again as they were).

Revision ID: accounting_0006
Revises: accounting_0005
Create Date: 2026-12-07 04:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "accounting_0006"
down_revision = "accounting_0005"
branch_labels = None
depends_on = None

#: accounting_config column → the role it becomes
COLUMNS = {
    "receivable_account_id": "accounting.receivable",
    "payable_account_id": "accounting.payable",
    "retained_earnings_account_id": "accounting.retained_earnings",
    "exchange_gain_account_id": "accounting.exchange_gain",
    "exchange_loss_account_id": "accounting.exchange_loss",
    "rounding_account_id": "accounting.rounding",
}


LOCKED = "accounting: on or before the lock date"
#: SQLite's lock-date triggers (accounting_0001) read accounting_config: a table rebuild must not see them
LOCK_TRIGGERS = [(table, verb) for table in ("accounting_entry", "accounting_line") for verb in ("INSERT", "UPDATE")]


def _fk(column: str) -> str:
    return f"fk_accounting_config_{column}"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_lock_triggers() -> None:
    for table, verb in LOCK_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lock_date_{verb.lower()}")


def _create_lock_triggers() -> None:
    lock = "(SELECT lock_date FROM accounting_config WHERE id = 1)"
    for table, verb in LOCK_TRIGGERS:
        op.execute(f"CREATE TRIGGER {table}_lock_date_{verb.lower()} BEFORE {verb} ON {table} FOR EACH ROW "
                   f"WHEN NEW.date <= {lock} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END")


def _rebuilding_config():
    """``op.batch_alter_table("accounting_config")``, with SQLite's lock-date triggers out of the way."""
    from contextlib import contextmanager

    @contextmanager
    def rebuild():
        if _sqlite():
            _drop_lock_triggers()
        with op.batch_alter_table("accounting_config") as batch:
            yield batch
        if _sqlite():
            _create_lock_triggers()

    return rebuild()


def upgrade() -> None:
    roles = op.create_table(
        "accounting_account_role",
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounting_account.id"],
                                name=op.f("fk_accounting_account_role_account_id_accounting_account")),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_accounting_account_role")),
    )
    bind = op.get_bind()
    config = bind.execute(sa.text("SELECT " + ", ".join(COLUMNS) + " FROM accounting_config WHERE id = 1")).first()
    if config is not None:
        rows = [{"role": role, "account_id": value} for role, value in zip(COLUMNS.values(), config)
                if value is not None]
        if rows:
            op.bulk_insert(roles, rows)
    # each column's foreign key goes first (PostgreSQL would drop it with the column; a SQLite rebuild
    # would keep it naming a column that is gone), found by what it constrains whatever it is called
    names = [fk["name"] for fk in sa.inspect(bind).get_foreign_keys("accounting_config")
             if fk["name"] and set(fk["constrained_columns"]) <= set(COLUMNS)]
    with _rebuilding_config() as batch:
        for name in names:
            batch.drop_constraint(name, type_="foreignkey")
        for column in COLUMNS:
            batch.drop_column(column)


def downgrade() -> None:
    with _rebuilding_config() as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch.create_foreign_key(_fk(column), "accounting_account", [column], ["id"])
    bind = op.get_bind()
    mapped = dict(bind.execute(sa.text("SELECT role, account_id FROM accounting_account_role")).all())
    values = {column: mapped.get(role) for column, role in COLUMNS.items()}
    if any(value is not None for value in values.values()):
        bind.execute(sa.text("UPDATE accounting_config SET " + ", ".join(f"{c} = :{c}" for c in COLUMNS)
                             + " WHERE id = 1"), values)
    op.drop_table("accounting_account_role")
