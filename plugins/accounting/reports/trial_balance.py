"""The trial balance: per account the opening balance, debits, credits and closing balance of a range."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from plugins.accounting.ledger.models import Account, Line
from plugins.accounting.reports.figures import (
    TreeRow, ZERO, as_money, chart_tree, check_range, is_posted, money_sum, tree_rows,
)

@dataclass
class TrialBalance:
    """Per account: balance before ``date_from``, debits and credits in the range, balance at ``date_to``."""

    date_from: date
    date_to: date
    rows: list[TreeRow]  # values: opening, debit, credit, closing
    totals: list[Decimal]
    rolled_up: bool


def account_figures_statements(date_from: date, date_to: date, dialect: str) -> list:
    """The trial balance's aggregates over the posted lines, each row (account id, opening,
    debit, credit): the balance before ``date_from``, and the debits and credits from it to
    ``date_to``.

    PostgreSQL reads the lines once, in one GROUP BY with FILTER clauses. SQLite runs two plain
    GROUP BYs, one per date range: each seeks its range in ``ix_accounting_line_account_state_date``
    and sums without testing every line's date again, which is about twice as fast there.
    """
    if dialect == "postgresql":
        before, since = Line.date < date_from, Line.date >= date_from
        return [select(Line.account_id,
                       as_money(func.coalesce(func.sum(Line.debit - Line.credit).filter(before), 0)),
                       as_money(func.coalesce(func.sum(Line.debit).filter(since), 0)),
                       as_money(func.coalesce(func.sum(Line.credit).filter(since), 0)))
                .where(is_posted(), Line.date <= date_to).group_by(Line.account_id)]
    zero = as_money(literal(0))
    return [select(Line.account_id, money_sum(Line.debit - Line.credit), zero, zero)
            .where(is_posted(), Line.date < date_from).group_by(Line.account_id),
            select(Line.account_id, zero, money_sum(Line.debit), money_sum(Line.credit))
            .where(is_posted(), Line.date >= date_from, Line.date <= date_to).group_by(Line.account_id)]


def account_figures(db: Session, date_from: date, date_to: date) -> dict[int, list[Decimal]]:
    """{account id: [opening, debit, credit, closing]} for every account with posted lines up to ``date_to``."""
    figures: dict[int, list[Decimal]] = {}
    for stmt in account_figures_statements(date_from, date_to, db.get_bind().dialect.name):
        for account_id, opening, debit, credit in db.execute(stmt):
            known = figures.setdefault(account_id, [ZERO, ZERO, ZERO])
            figures[account_id] = [known[0] + opening, known[1] + debit, known[2] + credit]
    return {account_id: [opening, debit, credit, opening + debit - credit]
            for account_id, (opening, debit, credit) in figures.items()}


def trial_balance(db: Session, date_from: date, date_to: date, *, roll_up: bool = False) -> TrialBalance:
    """The trial balance for a range; with ``roll_up`` the parent accounts show their subtree's sums.

    The totals add the postable accounts only, so they are the same either way; opening and
    closing totals are zero in a balanced ledger.
    """
    check_range(date_from, date_to)
    figures = account_figures(db, date_from, date_to)
    totals = [sum((v[i] for v in figures.values()), ZERO) for i in range(4)]
    if roll_up:
        rows = tree_rows(chart_tree(db), figures, 4)
    else:
        accounts = {a.id: a for a in db.execute(select(Account).where(Account.id.in_(figures))).scalars()}
        rows = [TreeRow(a.id, a.code, a.name, a.type, 0, False, figures[a.id])
                for a in sorted(accounts.values(), key=lambda a: a.code)]
    return TrialBalance(date_from, date_to, rows, totals, roll_up)
