"""The profit and loss and the balance sheet, with an optional comparison column (they share the
sections)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from core import gettext as _

from plugins.accounting.ledger.models import Account, Line
from plugins.accounting.reports.figures import (
    ChartNode, TreeRow, ZERO, chart_tree, check_range, comparison_range, fiscal_year_start, is_posted, money_sum,
    not_closing, tree_rows,
)

@dataclass
class Section:
    """A part of a statement (income, expenses, assets …): rows on the chart and their total."""

    key: str
    title: str
    total_title: str
    rows: list[TreeRow]  # values: [amount] or [amount, comparison]
    total: list[Decimal]


@dataclass
class Statement:
    """A profit and loss statement or a balance sheet, with an optional comparison column."""

    kind: str
    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    sections: list[Section]
    result: list[Decimal]  # P&L: the result; balance sheet: assets − liabilities − equity (zero)

    @property
    def columns(self) -> int:
        return 2 if self.compare else 1




def _balances_by_account(db: Session, date_from: date | None, date_to: date, *,
                         without_closing: bool = False) -> dict[int, Decimal]:
    """{account id: Σ(debit − credit)} of the posted lines in the range (from the beginning when no start)."""
    stmt = select(Line.account_id, money_sum(Line.debit - Line.credit)).where(is_posted(), Line.date <= date_to)
    if date_from is not None:
        stmt = stmt.where(Line.date >= date_from)
    if without_closing:
        stmt = stmt.where(not_closing())
    return dict(db.execute(stmt.group_by(Line.account_id)).all())


def _columns(per_period: list[dict[int, Decimal]], accounts: dict[int, Account], types: tuple[str, ...],
             sign: int) -> dict[int, list[Decimal]]:
    figures: dict[int, list[Decimal]] = {}
    for index, balances in enumerate(per_period):
        for account_id, amount in balances.items():
            account = accounts.get(account_id)
            if account is None or account.type not in types:
                continue
            figures.setdefault(account_id, [ZERO] * len(per_period))[index] = sign * amount
    return figures


def _section(key: str, titles: tuple[str, str], roots: list[ChartNode], per_period: list[dict[int, Decimal]],
             accounts: dict[int, Account], types: tuple[str, ...], sign: int) -> Section:
    """A statement section: the accounts of ``types`` with their balances times ``sign``, per period."""
    figures, width = _columns(per_period, accounts, types, sign), len(per_period)
    total = [sum((v[i] for v in figures.values()), ZERO) for i in range(width)]
    return Section(key, *titles, tree_rows(roots, figures, width, types=types), total)


def profit_and_loss(db: Session, date_from: date, date_to: date, *, compare: str = "none",
                    compare_from: date | None = None, compare_to: date | None = None) -> Statement:
    """Income and expenses of a range grouped by account type and parent, with the result
    (income − expenses) and optionally the same for a comparison period."""
    check_range(date_from, date_to)
    other = comparison_range(date_from, date_to, compare, compare_from, compare_to)
    periods = [(date_from, date_to)] + ([other] if other else [])
    per_period = [_balances_by_account(db, start, end, without_closing=True) for start, end in periods]
    accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
    roots = chart_tree(db)
    income = _section("income", (_("Income"), _("Total income")), roots, per_period, accounts, ("income",), -1)
    expense = _section("expense", (_("Expenses"), _("Total expenses")), roots, per_period, accounts, ("expense",), 1)
    result = [i - e for i, e in zip(income.total, expense.total)]
    return Statement("profit_and_loss", date_from, date_to, other, [income, expense], result)


def balance_sheet(db: Session, date_to: date, *, date_from: date | None = None, compare: str = "none",
                  compare_from: date | None = None, compare_to: date | None = None) -> Statement:
    """Assets, liabilities and equity at ``date_to`` (and at the comparison period's end).

    Income and expenses not yet moved to retained earnings by a year-end close appear in equity
    as the unallocated result: the current fiscal year's, and earlier years' when they are not
    closed, so that assets always equal liabilities plus equity.
    """
    date_from = date_from or fiscal_year_start(db, date_to)
    check_range(date_from, date_to)
    other = comparison_range(date_from, date_to, compare, compare_from, compare_to)
    ends = [date_to] + ([other[1]] if other else [])
    per_period = [_balances_by_account(db, None, end) for end in ends]
    accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
    roots = chart_tree(db)
    assets = _section("assets", (_("Assets"), _("Total assets")), roots, per_period, accounts, ("asset",), 1)
    liabilities = _section("liabilities", (_("Liabilities"), _("Total liabilities")), roots, per_period, accounts,
                           ("liability",), -1)
    equity = _section("equity", (_("Equity"), _("Total equity")), roots, per_period, accounts, ("equity",), -1)
    current, earlier = [], []
    for end in ends:
        year_start = fiscal_year_start(db, end)
        this_year, before = db.execute(
            select(money_sum(case((Line.date >= year_start, Line.credit - Line.debit), else_=0)),
                   money_sum(case((Line.date < year_start, Line.credit - Line.debit), else_=0)))
            .join(Account, Account.id == Line.account_id)
            .where(is_posted(), Line.date <= end, Account.type.in_(("income", "expense")))).one()
        current.append(this_year)
        earlier.append(before)
    if any(earlier):
        equity.rows.append(TreeRow(0, "", _("Unallocated result of earlier years"), "equity", 0, False, earlier))
    equity.rows.append(TreeRow(0, "", _("Result of the current year"), "equity", 0, False, current))
    equity.total = [t + c + e for t, c, e in zip(equity.total, current, earlier)]
    difference = [a - l - e for a, l, e in zip(assets.total, liabilities.total, equity.total)]
    return Statement("balance_sheet", date_from, date_to, other, [assets, liabilities, equity], difference)
