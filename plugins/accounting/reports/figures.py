"""What every report shares: money sums over posted lines, the chart as a tree, periods and comparisons.

Every figure is a SQL aggregate over ``accounting_line`` restricted to ``state = 'posted'`` (the index
``ix_accounting_line_account_state_date`` serves each per-account query); Python only walks the chart of
accounts (hundreds of rows) to roll balances up the parent tree, never the lines themselves.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from core import KontorError, Money, gettext as _

from plugins.accounting.ledger.models import POSTED, Account, FiscalYear, Line

ZERO = Decimal("0.00")
COMPARISONS = ("none", "previous", "year", "custom")


def as_money(expr):
    """``expr`` read as company money (scaled integers on SQLite, NUMERIC on PostgreSQL)."""
    return type_coerce(expr, Money())


def money_sum(expr):
    """The exact sum of a money expression, zero when there are no rows."""
    return as_money(func.coalesce(func.sum(expr), 0))


def is_posted():
    return Line.state == POSTED


# --------------------------------------------------------------------------------------------
# The chart as a tree
# --------------------------------------------------------------------------------------------

@dataclass
class ChartNode:
    """An account with its place in the tree (depth counts from the top)."""

    account: Account
    depth: int
    children: list[ChartNode] = field(default_factory=list)


def chart_tree(db: Session) -> list[ChartNode]:
    """The chart of accounts as a forest of nodes ordered by code."""
    accounts = list(db.execute(select(Account).order_by(Account.code)).scalars())
    nodes = {a.id: ChartNode(a, 0) for a in accounts}
    roots: list[ChartNode] = []
    for account in accounts:
        node = nodes[account.id]
        parent = nodes.get(account.parent_id) if account.parent_id else None
        (parent.children if parent else roots).append(node)

    def set_depth(items: list[ChartNode], depth: int) -> None:
        for item in items:
            item.depth = depth
            set_depth(item.children, depth + 1)

    set_depth(roots, 0)
    return roots


@dataclass
class TreeRow:
    """A row of a report laid out on the chart: an account with its figures (a group sums its descendants)."""

    account_id: int
    code: str
    name: str
    type: str
    depth: int
    is_group: bool
    values: list[Decimal]


def tree_rows(roots: list[ChartNode], figures: dict[int, list[Decimal]], width: int, *,
               types: tuple[str, ...] | None = None) -> list[TreeRow]:
    """Depth-first rows of the accounts with non-zero figures, each group before its children and
    summing them; ``types`` keeps the accounts of those types only."""

    def visit(node: ChartNode) -> tuple[list[Decimal] | None, list[TreeRow]]:
        account = node.account
        own = figures.get(account.id)
        totals = list(own) if own else [ZERO] * width
        seen, below = own is not None, []
        for child in node.children:
            child_totals, child_rows = visit(child)
            if child_totals is not None:
                seen = True
                totals = [a + b for a, b in zip(totals, child_totals)]
            below.extend(child_rows)
        if not seen:
            return None, []
        if (types is None or account.type in types) and any(totals):
            row = TreeRow(account.id, account.code, account.name, account.type, node.depth,
                          bool(node.children) or not account.postable, totals)
            below.insert(0, row)
        return totals, below

    return [row for root in roots for row in visit(root)[1]]


# --------------------------------------------------------------------------------------------
# Dates and comparison periods
# --------------------------------------------------------------------------------------------

def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range that ends before it starts."""
    if date_from and date_to and date_to < date_from:
        raise KontorError(_("The end date is before the start date."), field="date_to")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _whole_months(date_from: date, date_to: date) -> int | None:
    """How many whole calendar months the range covers exactly, or None."""
    if date_from.day != 1 or date_to.day != monthrange(date_to.year, date_to.month)[1]:
        return None
    return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1


def comparison_range(date_from: date, date_to: date, mode: str, custom_from: date | None = None,
                     custom_to: date | None = None) -> tuple[date, date] | None:
    """The comparison period of a range: ``previous`` (the period just before, of the same length),
    ``year`` (the same dates a year earlier), ``custom`` (the given dates) or ``none``."""
    if mode in (None, "", "none"):
        return None
    if mode == "previous":
        months = _whole_months(date_from, date_to)
        if months:
            start = add_months(date_from, -months)
            end = add_months(start, months) - timedelta(days=1)
            return start, end
        length = date_to - date_from
        end = date_from - timedelta(days=1)
        return end - length, end
    if mode == "year":
        end = add_months(date_to, -12)
        if _whole_months(date_from, date_to):
            end = date(end.year, end.month, monthrange(end.year, end.month)[1])
        return add_months(date_from, -12), end
    if mode == "custom":
        if custom_from is None:
            raise KontorError(_("Give the start of the comparison period."), field="compare_from")
        if custom_to is None:
            raise KontorError(_("Give the end of the comparison period."), field="compare_to")
        if custom_to < custom_from:
            raise KontorError(_("The comparison period ends before it starts."), field="compare_to")
        return custom_from, custom_to
    raise KontorError(_("Choose a comparison: none, previous period, previous year or custom."), field="compare")


def fiscal_year_start(db: Session, day: date) -> date:
    """The first day of the fiscal year containing ``day`` (1 January when no fiscal year covers it)."""
    start = db.execute(select(FiscalYear.start_date).where(FiscalYear.start_date <= day, FiscalYear.end_date >= day)
                       ).scalar_one_or_none()
    return start or date(day.year, 1, 1)


def not_closing():
    """Leave out the year-end closing entries: they move a year's result, they are not income or expense."""
    closing = select(FiscalYear.closing_entry_id).where(FiscalYear.closing_entry_id.is_not(None))
    return Line.entry_id.not_in(closing)


def party_names(db: Session, ids: set[int]) -> dict[int, str]:
    from core import Party  # the core's master data, read only

    if not ids:
        return {}
    return dict(db.execute(select(Party.id, Party.name).where(Party.id.in_(ids))).all())


def subtree_ids(db: Session, account: Account) -> list[int]:
    """The account and every account below it."""
    children: dict[int | None, list[int]] = {}
    for account_id, parent_id in db.execute(select(Account.id, Account.parent_id)):
        children.setdefault(parent_id, []).append(account_id)
    found, todo = [], [account.id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found
