"""The dashboard's figures: the monthly result, the cash position at month ends and the cash balances."""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from plugins.accounting.ledger.models import Account, Line
from plugins.accounting.reports.figures import ZERO, add_months, is_posted, money_sum, not_closing

def _month_key(db: Session):
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(Line.date, "YYYY-MM")
    return func.substr(Line.date, 1, 7)


def last_months(today: date, count: int = 12) -> list[tuple[date, date]]:
    """The (first day, last day) of the ``count`` months up to and including ``today``'s."""
    first = date(today.year, today.month, 1)
    months = []
    for back in range(count - 1, -1, -1):
        start = add_months(first, -back)
        months.append((start, date(start.year, start.month, monthrange(start.year, start.month)[1])))
    return months


def monthly_result(db: Session, today: date, count: int = 12) -> list[tuple[date, Decimal, Decimal]]:
    """(month, income, expenses) for the last ``count`` months: one GROUP BY month."""
    months = last_months(today, count)
    key = _month_key(db)
    stmt = (select(key, Account.type, money_sum(Line.credit - Line.debit))
            .join(Account, Account.id == Line.account_id)
            .where(is_posted(), Line.date >= months[0][0], Line.date <= months[-1][1],
                   Account.type.in_(("income", "expense")), not_closing())
            .group_by(key, Account.type))
    found = {(month, kind): amount for month, kind, amount in db.execute(stmt)}
    return [(start, found.get((start.strftime("%Y-%m"), "income"), ZERO),
             -found.get((start.strftime("%Y-%m"), "expense"), ZERO)) for start, _end in months]


def _cash_accounts():
    return select(Account.id).where(Account.kind.in_(("bank", "cash")))


def cash_position(db: Session, today: date, count: int = 12) -> list[tuple[date, Decimal]]:
    """(month end, balance of the bank and cash accounts) for the last ``count`` months."""
    months = last_months(today, count)
    key = _month_key(db)
    on_cash = Line.account_id.in_(_cash_accounts())
    opening = db.execute(select(money_sum(Line.debit - Line.credit))
                         .where(on_cash, is_posted(), Line.date < months[0][0])).scalar_one()
    stmt = (select(key, money_sum(Line.debit - Line.credit))
            .where(on_cash, is_posted(), Line.date >= months[0][0], Line.date <= months[-1][1]).group_by(key))
    moves = dict(db.execute(stmt).all())
    balances, balance = [], opening
    for start, end in months:
        balance += moves.get(start.strftime("%Y-%m"), ZERO)
        balances.append((end, balance))
    return balances


@dataclass
class CashAccount:
    """A bank or cash account and its balance."""

    account_id: int
    code: str
    name: str
    balance: Decimal


def cash_balances(db: Session, on: date) -> list[CashAccount]:
    """The balance of each bank and cash account at ``on``."""
    stmt = (select(Account.id, Account.code, Account.name, money_sum(Line.debit - Line.credit))
            .join(Line, and_(Line.account_id == Account.id, is_posted(), Line.date <= on), isouter=True)
            .where(Account.kind.in_(("bank", "cash")), Account.postable.is_(True))
            .group_by(Account.id, Account.code, Account.name).order_by(Account.code))
    return [CashAccount(*row) for row in db.execute(stmt)]
